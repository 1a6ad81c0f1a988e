/**
 * The caller as the policy language sees it (oslo's `creds`): `user_id`, `project_id`, `roles`
 * (with Keystone's implied roles admin → member → reader added), `system_scope` when the token is
 * system-scoped, and `is_admin`, filled in by the access policy from `context_is_admin` as Nova
 * does.
 */
import type { Credentials } from './policy-language/index.js'

/** What a policy decision needs to know about a caller. */
export interface PolicySubject {
  /** null when the caller has no user (oslo's None); tokens always carry one. */
  userId: string | null
  /** null for a token without a project (system- or domain-scoped). */
  projectId: string | null
  roles: Iterable<string>
  /**
   * Every role name the identity service gave (Keystone mode), custom ones included: when present
   * the policy sees these, so an operator's rule can name a role ActionTrail does not know.
   */
  roleNames?: readonly string[]
  /** `all` for a system-scoped token (Keystone); absent for project-scoped ones. */
  systemScope?: string
}

// Keystone's default implied roles. Role names compare case-insensitively, as `role:` checks do.
const IMPLIED: Readonly<Record<string, readonly string[]>> = {
  admin: ['member', 'reader'],
  member: ['reader'],
}

/** The subject's roles with the implied ones added, each once (lower-cased). */
export function effectiveRoles(roles: Iterable<string>): string[] {
  const out = new Set<string>()
  for (const role of roles) {
    const lowered = role.toLowerCase()
    out.add(lowered)
    for (const implied of IMPLIED[lowered] ?? []) out.add(implied)
  }
  return [...out]
}

/** The credentials of a subject, before `is_admin` is decided. */
export function credentialsOf(subject: PolicySubject, isAdmin = false): Credentials {
  return {
    user_id: subject.userId,
    // A system-scoped Keystone principal carries '' as its project: oslo sees None.
    project_id: subject.projectId === '' ? null : subject.projectId,
    roles: effectiveRoles(subject.roleNames ?? subject.roles),
    is_admin: isAdmin,
    ...(subject.systemScope === undefined ? {} : { system_scope: subject.systemScope }),
  }
}
