/**
 * Masking of credentials in URLs: `scheme://user:password@host` keeps user and host, and a bare
 * token used as the user info (`https://<token>@host`) is masked whole.
 */
import { MASK } from './mask.js'

/**
 * The start of a URL. The look-behind keeps a scheme from starting inside a longer run of scheme
 * characters, so the scan stays linear on `aaaa…`.
 */
const SCHEME_RE = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\//g

/**
 * How far past the first blank a password with a space may run to its `@`. Real passwords are
 * far shorter; the bound keeps the look-ahead per URL constant.
 */
const MAX_SPACED_PASSWORD = 128

/** A user name never holds a path, query or fragment delimiter, a blank or an IPv6 bracket. */
const USER_RE = /^[^\s/?#[\]]*$/
/** `host:8443/…`: a port before a path, so the `@` later on belongs to the path or query. */
const PORT_THEN_PATH_RE = /^\d+[/?#]/
/**
 * A user info without a colon that is a credential rather than a user name: a known token
 * prefix, 20 or more hex digits, or 20 or more URL-safe characters mixing upper case, lower case
 * and digits. `git`, `root`, `deploy-bot` or `jane.doe` stay.
 */
const TOKEN_USER_RE = new RegExp(
  '^(?:' +
    /(?:gh[pousr]_|github_pat_|glpat-|xox[abposr]-)[\w-]{10,}/.source + // known token prefixes
    /|[0-9a-fA-F]{20,}/.source + // hex
    /|(?=[\w.~+=-]*[a-z])(?=[\w.~+=-]*[A-Z])(?=[\w.~+=-]*\d)[\w.~+=-]{20,}/.source + // base64-ish
    ')$',
)

function isBlank(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f'
}

/** Masks the user info of one `user:password@host…` part (no comma-separated hosts). */
function maskHostPart(hostPart: string): string {
  const at = hostPart.lastIndexOf('@')
  const userInfo = hostPart.slice(0, at)
  const colon = userInfo.indexOf(':')
  if (colon === -1) {
    return TOKEN_USER_RE.test(userInfo) ? MASK + hostPart.slice(at) : hostPart
  }
  const user = userInfo.slice(0, colon)
  const password = userInfo.slice(colon + 1)
  if (password === '' || !USER_RE.test(user) || PORT_THEN_PATH_RE.test(password)) return hostPart
  return user + ':' + MASK + hostPart.slice(at)
}

/**
 * Masks the password of every `user:password@host` in an authority. The
 * authority may list several hosts (oslo.messaging: `u:p@h1:5672,u:p@h2:5672`);
 * a comma without an `@` after it belongs to a password, so parts are joined
 * until one contains `@`. Within a part the last `@` ends the user info
 * because passwords are often left unencoded (`nova:slA/shPw3@db`).
 */
function maskAuthority(authority: string): string {
  if (!authority.includes('@')) return authority
  const out: string[] = []
  let pending: string[] = []
  for (const part of authority.split(',')) {
    pending.push(part)
    if (!part.includes('@')) continue
    out.push(maskHostPart(pending.join(',')))
    pending = []
  }
  return [...out, ...pending].join(',')
}

/**
 * End of the text to read as one URL's authority, starting at `from` (just past `scheme://`)
 * and never past `limit` (the next URL or the end of the line). Normally the first blank ends
 * it; when the text before that blank is `user:word` with no `@`, `/` or port, a password with a
 * space is assumed and the authority runs to the last `@` of the next word holding one, within
 * {@link MAX_SPACED_PASSWORD} characters.
 */
function authorityEnd(text: string, from: number, limit: number): number {
  let end = from
  while (end < limit && !isBlank(text[end])) end++
  const word = text.slice(from, end)
  const colon = word.indexOf(':')
  if (colon < 0 || end === limit || /[@/?#]/.test(word)) return end
  if (!USER_RE.test(word.slice(0, colon)) || /^\d*$/.test(word.slice(colon + 1))) return end
  const bound = Math.min(limit, end + MAX_SPACED_PASSWORD)
  let wordStart = end
  for (let i = end; i < bound; i++) {
    if (isBlank(text[i])) {
      wordStart = i + 1
      continue
    }
    if (text[i] !== '@') continue
    let wordEnd = i
    while (wordEnd < limit && !isBlank(text[wordEnd])) wordEnd++
    return wordStart > end ? wordEnd : end
  }
  return end
}

/**
 * Masks the password in the authority of every `scheme://` URL, including oslo.messaging's
 * comma-separated multi-host form, and a token used as the whole user info; user names and hosts
 * are kept.
 *
 * The authority is read up to the first blank on the line or the next `scheme://`, and the user
 * info runs to its last `@`, so a password holding `/`, `#`, `?`, `)` or `'` is still masked; a
 * password with a space is found as described on {@link authorityEnd}. An `@` after a user part
 * holding `/`, `?` or `#`, or after `host:port/`, belongs to a path or query and is left alone.
 * Trade-off: a later `@` in the same blank-free word (`u:p@db/x,mail=a@b`) is taken as the end of
 * the user info, which masks too much rather than too little.
 * Limit (found by the sanitizer fuzz suite): a password holding both `@` and `,` (`u:a@b,c@db`)
 * cannot be told from a host list whose next entry has no password (`u:pw@h1,user@h2`); the part
 * after the comma stays visible.
 *
 * @param text - Any text.
 * @returns The text with every URL password and user-info token replaced by {@link MASK}.
 */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text
  const starts = [...text.matchAll(SCHEME_RE)]
  if (starts.length === 0) return text
  const parts: string[] = []
  let copied = 0
  let newline = -1
  for (let k = 0; k < starts.length; k++) {
    const match = starts[k] as RegExpMatchArray
    const from = (match.index ?? 0) + match[0].length
    if (from < copied) continue
    if (newline < from) {
      newline = text.indexOf('\n', from)
      if (newline === -1) newline = text.length
    }
    const limit = Math.min(newline, starts[k + 1]?.index ?? text.length)
    const end = authorityEnd(text, from, limit)
    const authority = text.slice(from, end)
    const masked = maskAuthority(authority)
    if (masked === authority) continue
    parts.push(text.slice(copied, from), masked)
    copied = end
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}
