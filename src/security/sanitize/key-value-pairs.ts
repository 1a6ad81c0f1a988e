/**
 * Masking of values after sensitive keys: `key=value`, `key: value`, `"key": "value"`,
 * `key => value`, `--key value` and their escaped and quoted variants.
 */
import { lineEndFinder, type LineEnd } from './line-end.js'
import { MASK } from './mask.js'
import { closingQuote, listStringSpans, openingQuote, type Span } from './quoted-strings.js'
import { isSensitiveKey, LINE_VALUE_KEYS } from './secret-keys.js'

/**
 * A key (optionally quoted, optionally JSON-escaped, optionally a `--flag`),
 * then a separator. The look-behind makes a key start only at the start of a
 * word (or after a literal `\n` escape, as in a repr'd HTTP request), which
 * keeps the scan linear on long runs of word characters; `/` is excluded so
 * the user of `scheme://token:***@host` is not read as a key.
 */
export const KEY_VALUE_RE = new RegExp(
  /(?:(?<![\w.\-/\\])|(?<=\\[nrt]))/.source + // start of a word, or after a literal \n, \r, \t
    // quote, key, quote; a quote may be escaped once (`\"`) or twice (`\\"`, JSON inside JSON)
    /((?:\\{0,3}["'`])?)(-{0,2}[A-Za-z_$][\w.-]*)((?:\\{0,3}["'`])?)/.source +
    /[ \t]*(=>|:=|=(?!=)|:(?!:))[ \t]*/.source, // separator
  'g',
)

/** CLI flags with a separate value: `--password hunter2`, `--os-token "abc"`. */
export const CLI_FLAG_RE = /(?<![\w-])()(--[A-Za-z][\w-]*)()(?=[ \t]+[^\s-])([ \t]+)/g

/** Unquoted values that are plainly not secrets and carry meaning worth keeping. */
const PLACEHOLDER_VALUES = new Set([
  MASK,
  'None',
  'null',
  'undefined',
  'nil',
  'True',
  'False',
  'true',
  'false',
  'YES',
  'NO',
])

const AUTH_SCHEME_RE =
  /(?:Bearer|Basic|Digest|Token|Negotiate|NTLM|OAuth|AWS4-HMAC-SHA256)[ \t]+(?=\S)/iy
/** A hash label in front of a value, as keystoneauth logs tokens: `{SHA256}3f5e...`. */
const HASH_PREFIX_RE = /\{[A-Za-z0-9-]{1,16}\}/y

/** Characters that end an unquoted value. */
const VALUE_STOP = new Set([...' \t\n\r\f\v,;&()[]{}\'"`<>|\\'])

/**
 * The parts of the value starting at `pos` that must be masked, and where the
 * scan should resume. `unclosedQuote` is the quote that opened the key but did
 * not close it (`-H "Authorization: Bearer x"`): the value ends there.
 */
function findValueSpans(
  text: string,
  pos: number,
  key: string,
  separator: string,
  unclosedQuote: string,
  lineEndAt: LineEnd,
  keyStart = -1,
): { spans: Span[]; resume: number } {
  const none = { spans: [], resume: pos }
  const lineEnd = lineEndAt(pos)
  if (pos >= lineEnd) {
    return separator === ':' && keyStart >= 0
      ? nextLineValue(text, keyStart, lineEnd, lineEndAt)
      : none
  }

  const quote = openingQuote(text, pos)
  if (quote !== undefined) {
    const close = closingQuote(text, quote.contentStart, lineEnd, quote.delimiter)
    // An unterminated string may run on; masking to the end of the line is the safe side.
    const end = close === -1 ? lineEnd : close
    if (end === quote.contentStart) return none
    return { spans: [{ start: quote.contentStart, end }], resume: end }
  }

  const first = text[pos] ?? ''
  if (first === '[') {
    const list = listStringSpans(text, pos, lineEndAt)
    return { spans: list.spans, resume: list.end }
  }

  const bareKey = key.replace(/^[-$]+/, '').toLowerCase()
  if (separator === ':' && LINE_VALUE_KEYS.has(bareKey)) {
    let end = lineEnd
    for (let j = pos; j < lineEnd; j++) {
      // In a repr'd raw request the header line ends at a literal `\r\n`.
      const escapedBreak = text[j] === '\\' && (text[j + 1] === 'r' || text[j + 1] === 'n')
      if (escapedBreak || (unclosedQuote !== '' && text.startsWith(unclosedQuote, j))) {
        end = j
        break
      }
    }
    while (end > pos && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--
    return end > pos ? { spans: [{ start: pos, end }], resume: end } : none
  }

  let start = pos
  if (first === '{') {
    HASH_PREFIX_RE.lastIndex = pos
    const prefix = HASH_PREFIX_RE.exec(text)
    // A real dict: its inner keys are judged on their own.
    if (prefix === null) return none
    start = pos + prefix[0].length
  } else if (first === '(') {
    return none
  }

  let end = start
  AUTH_SCHEME_RE.lastIndex = start
  const scheme = AUTH_SCHEME_RE.exec(text)
  if (scheme !== null) end = start + scheme[0].length
  while (end < lineEnd && !VALUE_STOP.has(text[end] ?? '')) end++
  if (end === start || PLACEHOLDER_VALUES.has(text.slice(start, end))) return none
  if (scheme === null && startsSeparator(text, end, lineEnd)) {
    // `Credentials: aws_access_key_id = ...`: a label in front of another pair, not a value.
    return none
  }
  return { spans: [{ start, end }], resume: end }
}

/** A YAML-ish `key:` line inside a nested mapping, or a list item: not a value. */
const NESTED_LINE_RE = /^(?:-[ \t]|[\w.$"'-]+[ \t]*:(?:[ \t]|$))/

/**
 * The value of a `key:` with nothing after it on its line, written on the next line as YAML
 * does (`password:\n    s3cret`). Only when the key is alone on its line (after indentation and
 * an optional `- `) and the next line is indented deeper and is not itself a `key:` pair or a
 * list item, so `if password:\n    return` and nested mappings stay. The whole next line (or its
 * quoted string) is the value. Called at most once per line, so the scans stay linear.
 */
function nextLineValue(
  text: string,
  keyStart: number,
  lineEnd: number,
  lineEndAt: LineEnd,
): { spans: Span[]; resume: number } {
  const none = { spans: [], resume: lineEnd }
  if (lineEnd >= text.length) return none
  let lineStart = keyStart
  while (lineStart > 0 && text[lineStart - 1] !== '\n') lineStart--
  const lead = text.slice(lineStart, keyStart)
  if (!/^[ \t]*(?:-[ \t]+)?$/.test(lead)) return none
  const keyIndent = lead.length
  const next = lineEnd + 1
  let content = next
  while (text[content] === ' ' || text[content] === '\t') content++
  const nextEnd = lineEndAt(next)
  if (content - next <= keyIndent || content >= nextEnd) return none
  if (NESTED_LINE_RE.test(text.slice(content, Math.min(nextEnd, content + 256)))) return none
  const quote = openingQuote(text, content)
  if (quote !== undefined) {
    const close = closingQuote(text, quote.contentStart, nextEnd, quote.delimiter)
    const end = close === -1 ? nextEnd : close
    if (end === quote.contentStart) return none
    return { spans: [{ start: quote.contentStart, end }], resume: end }
  }
  let end = nextEnd
  while (end > content && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--
  if (PLACEHOLDER_VALUES.has(text.slice(content, end))) return none
  return { spans: [{ start: content, end }], resume: end }
}

/** Whether a key/value separator follows `from`, after blanks on the same line. */
function startsSeparator(text: string, from: number, lineEnd: number): boolean {
  let i = from
  while (i < lineEnd && (text[i] === ' ' || text[i] === '\t')) i++
  const char = text[i]
  return (char === '=' && text[i + 1] !== '=') || (char === ':' && text[i + 1] !== ':')
}

/** Runs a key regex (groups: open quote, key, close quote, separator) and masks sensitive values. */
export function maskKeyValuePairs(text: string, pattern: RegExp): string {
  const re = new RegExp(pattern.source, pattern.flags)
  const lineEndAt = lineEndFinder(text)
  const parts: string[] = []
  let copied = 0
  let match: RegExpExecArray | null
  while ((match = re.exec(text)) !== null) {
    const [whole, openQuote = '', key = '', closeQuote = '', separator = ''] = match
    const quoted = openQuote !== '' && closeQuote !== ''
    if (!isSensitiveKey(key, { quoted, separator: separator.trim() })) continue
    const unclosed = openQuote !== '' && closeQuote === '' ? openQuote : ''
    const value = findValueSpans(
      text,
      match.index + whole.length,
      key,
      separator.trim(),
      unclosed,
      lineEndAt,
      match.index,
    )
    for (const span of value.spans) {
      parts.push(text.slice(copied, span.start), MASK)
      copied = span.end
    }
    re.lastIndex = Math.max(re.lastIndex, value.resume)
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}
