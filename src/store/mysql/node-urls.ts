/**
 * The node list of a MariaDB/MySQL database setting: `mysql://user:pw@host1:3306,host2,host3/db?…`
 * names the nodes of a Galera cluster in the order ActionTrail tries them. WHATWG URL parsing
 * rejects a comma-separated host list, so the setting is split into one ordinary URL per node
 * (same scheme, account, database and options) before anything else reads it.
 */

// scheme://, optional userinfo@ (no '/', '?' or '#' in it), the host list, then the rest.
const PARTS = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/is

/**
 * One URL per node of `value`, in order; a single-host URL gives itself. Undefined when the value
 * is not shaped like a URL or names an empty host (`a,,b`, a trailing comma).
 */
export function splitNodeUrls(value: string): string[] | undefined {
  const m = PARTS.exec(value)
  if (!m) return undefined
  const [, scheme = '', userinfo = '', hosts = '', rest = ''] = m
  if (!hosts.includes(',')) return [value]
  const list = hosts.split(',')
  if (list.some((h) => h.trim() === '')) return undefined
  return list.map((host) => `${scheme}${userinfo}${host.trim()}${rest}`)
}

/** `value` with the password of its account masked, for logs; undefined when it is not a URL. */
export function maskNodeListPassword(value: string): string | undefined {
  const m = PARTS.exec(value)
  if (!m) return undefined
  const [, scheme = '', userinfo = '', hosts = '', rest = ''] = m
  const colon = userinfo.indexOf(':')
  const masked = colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***@`
  return `${scheme}${masked}${hosts}${rest}`
}
