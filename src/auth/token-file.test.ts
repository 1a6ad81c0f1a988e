import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../domain/errors.js'
import { DEFAULT_POLICY } from './access-policy.js'
import {
  canReadActions,
  canReadServers,
  canSeeEventInternals,
  canSeeInstance,
  canWrite,
} from './policy.js'
import {
  loadTokenFile,
  parseTokenEntries,
  StaticTokenAuthenticator,
  tokenDigest,
} from './token-file.js'

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

test('tokens are printable ASCII without surrounding whitespace; errors name the index, never the token', () => {
  const entry = (token: string) => ({ token, user_id: 'u', project_id: 'p', roles: ['reader'] })
  const cases: [string, RegExp][] = [
    [' secret-lead', /tokens\[1\]: token has leading or trailing whitespace/],
    ['secret-trail\t', /tokens\[1\]: token has leading or trailing whitespace/],
    ['secret-\u00e9t\u00e9', /tokens\[1\]: token must be printable ASCII/],
    ['secret in-middle', /tokens\[1\]: token must be printable ASCII/],
    ['secret-\u2603', /tokens\[1\]: token must be printable ASCII/],
  ]
  for (const [token, expected] of cases) {
    assert.throws(
      () => parseTokenEntries({ tokens: [entry('ok-1'), entry(token)] }),
      (e) =>
        isAppError(e, 'invalid_input') && expected.test(e.message) && !/secret/.test(e.message),
      JSON.stringify(token),
    )
  }
  assert.equal(parseTokenEntries({ tokens: [entry('!~azAZ09-_.')] }).length, 1)
})

test('a world-readable token file is a warning, or refused with strict', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'at-tokens-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 't.json')
  const body = { tokens: [{ token: 'w1', user_id: 'u', project_id: 'p', roles: ['reader'] }] }
  writeFileSync(path, JSON.stringify(body))
  chmodSync(path, 0o644)
  const warnings: string[] = []
  const auth = await loadTokenFile(path, { warn: (m) => warnings.push(m) })
  assert.equal((await auth.authenticate('w1'))?.userId, 'u')
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] ?? '', /readable by every user/)
  await assert.rejects(
    loadTokenFile(path, { strict: true, warn: (m) => warnings.push(m) }),
    (e) => isAppError(e, 'invalid_input') && /readable by every user/.test(e.message),
  )
  chmodSync(path, 0o600)
  warnings.length = 0
  await loadTokenFile(path, { strict: true, warn: (m) => warnings.push(m) })
  assert.deepEqual(warnings, [])
})

test('Nova default policy: project readers and admins read; only admins see internals; service writes', () => {
  const p = (roles: string[], projectId = 'p1') => ({
    userId: 'u',
    projectId,
    roles: new Set(roles) as Set<never>,
  })
  assert.ok(canReadActions(DEFAULT_POLICY, p(['reader']), 'list', 'p1'))
  assert.ok(!canReadActions(DEFAULT_POLICY, p(['reader']), 'list', 'p2'))
  assert.ok(canReadActions(DEFAULT_POLICY, p(['admin'], 'p9'), 'show', 'p2'))
  assert.ok(!canReadActions(DEFAULT_POLICY, p(['service']), 'list', 'p1'))
  assert.ok(canSeeInstance(DEFAULT_POLICY, p(['service']), 'p1'))
  assert.ok(!canReadServers(DEFAULT_POLICY, p(['service']), 'show', 'p1'))
  assert.ok(canReadServers(DEFAULT_POLICY, p(['reader']), 'index', 'p1'))
  assert.ok(!canReadServers(DEFAULT_POLICY, p(['reader']), 'show', 'p2'))
  assert.ok(!canSeeInstance(DEFAULT_POLICY, p(['member', 'reader']), 'p2'))
  assert.ok(canSeeEventInternals(DEFAULT_POLICY, p(['admin']), 'p1'))
  assert.ok(!canSeeEventInternals(DEFAULT_POLICY, p(['member', 'reader']), 'p1'))
  assert.ok(canWrite(DEFAULT_POLICY, p(['service'])))
  assert.ok(!canWrite(DEFAULT_POLICY, p(['member', 'reader'])))
})

test('an entry may hold sha256:<hex> instead of the token; the digest itself is no token', async () => {
  const digest = tokenDigest('plain-Token-1')
  const auth = new StaticTokenAuthenticator(
    parseTokenEntries({
      tokens: [
        {
          token: `sha256:${digest.toUpperCase()}`,
          user_id: 'u',
          project_id: 'p',
          roles: ['reader'],
        },
        { token: 'other-Token-2', user_id: 'v', project_id: 'p', roles: ['admin'] },
      ],
    }),
  )
  assert.equal((await auth.authenticate('plain-Token-1'))?.userId, 'u')
  assert.equal((await auth.authenticate('other-Token-2'))?.userId, 'v')
  assert.equal(await auth.authenticate(`sha256:${digest}`), undefined)
  assert.equal(await auth.authenticate(digest), undefined)
  // A token and its digest are one credential: listing both is a duplicate.
  assert.throws(
    () =>
      parseTokenEntries({
        tokens: [
          { token: 'plain-Token-1', user_id: 'u', project_id: 'p', roles: [] },
          { token: `sha256:${digest}`, user_id: 'u', project_id: 'p', roles: [] },
        ],
      }),
    (e) => isAppError(e, 'invalid_input') && /duplicate/.test(e.message),
  )
})
