/**
 * Stage 1 of traceback sanitizing: newline normalization and removal of control, bidi and
 * zero-width characters and whole ANSI escape sequences, so that nothing invisible can split a key
 * name or hide a secret from the masking rules, or rewrite what a reader sees.
 */
import { isHighSurrogate, isLowSurrogate } from './surrogates.js'

/**
 * Invisible characters that change how text reads without being visible:
 * C0/C1 controls (except tab and newline), DEL, bidi embeddings, overrides
 * and isolates (the "Trojan Source" family), directional marks, zero-width
 * spaces and joiners, and the BOM.
 */
function isDroppedChar(code: number): boolean {
  if (code < 0x20) return code !== 0x09 && code !== 0x0a
  if (code >= 0x7f && code <= 0x9f) return true
  if (code < 0x061c) return false
  return (
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  )
}

/** Index just past a CSI sequence whose parameters start at `from`. */
function skipCsi(text: string, from: number): number {
  let i = from
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x3f) i++
  while (i < text.length && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++
  const final = text.charCodeAt(i)
  return final >= 0x40 && final <= 0x7e ? i + 1 : i
}

/**
 * Index just past an OSC/DCS/APC-style string starting at `from`. It ends at
 * BEL or ST; stopping at a newline keeps a missing terminator from eating the
 * rest of the traceback.
 */
function skipControlString(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x07 || code === 0x9c) return i + 1
    if (code === 0x1b && text.charCodeAt(i + 1) === 0x5c) return i + 2
    if (code === 0x0a) return i
  }
  return text.length
}

/** Index just past the escape sequence introduced by ESC at `at`. */
function skipEscape(text: string, at: number): number {
  const next = text.charCodeAt(at + 1)
  if (next === 0x5b) return skipCsi(text, at + 2) // ESC [
  // ESC ] (OSC), ESC P (DCS), ESC X (SOS), ESC ^ (PM), ESC _ (APC)
  if (next === 0x5d || next === 0x50 || next === 0x58 || next === 0x5e || next === 0x5f) {
    return skipControlString(text, at + 2)
  }
  if (next >= 0x20 && next <= 0x2f) {
    // nF sequences such as ESC ( B: intermediates, then one final byte.
    let i = at + 1
    while (i < text.length && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++
    const final = text.charCodeAt(i)
    return final >= 0x30 && final <= 0x7e ? i + 1 : i
  }
  if (next >= 0x30 && next <= 0x7e) return at + 2 // two-byte Fp/Fe/Fs sequences
  return at + 1
}

/**
 * Normalizes newlines and removes control characters and whole ANSI escape
 * sequences (removing only ESC would leave `[31m` litter). Lone surrogates
 * become U+FFFD so that the text is well-formed and its UTF-8 size is exact.
 */
export function stripControlChars(text: string): string {
  const parts: string[] = []
  let copied = 0
  let i = 0
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code >= 0x20 && code < 0x7f) {
      i++
      continue
    }
    if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1))) {
      i += 2
      continue
    }
    let next: number
    let replacement = ''
    if (code === 0x1b) {
      next = skipEscape(text, i)
    } else if (code === 0x9b) {
      next = skipCsi(text, i + 1)
    } else if (code === 0x9d || code === 0x90 || code === 0x98 || code === 0x9e || code === 0x9f) {
      next = skipControlString(text, i + 1)
    } else if (code === 0x0d) {
      // \r\n and a lone \r (old Mac, progress bars) both become one \n.
      next = i + 1
      replacement = text.charCodeAt(i + 1) === 0x0a ? '' : '\n'
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      next = i + 1
      replacement = '\ufffd'
    } else if (isDroppedChar(code)) {
      next = i + 1
    } else {
      i++
      continue
    }
    parts.push(text.slice(copied, i), replacement)
    i = next
    copied = next
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}
