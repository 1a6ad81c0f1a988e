/**
 * Masking of key/value pairs written percent-encoded, as in a form body or a query parameter that
 * holds another query or a JSON document: `password%3Ds3cret`, `%22password%22%3A%22s3cret%22`.
 */
import { MASK } from './mask.js'
import { isSensitiveKey } from './secret-keys.js'

/**
 * A key at the start of a word or right after a percent escape (`%26password`), an optional
 * encoded quote, then an encoded `=` or `:` (with encoded blanks), then an optional encoded quote.
 * The look-behinds keep a key from starting inside a longer run of word characters, so the scan
 * stays linear.
 */
const ENCODED_PAIR_RE = new RegExp(
  /(?:(?<![\w%])|(?<=%[0-9A-Fa-f]{2}))/.source + // start of a word, or after %XX
    /([A-Za-z_][\w.-]*)((?:%22)?)/.source + // key, encoded closing quote
    /(%3[Dd]|%3[Aa](?:%20|\+)*)((?:%22)?)/.source, // encoded separator, encoded opening quote
  'g',
)

/**
 * An unquoted value: up to `&`, a blank, a quote, or an encoded `&`, `"`, `,` or `}`. A quoted one
 * runs to the next encoded quote. A `'` inside the value does not end it: JavaScript's
 * encodeURIComponent leaves `'`, `(`, `)`, `!` and `*` unencoded, so a password `it's` arrives as
 * `it's` (the sanitizer fuzz suite found its tail surviving). A `'` followed by a blank, `,`, `;`,
 * a closing bracket, a double quote or backquote, or the end of the text closes a quoted string
 * around the value and is kept; after `)` or another `'` it is taken as part of the value, since
 * masking too much is the safe side. Each alternative consumes at least one character and looks
 * ahead one, so the scans stay linear.
 */
const INNER_QUOTE = /'(?![\s,;\]}"`]|$)/.source
const BARE_VALUE_RE = new RegExp(
  `(?:%(?!2[26Cc]|7[Dd])[0-9A-Fa-f]{0,2}|${INNER_QUOTE}|[^\\s&%"'\`<>;])+`,
  'y',
)
const QUOTED_VALUE_RE = new RegExp(`(?:%(?!22)|${INNER_QUOTE}|[^%\\s"'])+`, 'y')

/**
 * Masks the value of every percent-encoded pair whose key is sensitive by the one rule on
 * secret keys (`secret-keys.ts`). Encoded `&` and `,` end a bare value, an encoded quote ends a
 * quoted one.
 *
 * @param text - Any text.
 * @returns The text with every encoded secret value replaced by {@link MASK}.
 */
export function maskEncodedPairs(text: string): string {
  if (!text.includes('%3')) return text
  const re = new RegExp(ENCODED_PAIR_RE.source, 'g')
  const parts: string[] = []
  let copied = 0
  let match: RegExpExecArray | null
  while ((match = re.exec(text)) !== null) {
    const [whole, key = '', closeQuote = '', separator = '', openQuote = ''] = match
    const quoted = closeQuote !== '' && openQuote !== ''
    if (!isSensitiveKey(key, { quoted, separator: separator.slice(0, 3) === '%3D' ? '=' : ':' })) {
      continue
    }
    const start = match.index + whole.length
    const valueRe = openQuote === '' ? BARE_VALUE_RE : QUOTED_VALUE_RE
    valueRe.lastIndex = start
    const value = valueRe.exec(text)
    if (value === null || value[0] === MASK) continue
    parts.push(text.slice(copied, start), MASK)
    copied = start + value[0].length
    re.lastIndex = copied
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}
