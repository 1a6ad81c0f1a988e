/**
 * What each check decides, as oslo.policy's _checks.py does: role names ignore letter case,
 * generic checks compare Python's text of a credential or literal with the substituted match,
 * dotted paths walk into nested credentials and lists, a target key that is missing makes the
 * check false, and rules are looked up by name (an unknown one is false).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PolicyNode } from './ast.js'
import { evaluate, type Credentials, type Target } from './evaluator.js'
import { parsePolicy } from './parser.js'

function decide(
  source: string,
  credentials: Credentials,
  target: Target = {},
  rules: Record<string, string> = {},
): boolean {
  const parsed: Record<string, PolicyNode> = {}
  for (const [name, check] of Object.entries(rules)) parsed[name] = parsePolicy(check)
  return evaluate(parsePolicy(source), { credentials, target, rule: (n) => parsed[n] })
}

describe('role:', () => {
  test('role names compare ignoring letter case, both ways', () => {
    assert.equal(decide('role:Admin', { roles: ['admin'] }), true)
    assert.equal(decide('role:admin', { roles: ['ADMIN'] }), true)
    assert.equal(decide('role:admin', { roles: ['administrator'] }), false)
  })
  test('a role may come from the target', () => {
    assert.equal(decide('role:%(required)s', { roles: ['auditor'] }, { required: 'auditor' }), true)
    assert.equal(decide('role:%(required)s', { roles: ['auditor'] }, {}), false)
  })
  test('no roles at all: denied', () => {
    assert.equal(decide('role:reader', {}), false)
  })
})

describe('generic checks', () => {
  test('project_id:%(project_id)s matches the target project exactly (case matters)', () => {
    const creds = { project_id: 'p1' }
    assert.equal(decide('project_id:%(project_id)s', creds, { project_id: 'p1' }), true)
    assert.equal(decide('project_id:%(project_id)s', creds, { project_id: 'P1' }), false)
    assert.equal(decide('project_id:%(project_id)s', creds, { project_id: 'p2' }), false)
  })
  test('a %(key)s missing from the target makes the check false, not an error', () => {
    assert.equal(decide('project_id:%(project_id)s', { project_id: 'p1' }, {}), false)
    assert.equal(decide('not project_id:%(project_id)s', { project_id: 'p1' }, {}), true)
  })
  test('a literal match compares with the credential', () => {
    assert.equal(decide('system_scope:all', { system_scope: 'all' }), true)
    assert.equal(decide('system_scope:all', { system_scope: 'domain' }), false)
    assert.equal(decide('system_scope:all', {}), false)
  })
  test('booleans compare as Python prints them: is_admin:True', () => {
    assert.equal(decide('is_admin:True', { is_admin: true }), true)
    assert.equal(decide('is_admin:True', { is_admin: false }), false)
    assert.equal(decide('is_admin:true', { is_admin: true }), false)
    assert.equal(decide('is_admin:False', { is_admin: false }), true)
    // Keystone's admin_required says is_admin:1, which str(True) never equals.
    assert.equal(decide('is_admin:1', { is_admin: true }), false)
  })
  test('dotted paths walk nested credentials; lists match any element', () => {
    const creds = {
      token: { project: { domain: { id: 'd1' } } },
      groups: [{ id: 'g1' }, { id: 'g2' }],
    }
    assert.equal(decide('token.project.domain.id:%(domain)s', creds, { domain: 'd1' }), true)
    assert.equal(decide('token.project.domain.id:%(domain)s', creds, { domain: 'd2' }), false)
    assert.equal(decide('token.project.missing:x', creds), false)
    assert.equal(decide('groups.id:g2', creds), true)
    assert.equal(decide('groups.id:g3', creds), false)
  })
  test('a literal kind compares with the target: quoted strings, True, None, integers', () => {
    assert.equal(decide("'member':%(role.name)s", {}, { 'role.name': 'member' }), true)
    assert.equal(decide('"member":%(role.name)s', {}, { 'role.name': 'reader' }), false)
    assert.equal(decide('True:%(user.enabled)s', {}, { 'user.enabled': true }), true)
    assert.equal(decide('True:%(user.enabled)s', {}, { 'user.enabled': false }), false)
    assert.equal(decide('None:%(target.project_id)s', {}, { 'target.project_id': null }), true)
    assert.equal(decide('None:%(target.project_id)s', {}, { 'target.project_id': 'p1' }), false)
    assert.equal(decide('5:%(n)s', {}, { n: 5 }), true)
  })
  test('%% is a percent sign; text around a substitution is kept', () => {
    assert.equal(decide('name:50%%', { name: '50%' }), true)
    assert.equal(decide('name:vm-%(suffix)s-x', { name: 'vm-7-x' }, { suffix: '7' }), true)
  })
  test('a target cannot smuggle a check: its value is compared as text, not parsed', () => {
    assert.equal(
      decide('project_id:%(project_id)s', { project_id: 'p1' }, { project_id: 'p1 or @' }),
      false,
    )
  })
})

describe('rule:', () => {
  test('refers to another rule by its exact name', () => {
    const rules = { owner: 'user_id:%(user_id)s', admin_or_owner: 'role:admin or rule:owner' }
    assert.equal(decide('rule:admin_or_owner', { user_id: 'u1' }, { user_id: 'u1' }, rules), true)
    assert.equal(decide('rule:admin_or_owner', { user_id: 'u2' }, { user_id: 'u1' }, rules), false)
    assert.equal(decide('rule:Owner', { user_id: 'u1' }, { user_id: 'u1' }, rules), false)
  })
  test('an unknown rule denies (fail closed)', () => {
    assert.equal(decide('rule:nothing', { roles: ['admin'] }), false)
    assert.equal(decide('not rule:nothing', {}), true)
  })
  test('a cycle in a hand-built context denies instead of recursing forever', () => {
    assert.equal(decide('rule:a', { roles: [] }, {}, { a: 'rule:b', b: 'rule:a or role:x' }), false)
    assert.equal(
      decide('rule:a', { roles: ['x'] }, {}, { a: 'rule:b', b: 'rule:a or role:x' }),
      true,
    )
  })
})
