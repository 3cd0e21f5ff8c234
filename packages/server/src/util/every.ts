/**
 * Runs `task` every `ms` without keeping the process alive; a failure goes to `onError`. Returns what
 * stops it.
 */
export function every(
  ms: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): () => void {
  const timer = setInterval(() => task().catch(onError), ms);
  timer.unref();
  return () => clearInterval(timer);
}
