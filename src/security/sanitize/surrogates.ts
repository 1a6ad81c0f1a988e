/**
 * UTF-16 surrogate tests, shared by the control-character pass and the size cap: both must treat a
 * surrogate pair as one code point and a lone surrogate as a broken one.
 */

/** Whether `code` is a UTF-16 high (leading) surrogate; false for NaN (a read past the end). */
export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/** Whether `code` is a UTF-16 low (trailing) surrogate; false for NaN (a read past the end). */
export function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}
