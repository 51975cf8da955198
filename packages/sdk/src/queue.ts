/**
 * A push-to-pull adapter: a producer pushes values, a `for await` loop pulls them. Values wait in
 * order until pulled; `end()` finishes the iteration once they are drained, `fail(err)` makes
 * the next pull throw. `return()` (a `break` out of the loop) runs `onReturn` once.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: { resolve: (r: IteratorResult<T, undefined>) => void; reject: (err: unknown) => void }[] =
    [];
  private done = false;
  private error: unknown;
  private failed = false;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(value: T): void {
    if (this.done || this.failed) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve({ value, done: false });
    else this.buffer.push(value);
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  fail(err: unknown): void {
    if (this.done || this.failed) return;
    this.failed = true;
    this.error = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** Values pushed but not yet pulled. */
  get size(): number {
    return this.buffer.length;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.failed) {
      this.failed = false;
      this.done = true;
      return Promise.reject(this.error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    if (!this.done) {
      this.done = true;
      this.buffer.length = 0;
      this.onReturn();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
