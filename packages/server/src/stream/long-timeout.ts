/** The longest delay Node's `setTimeout` keeps; a longer one overflows and fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `setTimeout` for any delay (a token may be valid for months): waits in steps of at most
 * `MAX_TIMER_MS`. The timer does not keep the process alive. Returns a function that cancels it.
 */
export function setLongTimeout(callback: () => void, ms: number, now: () => number = Date.now): () => void {
  const due = now() + ms;
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = due - now();
    timer = setTimeout(left > MAX_TIMER_MS ? arm : callback, Math.min(Math.max(0, left), MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
