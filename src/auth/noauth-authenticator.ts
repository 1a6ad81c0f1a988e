/**
 * The explicit development mode (`ACTIONTRAIL_AUTH=noauth`), like Nova's noauth2: the token
 * `user:project` is believed as it is, with the admin role when the user is `admin`, else member
 * (and reader). Anyone who can reach the port is anyone they claim to be, so the server refuses
 * this mode unless it listens on a loopback address (assertLoopback), says so loudly at start and
 * marks every response with `X-ActionTrail-Auth: noauth`.
 */
import { isIP } from 'node:net'
import { AppError } from '../domain/errors.js'
import { isPrintable } from '../domain/validation.js'
import { expandRoles, type Authenticator, type Principal } from './principal.js'

/** The header (and value) on every response of a server in no-auth mode. */
export const NOAUTH_HEADER = { name: 'x-actiontrail-auth', value: 'noauth' } as const

// user and project: 1–255 printable characters each, no colon in the user.
const NOAUTH_TOKEN = /^([^:]{1,255}):(.{1,255})$/s

/** Authenticator of the no-auth development mode. */
export class NoAuthAuthenticator implements Authenticator {
  readonly responseHeaders = { [NOAUTH_HEADER.name]: NOAUTH_HEADER.value }

  authenticate(token: string): Promise<Principal | undefined> {
    const m = NOAUTH_TOKEN.exec(token)
    const userId = m?.[1]
    const projectId = m?.[2]
    if (!userId || !projectId || !isPrintable(userId) || !isPrintable(projectId)) {
      return Promise.resolve(undefined)
    }
    const roles = expandRoles(userId === 'admin' ? ['admin'] : ['member'])
    return Promise.resolve({ userId, projectId, roles })
  }
}

/** True for `localhost` and the loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h)
  return false
}

/** Refuses the no-auth mode on anything but a loopback listen address. */
export function assertLoopback(host: string): void {
  if (!isLoopbackHost(host)) {
    throw new AppError(
      'invalid_input',
      `ACTIONTRAIL_AUTH=noauth trusts every caller and is refused on ${JSON.stringify(host)}: ` +
        'listen on a loopback address (127.0.0.1, ::1, localhost)',
    )
  }
}
