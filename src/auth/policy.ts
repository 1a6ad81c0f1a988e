/**
 * The access decisions the API makes, each a thin call of one policy rule (policy-defaults.ts has
 * Nova's names and ActionTrail's) with the right target. Views call these; the store never filters
 * by role. The policy is built once at start (defaults + ACTIONTRAIL_POLICY_FILE) and passed down.
 */
import type { AccessPolicy } from './access-policy.js'
import type { Principal } from './principal.js'

/** `context_is_admin` — Nova's administrator, who sees and may do everything. */
export function isAdmin(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('context_is_admin', p)
}

/**
 * Whether the instance lookup can see an instance of `ownerProject`: admins see every project,
 * everyone else only their own (another project's server is "not found", never "forbidden").
 * Tenancy is structural: a policy file can widen who is admin, not make other projects visible.
 */
export function canSeeInstance(policy: AccessPolicy, p: Principal, ownerProject: string): boolean {
  return p.projectId === ownerProject || isAdmin(policy, p)
}

/** `os_compute_api:os-instance-actions:list` and `:show` (target: the instance's project). */
export function canReadActions(
  policy: AccessPolicy,
  p: Principal,
  rule: 'list' | 'show',
  ownerProject: string,
): boolean {
  return policy.allows(`os_compute_api:os-instance-actions:${rule}`, p, {
    project_id: ownerProject,
  })
}

/**
 * `os_compute_api:servers:index` and `:detail` (target: the caller's own project) and
 * `os_compute_api:servers:show` (target: the server's project).
 */
export function canReadServers(
  policy: AccessPolicy,
  p: Principal,
  rule: 'index' | 'detail' | 'show',
  targetProject: string,
): boolean {
  return policy.allows(`os_compute_api:servers:${rule}`, p, { project_id: targetProject })
}

/** `os_compute_api:servers:index:get_all_tenants` / `detail:get_all_tenants`. */
export function canListAllTenants(
  policy: AccessPolicy,
  p: Principal,
  rule: 'index' | 'detail',
): boolean {
  return policy.allows(`os_compute_api:servers:${rule}:get_all_tenants`, p, {
    project_id: p.projectId,
  })
}

/**
 * `os_compute_api:os-instance-actions:events`: events before 2.51, tracebacks, hosts. The target
 * is the instance's project on the compute surface; the query API asks once per request with the
 * caller's project.
 */
export function canSeeEventInternals(
  policy: AccessPolicy,
  p: Principal,
  ownerProject: string,
): boolean {
  return policy.allows('os_compute_api:os-instance-actions:events', p, { project_id: ownerProject })
}

/** `os_compute_api:os-instance-actions:events:details` (2.84+; target as for internals). */
export function canSeeEventDetails(
  policy: AccessPolicy,
  p: Principal,
  ownerProject: string,
): boolean {
  return policy.allows('os_compute_api:os-instance-actions:events:details', p, {
    project_id: ownerProject,
  })
}

/** `actiontrail:write`: the write API (`/v1`). */
export function canWrite(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:write', p, { project_id: p.projectId, user_id: p.userId })
}

/** `actiontrail:actions:query` (`GET /v1/actions`; target: the caller's project). */
export function canQueryActions(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:actions:query', p, { project_id: p.projectId })
}

/** `actiontrail:actions:query:all_projects`: the query reaches every project's instances. */
export function canQueryAllProjects(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:actions:query:all_projects', p, { project_id: p.projectId })
}

/** `actiontrail:actions:host_filter` (`GET /v1/actions?host=`). */
export function canFilterByHost(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:actions:host_filter', p, { project_id: p.projectId })
}

/** `actiontrail:instances:query` (`GET /v1/instances`; target: the caller's project). */
export function canQueryInstances(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:instances:query', p, { project_id: p.projectId })
}

/** `actiontrail:instances:query:all_projects`: `GET /v1/instances` reaches every project. */
export function canQueryAllInstances(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:instances:query:all_projects', p, { project_id: p.projectId })
}

/** `actiontrail:events:query` (`GET /v1/events`): as the actions query, by default. */
export function canQueryEvents(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:events:query', p, { project_id: p.projectId })
}

/** `actiontrail:stream` (`GET /v1/stream`): as the actions query, by default. */
export function canStream(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:stream', p, { project_id: p.projectId })
}
