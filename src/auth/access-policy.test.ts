/**
 * The default policy decides exactly what ActionTrail decided before policy files: the formulas
 * of the former hand-written policy.ts are the oracle here, compared over every combination of
 * roles and projects. Plus Nova's `is_admin` (from `context_is_admin`), implied roles and
 * system scope in the credentials.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AccessPolicy, DEFAULT_POLICY } from './access-policy.js'
import {
  canFilterByHost,
  canListAllTenants,
  canQueryActions,
  canQueryAllInstances,
  canQueryAllProjects,
  canQueryInstances,
  canReadActions,
  canReadServers,
  canSeeEventDetails,
  canSeeEventInternals,
  canSeeInstance,
  canWrite,
  isAdmin,
} from './policy.js'
import { expandRoles, ROLES, type Principal, type Role } from './principal.js'

// Every subset of the token-file roles, as the token file expands them.
const ROLE_SETS: Role[][] = Array.from({ length: 1 << ROLES.length }, (_, bits) =>
  ROLES.filter((_, i) => (bits >> i) & 1),
)

function principal(roles: Role[], projectId = 'p1'): Principal {
  return { userId: 'u1', projectId, roles: expandRoles(roles) }
}

describe('the defaults equal the access ActionTrail had before policy files', () => {
  // The former policy.ts, verbatim in meaning.
  const admin = (p: Principal) => p.roles.has('admin')
  const readerOrAdmin = (p: Principal, project: string) =>
    admin(p) || (p.roles.has('reader') && p.projectId === project)

  for (const roles of ROLE_SETS) {
    test(`roles [${roles.join(',')}]`, () => {
      const p = principal(roles)
      const policy = DEFAULT_POLICY
      for (const project of ['p1', 'p2']) {
        assert.equal(isAdmin(policy, p), admin(p))
        assert.equal(canSeeInstance(policy, p, project), admin(p) || project === 'p1')
        for (const rule of ['list', 'show'] as const)
          assert.equal(canReadActions(policy, p, rule, project), readerOrAdmin(p, project))
        for (const rule of ['index', 'detail', 'show'] as const)
          assert.equal(canReadServers(policy, p, rule, project), readerOrAdmin(p, project))
        assert.equal(canSeeEventInternals(policy, p, project), admin(p))
        assert.equal(canSeeEventDetails(policy, p, project), admin(p))
      }
      for (const rule of ['index', 'detail'] as const)
        assert.equal(canListAllTenants(policy, p, rule), admin(p))
      assert.equal(canWrite(policy, p), admin(p) || p.roles.has('service'))
      assert.equal(canQueryActions(policy, p), readerOrAdmin(p, p.projectId))
      assert.equal(canQueryInstances(policy, p), readerOrAdmin(p, p.projectId))
      assert.equal(canQueryAllProjects(policy, p), admin(p))
      assert.equal(canQueryAllInstances(policy, p), admin(p))
      assert.equal(canFilterByHost(policy, p), admin(p))
    })
  }
})

describe('credentials', () => {
  test('is_admin follows context_is_admin, as Nova computes it', () => {
    const policy = AccessPolicy.create({
      overrides: [
        { name: 'context_is_admin', check: 'role:admin or role:reader' },
        { name: 'actiontrail:write', check: 'is_admin:True' },
      ],
    })
    const reader = principal(['reader'])
    assert.equal(policy.credentialsFor(reader).is_admin, true)
    assert.equal(policy.allows('actiontrail:write', reader), true)
    assert.equal(policy.allows('actiontrail:write', principal(['service'])), false)
  })

  test('an is_admin check inside context_is_admin itself never makes anyone admin', () => {
    const policy = AccessPolicy.create({
      overrides: [{ name: 'context_is_admin', check: 'is_admin:True' }],
    })
    assert.equal(isAdmin(policy, principal(['admin'])), false)
  })

  test('implied roles are added whatever the letter case; system scope is a credential', () => {
    const creds = DEFAULT_POLICY.credentialsFor({
      userId: 'u',
      projectId: null,
      roles: ['Admin'],
      systemScope: 'all',
    })
    assert.deepEqual([...(creds.roles as string[])].sort(), ['admin', 'member', 'reader'])
    assert.equal(creds.system_scope, 'all')
    assert.equal(creds.project_id, null)
    const policy = AccessPolicy.create({
      overrides: [{ name: 'context_is_admin', check: 'role:admin and system_scope:all' }],
    })
    assert.equal(policy.check('context_is_admin', creds), true)
    assert.equal(isAdmin(policy, principal(['admin'])), false)
  })

  test("a Keystone principal's own role names reach role: checks; its empty project is None", () => {
    // Keystone mode keeps every role name Keystone gave (roleNames) next to the roles ActionTrail
    // knows; an operator's rule may name a custom role. A system-scoped principal has project ''.
    const policy = AccessPolicy.create({
      overrides: [{ name: 'actiontrail:actions:query', check: 'role:auditor' }],
    })
    const auditor: Principal = { ...principal(['reader']), roleNames: ['Auditor', 'reader'] }
    assert.equal(canQueryActions(policy, auditor), true)
    assert.equal(canQueryActions(policy, principal(['reader'])), false)
    const system: Principal = { ...principal(['admin']), projectId: '', systemScope: 'all' }
    assert.equal(policy.credentialsFor(system).project_id, null)
  })
})

describe('show', () => {
  test('every default rule is listed once, in order, and marked default', () => {
    const rules = DEFAULT_POLICY.describe()
    assert.equal(new Set(rules.map((r) => r.name)).size, rules.length)
    assert.ok(rules.every((r) => r.origin === 'default' && r.description))
    for (const name of [
      'os_compute_api:os-instance-actions:list',
      'os_compute_api:os-instance-actions:show',
      'os_compute_api:os-instance-actions:events',
      'os_compute_api:os-instance-actions:events:details',
      'os_compute_api:servers:index',
      'os_compute_api:servers:detail',
      'os_compute_api:servers:show',
      'actiontrail:write',
      'actiontrail:actions:query',
      'actiontrail:events:query',
      'actiontrail:stream',
    ])
      assert.ok(DEFAULT_POLICY.has(name), name)
  })
})
