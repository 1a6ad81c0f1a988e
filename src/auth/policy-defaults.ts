/**
 * The default rules: Nova's base rules (nova/policies/base.py) and its rule names for the routes
 * ActionTrail serves (instance_actions.py, servers.py), then ActionTrail's own for the /v1 API.
 * Together they are exactly the access ActionTrail had before policy files (the API suites run on
 * them unchanged). A policy file overrides any of them by name.
 */

/** One default rule: name, check string in oslo.policy's language, and what it guards. */
export interface DefaultRule {
  readonly name: string
  readonly check: string
  readonly description: string
}

/** The defaults, base rules first; `actiontrail policy show` prints them in this order. */
export const DEFAULT_RULES = [
  // Base rules (Nova's names and check strings).
  {
    name: 'context_is_admin',
    check: 'role:admin',
    description: 'Who is an administrator; also decides what `is_admin:True` means.',
  },
  {
    name: 'admin_api',
    check: 'is_admin:True',
    description: 'Default rule for administrative APIs (Nova, deprecated there).',
  },
  {
    name: 'admin_or_owner',
    check: 'is_admin:True or project_id:%(project_id)s',
    description: 'Administrators or the owning project (Nova, deprecated there).',
  },
  {
    name: 'project_member_api',
    check: 'role:member and project_id:%(project_id)s',
    description: 'A member of the target project.',
  },
  {
    name: 'project_reader_api',
    check: 'role:reader and project_id:%(project_id)s',
    description: 'A reader of the target project (members and admins are readers by inference).',
  },
  {
    name: 'project_member_or_admin',
    check: 'rule:project_member_api or rule:context_is_admin',
    description: 'A member of the target project, or an administrator.',
  },
  {
    name: 'project_reader_or_admin',
    check: 'rule:project_reader_api or rule:context_is_admin',
    description: 'A reader of the target project, or an administrator.',
  },
  {
    name: 'service_api',
    check: 'role:service',
    description: 'A service user (the role writers such as nova-compute carry).',
  },
  {
    name: 'service_or_admin',
    check: 'rule:service_api or rule:context_is_admin',
    description: 'A service user or an administrator.',
  },
  // Nova's rule names for the compute surface.
  {
    name: 'os_compute_api:os-instance-actions:list',
    check: 'rule:project_reader_or_admin',
    description: 'GET /servers/{id}/os-instance-actions (target: the server’s project).',
  },
  {
    name: 'os_compute_api:os-instance-actions:show',
    check: 'rule:project_reader_or_admin',
    description:
      'GET /servers/{id}/os-instance-actions/{request_id} (target: the server’s project).',
  },
  {
    name: 'os_compute_api:os-instance-actions:events',
    check: 'rule:context_is_admin',
    description:
      'See events before 2.51, and events’ tracebacks and hosts, in the compute and query APIs.',
  },
  {
    name: 'os_compute_api:os-instance-actions:events:details',
    check: 'rule:context_is_admin',
    description: 'See events’ `details` (2.84+ and the query API).',
  },
  {
    name: 'os_compute_api:servers:index',
    check: 'rule:project_reader_or_admin',
    description: 'GET /servers (target: the caller’s project).',
  },
  {
    name: 'os_compute_api:servers:detail',
    check: 'rule:project_reader_or_admin',
    description: 'GET /servers/detail (target: the caller’s project).',
  },
  {
    name: 'os_compute_api:servers:index:get_all_tenants',
    check: 'rule:context_is_admin',
    description: 'GET /servers?all_tenants=1 lists every project’s servers.',
  },
  {
    name: 'os_compute_api:servers:detail:get_all_tenants',
    check: 'rule:context_is_admin',
    description: 'GET /servers/detail?all_tenants=1 lists every project’s servers.',
  },
  {
    name: 'os_compute_api:servers:show',
    check: 'rule:project_reader_or_admin',
    description: 'GET /servers/{id} (target: the server’s project).',
  },
  // ActionTrail's own API.
  {
    name: 'actiontrail:write',
    check: 'rule:service_or_admin',
    description: 'Every write of /v1 (instances, actions, events, batch).',
  },
  {
    name: 'actiontrail:actions:query',
    check: 'rule:project_reader_or_admin',
    description: 'GET /v1/actions (target: the caller’s project).',
  },
  {
    name: 'actiontrail:actions:query:all_projects',
    check: 'rule:context_is_admin',
    description: 'GET /v1/actions reaches every project; others see their own project’s instances.',
  },
  {
    name: 'actiontrail:actions:host_filter',
    check: 'rule:os_compute_api:os-instance-actions:events',
    description: 'GET /v1/actions?host=…: filter by host (whoever may see hosts).',
  },
  {
    name: 'actiontrail:events:query',
    check: 'rule:project_reader_or_admin',
    description: 'GET /v1/events (target: the caller’s project).',
  },
  {
    name: 'actiontrail:instances:query',
    check: 'rule:project_reader_or_admin',
    description: 'GET /v1/instances (target: the caller’s project).',
  },
  {
    name: 'actiontrail:instances:query:all_projects',
    check: 'rule:context_is_admin',
    description: 'GET /v1/instances reaches every project; others see their own project.',
  },
  {
    name: 'actiontrail:stream',
    check: 'rule:project_reader_or_admin',
    description: 'GET /v1/stream (target: the caller’s project).',
  },
  {
    name: 'actiontrail:export',
    check: 'rule:context_is_admin',
    description:
      'GET /v1/export: every project’s history with tracebacks and hosts (target: the caller’s project).',
  },
  {
    name: 'actiontrail:checkpoints',
    check: 'rule:context_is_admin',
    description:
      'GET /v1/checkpoints: the hash chain’s signed checkpoints, kept outside the database ' +
      '(target: the caller’s project).',
  },
] as const satisfies readonly DefaultRule[]

/** A rule name ActionTrail enforces or defines by default. */
export type PolicyRuleName = (typeof DEFAULT_RULES)[number]['name']
