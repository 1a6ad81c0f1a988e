import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../domain/errors.js'
import {
  canReadActions,
  canReadServers,
  canSeeEventInternals,
  canSeeInstance,
  canWrite,
} from './policy.js'
import { loadTokenFile, parseTokenEntries } from './token-file.js'

test('token files load from JSON and YAML; roles are expanded admin → member → reader', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'at-tokens-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(
    join(dir, 't.json'),
    JSON.stringify({ tokens: [{ token: 'j1', user_id: 'u', project_id: 'p', roles: ['admin'] }] }),
  )
  writeFileSync(
    join(dir, 't.yaml'),
    'tokens:\n  - token: y1\n    user_id: u2\n    project_id: p2\n    roles: [member, service]\n',
  )
  const json = await loadTokenFile(join(dir, 't.json'))
  const admin = await json.authenticate('j1')
  assert.deepEqual([...(admin?.roles ?? [])].sort(), ['admin', 'member', 'reader'])
  assert.equal(await json.authenticate('J1'), undefined)
  assert.equal(await json.authenticate(''), undefined)
  const yaml = await loadTokenFile(join(dir, 't.yaml'))
  const member = await yaml.authenticate('y1')
  assert.equal(member?.projectId, 'p2')
  assert.deepEqual([...(member?.roles ?? [])].sort(), ['member', 'reader', 'service'])
  await assert.rejects(
    loadTokenFile(join(dir, 'missing.json')),
    (e) => isAppError(e, 'invalid_input') && /cannot be read: ENOENT/.test(e.message),
  )
})

test('malformed token files are rejected without echoing tokens', () => {
  const bad: unknown[] = [
    null,
    { tokens: 'x' },
    { tokens: [{ token: '', user_id: 'u', project_id: 'p', roles: [] }] },
    { tokens: [{ token: 'secret-1', user_id: 'u\n', project_id: 'p', roles: [] }] },
    { tokens: [{ token: 'secret-2', user_id: 'u', project_id: 'p', roles: ['superuser'] }] },
    {
      tokens: [
        { token: 'dup', user_id: 'u', project_id: 'p', roles: [] },
        { token: 'dup', user_id: 'v', project_id: 'p', roles: [] },
      ],
    },
  ]
  for (const content of bad) {
    assert.throws(
      () => parseTokenEntries(content),
      (e) => isAppError(e, 'invalid_input') && !/secret-|dup\b/.test(e.message),
    )
  }
})

test('Nova default policy: project readers and admins read; only admins see internals; service writes', () => {
  const p = (roles: string[], projectId = 'p1') => ({
    userId: 'u',
    projectId,
    roles: new Set(roles) as Set<never>,
  })
  assert.ok(canReadActions(p(['reader']), 'p1'))
  assert.ok(!canReadActions(p(['reader']), 'p2'))
  assert.ok(canReadActions(p(['admin'], 'p9'), 'p2'))
  assert.ok(!canReadActions(p(['service']), 'p1'))
  assert.ok(canSeeInstance(p(['service']), 'p1'))
  assert.ok(!canReadServers(p(['service']), 'p1'))
  assert.ok(canReadServers(p(['reader']), 'p1'))
  assert.ok(!canReadServers(p(['reader']), 'p2'))
  assert.ok(!canSeeInstance(p(['member', 'reader']), 'p2'))
  assert.ok(canSeeEventInternals(p(['admin'])))
  assert.ok(!canSeeEventInternals(p(['member', 'reader'])))
  assert.ok(canWrite(p(['service'])))
  assert.ok(!canWrite(p(['member', 'reader'])))
})
