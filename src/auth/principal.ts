/** The authenticated caller, and the roles Nova's default policy knows. */

/** Roles understood by the policy. admin implies member implies reader; service stands alone. */
export type Role = 'admin' | 'member' | 'reader' | 'service'

/** Every role name accepted in a token file. */
export const ROLES: readonly Role[] = ['admin', 'member', 'reader', 'service']

/** Who is calling, as established by a token. */
export interface Principal {
  userId: string
  projectId: string
  /** Effective roles, with Keystone's implied roles already added. */
  roles: ReadonlySet<Role>
  /**
   * Every role name the identity service gave (Keystone mode), including names ActionTrail's
   * default policy does not know; absent for the token file and no-auth modes.
   */
  roleNames?: readonly string[]
  /** The domain of a domain-scoped Keystone token. */
  domainId?: string
  /** `all` for a system-scoped Keystone token (which has no project: `projectId` is ''). */
  systemScope?: 'all'
  /** When the token stops being valid (Keystone mode). */
  expiresAt?: Date
}

/** Adds the roles Keystone infers by default: admin → member → reader. */
export function expandRoles(roles: Iterable<Role>): Set<Role> {
  const out = new Set(roles)
  if (out.has('admin')) out.add('member')
  if (out.has('member')) out.add('reader')
  return out
}

/**
 * Looks up the principal behind a token; undefined when the token is unknown, revoked or expired.
 * An identity service that cannot answer makes `authenticate` reject with the AppError
 * `identity_unavailable` (503), never resolve: an unanswered token is neither allowed nor refused.
 */
export interface Authenticator {
  authenticate(token: string): Promise<Principal | undefined>
  /**
   * Where a client gets a token: the `uri` of the 401's `WWW-Authenticate: Keystone uri="…"`
   * (Keystone mode); ActionTrail's own base URL when absent.
   */
  readonly identityUri?: string
  /** Headers added to every response (the no-auth mode announces itself). */
  readonly responseHeaders?: Readonly<Record<string, string>>
}
