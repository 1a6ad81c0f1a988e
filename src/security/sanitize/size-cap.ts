/**
 * Stage 4 of traceback sanitizing: the UTF-8 size cap, which keeps head and tail around a
 * `... [N bytes removed] ...` marker. It runs last so that a cut can never leave half a secret
 * that the masking rules no longer see.
 */
import { isHighSurrogate, isLowSurrogate } from './surrogates.js'

/**
 * Upper bound on a stored traceback, in UTF-8 bytes: 64 KiB.
 *
 * That holds several hundred frames, more than any real Python or Node
 * traceback including long chains of "During handling of the above
 * exception" blocks, yet keeps a pathological payload (a dumped request body,
 * a runaway recursion) from bloating the events table. Nova keeps tracebacks
 * in a TEXT column (`instance_actions_events.traceback`), 65535 bytes on
 * MySQL: a store that mirrors that schema on MySQL should pass
 * `maxBytes: 65535`.
 */
export const MAX_TRACEBACK_BYTES = 65536

/**
 * Resolves the `maxBytes` option: {@link MAX_TRACEBACK_BYTES} when missing, `Infinity` kept,
 * anything else rounded down.
 *
 * @param value - The option as given.
 * @returns The cap in bytes.
 * @throws RangeError when `value` is negative or NaN.
 */
export function resolveMaxBytes(value: number | undefined): number {
  if (value === undefined) return MAX_TRACEBACK_BYTES
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`maxBytes must be a non-negative number, got ${value}`)
  }
  return value === Infinity ? value : Math.floor(value)
}

/**
 * Share of the budget kept from the head. The tail gets the rest: a Python
 * traceback ends with the innermost frames and the exception, which matter
 * most; the head still shows the outer frames (and a Node error's message).
 */
const HEAD_SHARE = 0.25

function markerFor(removedBytes: number): string {
  return `\n... [${removedBytes} bytes removed] ...\n`
}

/** UTF-8 size of the code point ending or starting at a position, and its length in code units. */
function utf8Size(code: number, pairs: boolean): { bytes: number; units: number } {
  if (code < 0x80) return { bytes: 1, units: 1 }
  if (code < 0x800) return { bytes: 2, units: 1 }
  return pairs ? { bytes: 4, units: 2 } : { bytes: 3, units: 1 }
}

/** Largest index such that `text.slice(0, index)` fits in `budget` bytes and ends on a code point. */
function headCut(text: string, budget: number): number {
  let bytes = 0
  let i = 0
  while (i < text.length) {
    const code = text.charCodeAt(i)
    const size = utf8Size(code, isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1)))
    if (bytes + size.bytes > budget) break
    bytes += size.bytes
    i += size.units
  }
  return i
}

/** Smallest index such that `text.slice(index)` fits in `budget` bytes and starts on a code point. */
function tailCut(text: string, budget: number): number {
  let bytes = 0
  let i = text.length
  while (i > 0) {
    const code = text.charCodeAt(i - 1)
    const size = utf8Size(
      code,
      isLowSurrogate(code) && i >= 2 && isHighSurrogate(text.charCodeAt(i - 2)),
    )
    if (bytes + size.bytes > budget) break
    bytes += size.bytes
    i -= size.units
  }
  return i
}

function isBlank(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n'
}

/**
 * Keeps head and tail with a marker between them. Cuts move to a line break
 * (or failing that a blank) when one is near, so that neither side starts or
 * ends with a fragment of a path or a mask that a second pass would rewrite.
 *
 * Text within `maxBytes` is returned as is; a cap too small to hold the marker
 * twice keeps only the head (the size-cap rule on `sanitizeTraceback`).
 *
 * @param text - Sanitized text, any size.
 * @param maxBytes - Cap in UTF-8 bytes, from {@link resolveMaxBytes}.
 * @returns The text, at most `maxBytes` UTF-8 bytes.
 */
export function capBytes(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8')
  if (total <= maxBytes) return text
  // The marker is reserved at its largest: it never reports more than `total` bytes removed.
  const reserve = Buffer.byteLength(markerFor(total), 'utf8')
  if (maxBytes < reserve * 2) return text.slice(0, headCut(text, maxBytes))

  const budget = maxBytes - reserve
  const headBudget = Math.floor(budget * HEAD_SHARE)
  let head = headCut(text, headBudget)
  let tail = tailCut(text, budget - headBudget)

  const headFloor = Math.floor(head / 2)
  const newlineBeforeCut = text.lastIndexOf('\n', head)
  if (newlineBeforeCut >= headFloor) {
    head = newlineBeforeCut
  } else {
    let k = head
    while (k > headFloor && !isBlank(text[k])) k--
    if (k > headFloor) head = k
  }
  const tailCeiling = tail + Math.floor((text.length - tail) / 2)
  const newlineAfterCut = text.indexOf('\n', Math.max(tail - 1, 0))
  if (newlineAfterCut !== -1 && newlineAfterCut + 1 <= tailCeiling) {
    tail = newlineAfterCut + 1
  } else {
    let k = tail
    while (k < tailCeiling && !isBlank(text[k - 1])) k++
    if (k < tailCeiling) tail = k
  }

  const headText = text.slice(0, head)
  const tailText = text.slice(tail)
  const removed = total - Buffer.byteLength(headText, 'utf8') - Buffer.byteLength(tailText, 'utf8')
  return headText + markerFor(removed) + tailText
}

/**
 * Keeps the head of the text within `maxBytes`, cut on a code point, with no marker: for short
 * public text such as `details`, where a marker would eat most of the budget.
 *
 * @param text - Sanitized text, any size.
 * @param maxBytes - Cap in UTF-8 bytes, from {@link resolveMaxBytes}.
 * @returns The text, at most `maxBytes` UTF-8 bytes.
 */
export function capHead(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3 || Buffer.byteLength(text, 'utf8') <= maxBytes) return text
  return text.slice(0, headCut(text, maxBytes))
}
