/**
 * Line-end lookup shared by the secret rules, which never let a value or an escaped key run past
 * the end of its line.
 */

/** Finds the end of the line holding a position. */
export type LineEnd = (pos: number) => number

/**
 * A {@link LineEnd} that remembers the last line it found. Scans ask for
 * ever-later positions on the same line; searching from scratch each time
 * would be quadratic on a long line without newlines.
 */
export function lineEndFinder(text: string): LineEnd {
  let start = 0
  let end = -1
  return (pos) => {
    // [start, end) holds no newline, so for any pos inside it the answer is still `end`.
    if (pos < start || pos > end) {
      const newline = text.indexOf('\n', pos)
      start = pos
      end = newline === -1 ? text.length : newline
    }
    return end
  }
}
