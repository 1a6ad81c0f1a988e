/**
 * Masking of credentials in URLs: `scheme://user:password@host` keeps user and host.
 */
import { MASK } from './mask.js'

/**
 * `scheme://authority`: the authority stops at the path, query, fragment or
 * anything that cannot be part of a URL in a log line.
 */
const URL_AUTHORITY_RE = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#'"`<>\\)]+)/g

/**
 * Masks the password of every `user:password@host` in an authority. The
 * authority may list several hosts (oslo.messaging: `u:p@h1:5672,u:p@h2:5672`);
 * a comma without an `@` after it belongs to a password, so parts are joined
 * until one contains `@`. Within a part the last `@` ends the user info
 * because passwords are often left unencoded.
 */
function maskAuthority(authority: string): string {
  if (!authority.includes('@')) return authority
  const out: string[] = []
  let pending: string[] = []
  for (const part of authority.split(',')) {
    pending.push(part)
    if (!part.includes('@')) continue
    const hostPart = pending.join(',')
    pending = []
    const at = hostPart.lastIndexOf('@')
    const userInfo = hostPart.slice(0, at)
    const colon = userInfo.indexOf(':')
    if (colon === -1 || colon === userInfo.length - 1) {
      out.push(hostPart)
    } else {
      out.push(userInfo.slice(0, colon + 1) + MASK + hostPart.slice(at))
    }
  }
  return [...out, ...pending].join(',')
}

/**
 * Masks the password in the authority of every `scheme://` URL, including oslo.messaging's
 * comma-separated multi-host form; user names and hosts are kept.
 *
 * @param text - Any text.
 * @returns The text with every URL password replaced by {@link MASK}.
 */
export function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text
  return text.replace(
    URL_AUTHORITY_RE,
    (_match, scheme: string, authority: string) => scheme + maskAuthority(authority),
  )
}
