/**
 * Reading a Keystone v3 token body (`GET /v3/auth/tokens`, or the body of a login) into a
 * Principal. Keystone already adds implied roles (admin → member → reader after `keystone-manage
 * bootstrap`), in no stable order; the default inference is applied again so that a cloud without
 * those rules still gets Nova's hierarchy.
 */
import { expandRoles, ROLES, type Principal, type Role } from '../principal.js'

/** What ActionTrail reads of a token. */
interface TokenBody {
  token?: {
    expires_at?: unknown
    user?: { id?: unknown }
    project?: { id?: unknown; domain?: { id?: unknown } }
    domain?: { id?: unknown }
    system?: { all?: unknown }
    roles?: unknown
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 255 ? value : undefined
}

/**
 * The principal of a validated token, or undefined when the body is not a token Keystone would
 * send (no user, no expiry, roles that are not a list of named roles).
 */
export function principalFromToken(body: unknown): Principal | undefined {
  const token = (body as TokenBody | null)?.token
  if (!token || typeof token !== 'object') return undefined
  const userId = str(token.user?.id)
  const expiresText = str(token.expires_at)
  const expiresAt = expiresText ? new Date(expiresText) : undefined
  if (!userId || !expiresAt || Number.isNaN(expiresAt.getTime())) return undefined
  if (!Array.isArray(token.roles)) return undefined
  const roleNames: string[] = []
  for (const role of token.roles as unknown[]) {
    const name = str((role as { name?: unknown } | null)?.name)
    if (!name) return undefined
    roleNames.push(name)
  }
  const known = roleNames.filter((n): n is Role => (ROLES as readonly string[]).includes(n))
  const principal: Principal = {
    userId,
    // A domain- or system-scoped token has no project; '' matches no instance's project.
    projectId: str(token.project?.id) ?? '',
    roles: expandRoles(known),
    roleNames: roleNames.sort(),
    expiresAt,
  }
  const domainId = str(token.domain?.id)
  if (domainId) principal.domainId = domainId
  if (token.system?.all === true) principal.systemScope = 'all'
  return principal
}

/** The expiry of a token body (a login's), or undefined. */
export function tokenExpiry(body: unknown): Date | undefined {
  const text = str((body as TokenBody | null)?.token?.expires_at)
  const date = text ? new Date(text) : undefined
  return date && !Number.isNaN(date.getTime()) ? date : undefined
}
