/**
 * Turns a thrown value into Nova-style traceback text: the stack frames only. The first line of a
 * JavaScript stack repeats the error message, which may carry arbitrary (sensitive) text, so it is
 * dropped, as Nova stores no exception message in `traceback`.
 */

/** Stack frames of a thrown value, or null when it carries none. */
export function formatStackFrames(failure: unknown): string | null {
  if (!(failure instanceof Error) || typeof failure.stack !== 'string') return null
  const frames = failure.stack.split('\n').filter((line) => /^\s+at\s/.test(line))
  return frames.length > 0 ? frames.join('\n') : null
}
