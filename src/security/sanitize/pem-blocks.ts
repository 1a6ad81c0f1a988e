/**
 * Masking of PEM private-key blocks: the BEGIN and END lines stay, the body becomes the mask.
 */
import { lineEndFinder } from './line-end.js'
import { MASK } from './mask.js'

const PEM_BEGIN_RE = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g
/** Separators between a PEM header and its body: real newlines or repr escapes. */
const PEM_SEPARATOR_RE = /^(?:\\r\\n|\\n|\r?\n|[ \t])*/

/** The separator run that ends a PEM body; scanned by hand as an unanchored `(...)*$` would be quadratic. */
function trailingSeparator(body: string): string {
  let i = body.length
  while (i > 0) {
    const char = body[i - 1]
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') i--
    else if ((char === 'n' || char === 'r') && body[i - 2] === '\\') i -= 2
    else break
  }
  return body.slice(i)
}

/**
 * Replaces the body of every PEM private-key block with {@link MASK} on its own line, keeping the
 * BEGIN and END lines and the separator style (real newlines or a repr's literal `\n` escapes). A
 * block without an END line is masked to the end of the text, or of the line for an escaped
 * one-line key. Already masked blocks are left alone, so the rule is idempotent.
 *
 * @param text - Any text.
 * @returns The text with every private-key body masked.
 */
export function maskPemBlocks(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text
  const re = new RegExp(PEM_BEGIN_RE.source, 'g')
  // Next END marker per label: a found one is reused until passed and a miss
  // stays a miss, so many unterminated blocks cannot make the search quadratic.
  const nextEnd = new Map<string, number>()
  const lineEndAt = lineEndFinder(text)
  const findFrom = (marker: string, from: number): number => {
    const known = nextEnd.get(marker)
    if (known !== undefined && (known === -1 || known >= from)) return known
    const found = text.indexOf(marker, from)
    nextEnd.set(marker, found)
    return found
  }
  const parts: string[] = []
  let copied = 0
  let match: RegExpExecArray | null
  while ((match = re.exec(text)) !== null) {
    const label = match[1] ?? ''
    const bodyStart = match.index + match[0].length
    const lead = PEM_SEPARATOR_RE.exec(text.slice(bodyStart, bodyStart + 64))?.[0] ?? ''
    const contentStart = bodyStart + lead.length
    // Already masked (a second pass, or a block cut by the size cap): leave it.
    if (text.startsWith(MASK, contentStart)) {
      re.lastIndex = contentStart + MASK.length
      continue
    }
    const escaped = lead.startsWith('\\')
    const endMarker = `-----END ${label}-----`
    // An escaped key lives on one line, so its body cannot run past it.
    const limit = escaped ? lineEndAt(contentStart) : text.length
    const endAt = findFrom(endMarker, contentStart)
    parts.push(text.slice(copied, bodyStart))
    if (endAt === -1 || endAt > limit) {
      // Truncated block: there is no telling where the key ends, so mask it all.
      parts.push(lead || '\n', MASK)
      copied = limit
      re.lastIndex = limit
      continue
    }
    const body = text.slice(contentStart, endAt)
    const trail = trailingSeparator(body)
    parts.push(lead || '\n', MASK, trail || lead || '\n')
    copied = endAt
    re.lastIndex = endAt + endMarker.length
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}
