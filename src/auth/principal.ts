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
  /** `all` when the token is system-scoped (Keystone); the policy's `system_scope` credential. */
  systemScope?: string
}

/** Adds the roles Keystone infers by default: admin → member → reader. */
export function expandRoles(roles: Iterable<Role>): Set<Role> {
  const out = new Set(roles)
  if (out.has('admin')) out.add('member')
  if (out.has('member')) out.add('reader')
  return out
}

/** Looks up the principal behind a token; undefined when the token is unknown. */
export interface Authenticator {
  authenticate(token: string): Promise<Principal | undefined>
}
