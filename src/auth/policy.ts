/**
 * The access decisions the API makes, each a thin call of one policy rule (policy-defaults.ts has
 * Nova's names and ActionTrail's) with the right target. Views call these; the store never filters
 * by role. The policy is built once at start (defaults + ACTIONTRAIL_POLICY_FILE) and passed down.
 */
import type { AccessPolicy } from './access-policy.js'
import type { PolicyRuleName } from './policy-defaults.js'
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

/**
 * `actiontrail:write`, asked once per request before its body is read: the target is the caller's
 * own project and `host` is '' (no event yet), so a rule that restricts hosts must let '' through
 * (docs/identity.md, Scoped writers). Each operation is then checked with canWriteTo.
 */
export function canWrite(policy: AccessPolicy, p: Principal): boolean {
  return policy.allows('actiontrail:write', p, {
    project_id: p.projectId,
    user_id: p.userId,
    host: '',
  })
}

/** What one write touches: the project owning its instance, and for an event write its host. */
export interface WriteTarget {
  ownerProject: string
  /** The event's host (null: the event has none); absent for instance and action writes. */
  host?: string | null
}

/**
 * Whether one write operation is in the principal's reach: inside its static scope (token file)
 * and allowed by `actiontrail:write` with the target `{project_id: owner project, user_id: the
 * caller, host: the event's host, or '' for other writes}`. Both apply.
 */
export function canWriteTo(policy: AccessPolicy, p: Principal, target: WriteTarget): boolean {
  const { projects, hosts } = p.scope ?? {}
  if (projects && !projects.includes(target.ownerProject)) return false
  // A host-scoped writer records events of its hosts only: an event without a host is refused.
  if (hosts && target.host !== undefined && (target.host === null || !hosts.includes(target.host)))
    return false
  return policy.allows('actiontrail:write', p, {
    project_id: target.ownerProject,
    user_id: p.userId,
    host: target.host ?? '',
  })
}

/**
 * Whether writes of this principal must be checked one by one (canWriteTo): it has a static
 * scope, or an operator's policy replaced `actiontrail:write` (whose target may then matter). With
 * neither, the per-request check has already decided, and the write path reads nothing more.
 */
export function writesNeedTargets(policy: AccessPolicy, p: Principal): boolean {
  if (p.scope?.projects || p.scope?.hosts) return true
  return policy.describe().some((r) => r.name === 'actiontrail:write' && r.origin !== 'default')
}

/**
 * The query API's and the stream's rules take the caller's own project as the target: what they
 * reach beyond it is decided by the `:all_projects` rules, not by the target.
 */
function onOwnProject(policy: AccessPolicy, p: Principal, rule: PolicyRuleName): boolean {
  return policy.allows(rule, p, { project_id: p.projectId })
}

/** `actiontrail:actions:query` (`GET /v1/actions`; target: the caller's project). */
export function canQueryActions(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:actions:query')
}

/** `actiontrail:actions:query:all_projects`: the query reaches every project's instances. */
export function canQueryAllProjects(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:actions:query:all_projects')
}

/** `actiontrail:actions:host_filter` (`GET /v1/actions?host=`). */
export function canFilterByHost(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:actions:host_filter')
}

/** `actiontrail:instances:query` (`GET /v1/instances`; target: the caller's project). */
export function canQueryInstances(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:instances:query')
}

/** `actiontrail:instances:query:all_projects`: `GET /v1/instances` reaches every project. */
export function canQueryAllInstances(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:instances:query:all_projects')
}

/** `actiontrail:events:query` (`GET /v1/events`): as the actions query, by default. */
export function canQueryEvents(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:events:query')
}

/** `actiontrail:stream` (`GET /v1/stream`): as the actions query, by default. */
export function canStream(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:stream')
}

/** `actiontrail:export` (`GET /v1/export`): admins, by default. */
export function canExport(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:export')
}

/** `actiontrail:checkpoints` (`GET /v1/checkpoints`; admins by default). */
export function canListCheckpoints(policy: AccessPolicy, p: Principal): boolean {
  return onOwnProject(policy, p, 'actiontrail:checkpoints')
}
