/**
 * Scanning of quoted string literals in a value: where a quoted value opens and closes, and the
 * string literals of a list value. Every scan stays on one line or within a fixed budget.
 */
import type { LineEnd } from './line-end.js'

/** Characters that open and close a string literal in a value. */
const QUOTES = new Set(['"', "'", '`'])

/** A half-open range of the text, `[start, end)`, to replace with the mask. */
export interface Span {
  /** Index of the first character to mask. */
  start: number
  /** Index just past the last character to mask. */
  end: number
}

/** The opening quote of a value at `pos`, if any: `'`, `"`, `` ` ``, `\"`, or Python's `b'`. */
export function openingQuote(
  text: string,
  pos: number,
): { delimiter: string; contentStart: number } | undefined {
  let i = pos
  if ('bBuUrRfF'.includes(text[i] ?? '') && QUOTES.has(text[i + 1] ?? '')) i++
  // Escaped once (`\"`, JSON in a string) or up to three times (JSON in JSON in a string).
  let q = i
  while (q < i + 3 && text[q] === '\\') q++
  if (q > i && QUOTES.has(text[q] ?? '')) {
    return { delimiter: text.slice(i, q + 1), contentStart: q + 1 }
  }
  const char = text[i] ?? ''
  return QUOTES.has(char) ? { delimiter: char, contentStart: i + 1 } : undefined
}

/** Index of the closing delimiter on the same line, skipping backslash escapes; -1 if none. */
export function closingQuote(
  text: string,
  from: number,
  lineEnd: number,
  delimiter: string,
): number {
  if (delimiter.length >= 2) {
    for (let j = from; j <= lineEnd - delimiter.length; j++) {
      if (text[j] === '\\' && text.startsWith(delimiter, j)) return j
    }
    return -1
  }
  for (let j = from; j < lineEnd; j++) {
    const char = text[j]
    if (char === '\\') j++
    // SQL and YAML write a quote inside single quotes doubled: 'it''s'.
    else if (char === delimiter && delimiter === "'" && text[j + 1] === "'" && j > from) j++
    else if (char === delimiter) return j
  }
  return -1
}

/** Most characters a list value under a sensitive key is scanned for; bounds the work per key. */
const MAX_LIST_SCAN = 16384

/** Characters around and between list items, never part of an unquoted item. */
const LIST_BLANKS = new Set([' ', '\t', '\n', '\r', ','])

/**
 * Every non-empty item inside a `[...]` value starting at `pos`, and where the list ends: the
 * content of each string literal, and each unquoted item (`fernet_keys=[k1, k2]`) without the
 * blanks around it.
 */
export function listStringSpans(
  text: string,
  pos: number,
  lineEndAt: LineEnd,
): { spans: Span[]; end: number } {
  const spans: Span[] = []
  const limit = Math.min(text.length, pos + MAX_LIST_SCAN)
  let j = pos + 1
  while (j < limit) {
    const char = text[j] ?? ''
    if (char === ']') return { spans, end: j + 1 }
    if (!LIST_BLANKS.has(char) && !QUOTES.has(char)) {
      const start = j
      while (
        j < limit &&
        !LIST_BLANKS.has(text[j] ?? '') &&
        text[j] !== ']' &&
        !QUOTES.has(text[j] ?? '')
      ) {
        j++
      }
      spans.push({ start, end: j })
      continue
    }
    if (QUOTES.has(char)) {
      const lineEnd = Math.min(lineEndAt(j + 1), limit)
      let close = closingQuote(text, j + 1, lineEnd, char)
      if (close === -1) close = lineEnd
      if (close > j + 1) spans.push({ start: j + 1, end: close })
      j = close + 1
      continue
    }
    j++
  }
  return { spans, end: limit }
}
