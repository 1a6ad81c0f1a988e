/**
 * Python's `repr()` of strings and string lists, because Nova's validation messages are built from
 * it and clients may match on them (e.g. `'x' does not match '^[0-9]*$'`).
 */

/** repr() of a str: single quotes unless the text has a single quote and no double quote. */
export function pyRepr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'"
  let out = ''
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0
    if (ch === '\\') out += '\\\\'
    else if (ch === quote) out += `\\${quote}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`
    else if (code >= 0x80 && code <= 0x9f) out += `\\x${code.toString(16).padStart(2, '0')}`
    else out += ch
  }
  return `${quote}${out}${quote}`
}

/** repr() of a list of str, e.g. `['A', 'B']`. */
export function pyListRepr(values: readonly string[]): string {
  return `[${values.map(pyRepr).join(', ')}]`
}

/** Python's `urllib.parse.quote_plus`: spaces as `+`, only `A-Za-z0-9_.-~` left as is. */
export function quotePlus(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
}
