/**
 * Runs async operations one after another per key, and concurrently across keys. The registry
 * keys by device: each operation decides on the state the previous one for that device left
 * (a reconnect's facts diff, a disconnect checking its session is still the live one), while
 * thousands of devices proceed in parallel. A key holds an entry only while it has work queued.
 */
const noop = (): void => undefined;

export class KeyedSerial {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier operation on `key` has settled (whether it failed or not). */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(fn) : fn();
    const tail = result.then(noop, noop);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }

  /** Resolves when nothing is queued or running, including work queued while waiting. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
