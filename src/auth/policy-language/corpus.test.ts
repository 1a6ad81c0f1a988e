/**
 * Real-world check strings: Nova's and Keystone's shipped defaults (nova/policies/base.py,
 * instance_actions.py; keystone/common/policies/base.py and its identity:* rules) and operators'
 * overrides seen in deployments (a cloud's Nova policy with its own viewer/editor roles, the
 * "deny one role" pattern, Glance-style reader rules). Each rule set is built as a whole (so every
 * reference resolves and nothing cycles), then asked what oslo.policy would answer.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Credentials, Target } from './evaluator.js'
import { RuleSet } from './rule-set.js'

interface Case {
  rule: string
  credentials: Credentials
  target: Target
  allowed: boolean
  why: string
}

function check(rules: Record<string, string>, cases: readonly Case[]): void {
  const set = RuleSet.build(Object.entries(rules).map(([name, c]) => ({ name, check: c })))
  for (const c of cases) {
    assert.equal(set.enforce(c.rule, c.credentials, c.target), c.allowed, `${c.rule}: ${c.why}`)
  }
}

// Nova's base rules and instance-action rules, as shipped.
const NOVA = {
  context_is_admin: 'role:admin',
  admin_or_owner: 'is_admin:True or project_id:%(project_id)s',
  admin_api: 'is_admin:True',
  project_manager_api: 'role:manager and project_id:%(project_id)s',
  project_member_api: 'role:member and project_id:%(project_id)s',
  project_reader_api: 'role:reader and project_id:%(project_id)s',
  project_manager_or_admin: 'rule:project_manager_api or rule:context_is_admin',
  project_member_or_admin: 'rule:project_member_api or rule:context_is_admin',
  project_reader_or_admin: 'rule:project_reader_api or rule:context_is_admin',
  // The Ussuri-era system-scope rules many deployed files still carry.
  system_admin_api: 'role:admin and system_scope:all',
  system_reader_api: 'role:reader and system_scope:all',
  system_admin_or_owner: 'rule:system_admin_api or rule:project_member_api',
  system_or_project_reader: 'rule:system_reader_api or rule:project_reader_api',
  'os_compute_api:os-instance-actions:list': 'rule:project_reader_or_admin',
  'os_compute_api:os-instance-actions:show': 'rule:project_reader_or_admin',
  'os_compute_api:os-instance-actions:events': 'rule:context_is_admin',
  'os_compute_api:os-instance-actions:events:details': 'rule:context_is_admin',
}

// Keystone's base rules and some identity:* defaults, as shipped.
const KEYSTONE = {
  admin_required: 'role:admin or is_admin:1',
  service_role: 'role:service',
  service_or_admin: 'rule:admin_required or rule:service_role',
  owner: 'user_id:%(user_id)s',
  admin_or_owner: 'rule:admin_required or rule:owner',
  token_subject: 'user_id:%(target.token.user_id)s',
  admin_or_token_subject: 'rule:admin_required or rule:token_subject',
  service_admin_or_token_subject: 'rule:service_or_admin or rule:token_subject',
  'identity:check_token':
    'rule:admin_required or (role:reader and system_scope:all) or rule:token_subject',
  'identity:get_credential':
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
    'user_id:%(target.credential.user_id)s',
  'identity:get_user':
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
    '(role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
  'identity:get_limit':
    'rule:admin_required or (role:reader and system_scope:all) or ' +
    '(domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) or ' +
    '(project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)',
  'identity:list_role_assignments':
    '(rule:admin_required) or (role:reader and system_scope:all) or ' +
    '(role:reader and domain_id:%(target.domain_id)s)',
}

// Operators' overrides: a cloud's own viewer/editor/admin roles layered on Nova's names.
const OPERATOR = {
  context_is_admin: 'role:cloud_compute_admin',
  owner_or_no_project: 'project_id:%(project_id)s or ccloud_no_project_id_in_target:True',
  member: 'role:member and rule:owner_or_no_project',
  viewer: '(role:compute_viewer and rule:owner_or_no_project) or role:cloud_compute_viewer',
  admin: '(role:compute_admin or role:compute_admin_wsg) and rule:owner_or_no_project',
  context_is_compute_admin: 'rule:context_is_admin or rule:admin',
  context_is_editor: 'rule:context_is_compute_admin or rule:member',
  context_is_viewer: 'rule:context_is_editor or rule:viewer',
  'os_compute_api:os-instance-actions:list': 'rule:context_is_viewer',
  'os_compute_api:os-instance-actions:events': 'rule:context_is_compute_admin',
  deny_stack_user: 'not role:heat_stack_user',
  'glance-style:get_image': 'rule:context_is_admin or (role:reader and project_id:%(project_id)s)',
  'anyone:version': '',
  'nobody:shelve': '!',
}

describe('Nova defaults', () => {
  const reader = (project: string): Credentials => ({
    roles: ['reader'],
    project_id: project,
    is_admin: false,
  })
  test('project readers and admins read actions; only admins see events', () => {
    check(NOVA, [
      {
        rule: 'os_compute_api:os-instance-actions:list',
        credentials: reader('p1'),
        target: { project_id: 'p1' },
        allowed: true,
        why: 'reader of the project',
      },
      {
        rule: 'os_compute_api:os-instance-actions:list',
        credentials: reader('p1'),
        target: { project_id: 'p2' },
        allowed: false,
        why: 'reader of another project',
      },
      {
        rule: 'os_compute_api:os-instance-actions:show',
        credentials: { roles: ['ADMIN'], project_id: 'p9' },
        target: { project_id: 'p1' },
        allowed: true,
        why: 'admin of any project (role name case ignored)',
      },
      {
        rule: 'os_compute_api:os-instance-actions:events',
        credentials: reader('p1'),
        target: { project_id: 'p1' },
        allowed: false,
        why: 'events are for admins',
      },
      {
        rule: 'admin_or_owner',
        credentials: { roles: [], project_id: 'p1', is_admin: true },
        target: { project_id: 'p2' },
        allowed: true,
        why: 'is_admin:True',
      },
      {
        rule: 'system_or_project_reader',
        credentials: { roles: ['reader'], system_scope: 'all' },
        target: { project_id: 'p1' },
        allowed: true,
        why: 'system reader',
      },
      {
        rule: 'system_admin_or_owner',
        credentials: { roles: ['reader'], project_id: 'p1' },
        target: { project_id: 'p1' },
        allowed: false,
        why: 'a reader is not a member',
      },
      {
        rule: 'project_manager_or_admin',
        credentials: { roles: ['manager'], project_id: 'p1' },
        target: { project_id: 'p1' },
        allowed: true,
        why: 'project manager',
      },
    ])
  })
})

describe('Keystone defaults', () => {
  test('admin_required, system readers, owners and nested credentials', () => {
    check(KEYSTONE, [
      {
        rule: 'identity:check_token',
        credentials: { roles: ['member'], user_id: 'u1' },
        target: { 'target.token.user_id': 'u1' },
        allowed: true,
        why: 'token subject',
      },
      {
        rule: 'identity:check_token',
        credentials: { roles: ['member'], user_id: 'u1' },
        target: { 'target.token.user_id': 'u2' },
        allowed: false,
        why: "someone else's token",
      },
      {
        rule: 'identity:check_token',
        credentials: { roles: ['reader'], user_id: 'u1', system_scope: 'all' },
        target: { 'target.token.user_id': 'u2' },
        allowed: true,
        why: 'system reader',
      },
      {
        rule: 'identity:get_credential',
        credentials: { roles: [], user_id: 'u1' },
        target: { 'target.credential.user_id': 'u1' },
        allowed: true,
        why: 'own credential',
      },
      {
        rule: 'identity:get_user',
        credentials: { roles: ['reader'], user_id: 'u1', token: { domain: { id: 'd1' } } },
        target: { 'target.user.domain_id': 'd1', 'target.user.id': 'u9' },
        allowed: true,
        why: 'domain reader through token.domain.id',
      },
      {
        rule: 'identity:get_user',
        credentials: { roles: ['reader'], user_id: 'u1', token: { domain: { id: 'd1' } } },
        target: { 'target.user.domain_id': 'd2', 'target.user.id': 'u9' },
        allowed: false,
        why: 'reader of another domain',
      },
      {
        rule: 'identity:get_limit',
        credentials: { roles: ['member'], project_id: 'p1' },
        target: {
          'target.limit.domain.id': 'd1',
          'target.limit.project.domain_id': 'd1',
          'target.limit.project_id': 'p1',
        },
        allowed: true,
        why: 'project limit of own project',
      },
      {
        rule: 'identity:get_limit',
        credentials: { roles: ['member'], project_id: 'None' },
        target: {
          'target.limit.domain.id': 'd1',
          'target.limit.project.domain_id': 'd1',
          'target.limit.project_id': null,
        },
        allowed: false,
        why: '"not None:%(…)s" keeps a domain limit (project None) from matching',
      },
      {
        rule: 'identity:list_role_assignments',
        credentials: { roles: ['admin'], is_admin: false },
        target: {},
        allowed: true,
        why: 'role:admin',
      },
      {
        rule: 'admin_required',
        credentials: { roles: [], is_admin: true },
        target: {},
        allowed: false,
        why: "is_admin:1 never equals Python's str(True)",
      },
      {
        rule: 'service_admin_or_token_subject',
        credentials: { roles: ['service'], user_id: 'nova' },
        target: { 'target.token.user_id': 'u1' },
        allowed: true,
        why: 'service role',
      },
    ])
  })
})

describe("operators' overrides", () => {
  test('a cloud with its own admin, editor and viewer roles', () => {
    check(OPERATOR, [
      {
        rule: 'os_compute_api:os-instance-actions:list',
        credentials: { roles: ['compute_viewer'], project_id: 'p1' },
        target: { project_id: 'p1' },
        allowed: true,
        why: 'viewer of the project',
      },
      {
        rule: 'os_compute_api:os-instance-actions:list',
        credentials: { roles: ['compute_viewer'], project_id: 'p1' },
        target: { project_id: 'p2' },
        allowed: false,
        why: 'viewer of another project',
      },
      {
        rule: 'os_compute_api:os-instance-actions:list',
        credentials: {
          roles: ['compute_viewer'],
          project_id: 'p1',
          ccloud_no_project_id_in_target: true,
        },
        target: { project_id: 'p2' },
        allowed: true,
        why: 'the operator-defined credential',
      },
      {
        rule: 'os_compute_api:os-instance-actions:list',
        credentials: { roles: ['cloud_compute_viewer'], project_id: 'p1' },
        target: { project_id: 'p2' },
        allowed: true,
        why: 'cloud-wide viewer',
      },
      {
        rule: 'os_compute_api:os-instance-actions:events',
        credentials: { roles: ['admin'], project_id: 'p1' },
        target: { project_id: 'p1' },
        allowed: false,
        why: 'plain admin is not this cloud’s admin',
      },
      {
        rule: 'os_compute_api:os-instance-actions:events',
        credentials: { roles: ['compute_admin_wsg'], project_id: 'p1' },
        target: { project_id: 'p1' },
        allowed: true,
        why: 'project compute admin',
      },
      {
        rule: 'deny_stack_user',
        credentials: { roles: ['member', 'heat_stack_user'] },
        target: {},
        allowed: false,
        why: 'the denied role',
      },
      {
        rule: 'deny_stack_user',
        credentials: { roles: ['member'] },
        target: {},
        allowed: true,
        why: 'anyone else',
      },
      {
        rule: 'glance-style:get_image',
        credentials: { roles: ['reader'], project_id: 'p1' },
        target: { project_id: 'p1' },
        allowed: true,
        why: 'reader of the project',
      },
      { rule: 'anyone:version', credentials: {}, target: {}, allowed: true, why: 'empty string' },
      {
        rule: 'nobody:shelve',
        credentials: { roles: ['cloud_compute_admin'] },
        target: {},
        allowed: false,
        why: '"!"',
      },
    ])
  })
})
