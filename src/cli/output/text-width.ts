/**
 * Display widths and truncation of table cells. string-width counts East Asian wide characters
 * and emoji as two columns and escape sequences as none; truncation cuts whole graphemes
 * (Intl.Segmenter) so that a cell never ends in half a character.
 */
import stringWidth from 'string-width'

const segmenter = new Intl.Segmenter()

/** Columns `text` takes in a terminal. */
export function displayWidth(text: string): number {
  return stringWidth(text)
}

/** `text` cut to at most `width` columns, ending with `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text
  if (width <= 0) return ''
  let out = ''
  let used = 0
  for (const { segment } of segmenter.segment(text)) {
    const w = displayWidth(segment)
    if (used + w > width - 1) break
    out += segment
    used += w
  }
  return `${out}…`
}

/** `text` padded with spaces to `width` columns. */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)))
}
