/**
 * Nova's default policy for os-instance-actions and servers (nova/policies/instance_actions.py,
 * servers.py), as pure functions. Views call these; the store never filters by role.
 */
import type { Principal } from './principal.js'

/** `role:admin` — Nova's `context_is_admin`. */
export function isAdmin(p: Principal): boolean {
  return p.roles.has('admin')
}

/**
 * Whether the instance lookup can see an instance of `ownerProject`: admins see every project,
 * everyone else only their own (another project's server is "not found", never "forbidden").
 */
export function canSeeInstance(p: Principal, ownerProject: string): boolean {
  return isAdmin(p) || p.projectId === ownerProject
}

/**
 * Nova's `PROJECT_READER_OR_ADMIN`: a reader (or member/admin by inference) of `project`, or an
 * admin. The `service` role alone does not pass: it is for writing, not for reading tenants' data.
 */
export function isProjectReaderOrAdmin(p: Principal, project: string): boolean {
  return isAdmin(p) || (p.roles.has('reader') && p.projectId === project)
}

/** `os_compute_api:os-instance-actions:list` and `:show`: project reader of the instance, or admin. */
export function canReadActions(p: Principal, ownerProject: string): boolean {
  return isProjectReaderOrAdmin(p, ownerProject)
}

/**
 * `os_compute_api:servers:index` and `:detail` (target: the caller's own project) and
 * `os_compute_api:servers:show` (target: the server's project): project reader or admin.
 */
export function canReadServers(p: Principal, targetProject: string): boolean {
  return isProjectReaderOrAdmin(p, targetProject)
}

/** `os_compute_api:os-instance-actions:events`: events before 2.51, tracebacks, hosts. */
export function canSeeEventInternals(p: Principal): boolean {
  return isAdmin(p)
}

/** `os_compute_api:os-instance-actions:events:details` (2.84+). */
export function canSeeEventDetails(p: Principal): boolean {
  return isAdmin(p)
}

/** Write API (`/v1`): the `service` role or an admin. */
export function canWrite(p: Principal): boolean {
  return isAdmin(p) || p.roles.has('service')
}

/**
 * ActionTrail's `actiontrail:actions:query` (`GET /v1/actions`), modelled on Nova's
 * `os-instance-actions:list`: a project reader (who sees the actions on their own project's
 * instances) or an admin (every project). The `service` role alone does not read.
 */
export function canQueryActions(p: Principal): boolean {
  return isProjectReaderOrAdmin(p, p.projectId)
}
