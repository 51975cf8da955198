import WebSocket from 'ws';

/**
 * A small WebSocket client for tests: connects, keeps every JSON frame received, and waits (with
 * a bounded timeout, never a sleep) for the next frame that matches. Used by the hub's own tests.
 */
export class TestSocket {
  readonly frames: unknown[] = [];
  private readonly waiters: Array<{ match: (f: unknown) => boolean; resolve: (f: unknown) => void }> = [];
  private consumed = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame: unknown = JSON.parse(data.toString());
      this.frames.push(frame);
      for (let i = 0; i < this.waiters.length; i++) {
        const w = this.waiters[i];
        if (w && w.match(frame)) {
          this.waiters.splice(i, 1);
          w.resolve(frame);
          return;
        }
      }
    });
  }

  static async connect(url: string, timeoutMs = 5000): Promise<TestSocket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection to ${url} within ${timeoutMs} ms`)), timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return new TestSocket(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /**
   * The first frame not yet returned by `next` that matches, waiting for it if needed. Frames
   * skipped over stay in `frames` for inspection.
   */
  next<T = Record<string, unknown>>(match: (frame: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
    for (let i = this.consumed; i < this.frames.length; i++) {
      if (match(this.frames[i] as T)) {
        this.consumed = i + 1;
        return Promise.resolve(this.frames[i] as T);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match: (f: unknown) => match(f as T),
        resolve: (f: unknown) => {
          clearTimeout(timer);
          this.consumed = this.frames.length;
          resolve(f as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        const got = JSON.stringify(this.frames.slice(this.consumed));
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms; got ${got.length > 500 ? `${got.slice(0, 500)}…` : got}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Frames of type `message` received so far. */
  messages(): Array<{ subject: string; data: unknown }> {
    return this.frames.filter((f) => (f as { type?: string }).type === 'message') as Array<{
      subject: string;
      data: unknown;
    }>;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
