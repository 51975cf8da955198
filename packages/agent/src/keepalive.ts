/**
 * The injected clock's timers are unref'd (a hub or a test must be able to exit with timers
 * pending), so while an agent waits to reconnect nothing would keep Node running and a
 * `flotilla-agent` process would quietly exit. A running agent holds the process open through
 * this one shared, ref'd timer: one for the whole process however many agents it runs.
 */
let holders = 0;
let timer: NodeJS.Timeout | undefined;

/** Keeps the process alive until the returned function is called (idempotent). */
export function holdProcess(): () => void {
  if (holders++ === 0) timer = setInterval(() => {}, 2 ** 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
