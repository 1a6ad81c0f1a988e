/**
 * Access audit (issue 11 part 6): every 401 and 403 is logged as `access denied` with the route
 * template and, for a 403, the caller's ids as keyed tags, and counted; the harness fails the test
 * if any raw id or token reaches the log.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness, TOKENS } from '../helpers/build-app.js'
import { SERVER } from '../helpers/seed.js'

test('every 401 and 403 is logged with tagged ids and a running count; others are not', async (t) => {
  const h = await buildHarness(t)
  const denied = () =>
    h
      .logs()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'access denied')

  assert.equal(
    (await h.app.inject({ url: `/v2.1/servers/${SERVER}/os-instance-actions` })).statusCode,
    401,
  )
  const forbidden = await h.app.inject({
    method: 'PUT',
    url: `/v1/instances/${SERVER}`,
    headers: { 'x-auth-token': TOKENS.memberA, 'content-type': 'application/json' },
    payload: { name: 'vm', project_id: 'p', user_id: 'u' },
  })
  assert.equal(forbidden.statusCode, 403)
  // Refused by the router before any route (an undecodable path): audited too.
  assert.equal(
    (await h.app.inject({ url: '/v2.1/servers/%zz/os-instance-actions' })).statusCode,
    401,
  )
  // A 404 is no refusal.
  const unknown = await h.app.inject({
    url: '/v2.1/servers/99999999-8888-4777-8666-555555555555/os-instance-actions',
    headers: { 'x-auth-token': TOKENS.memberA },
  })
  assert.equal(unknown.statusCode, 404)

  const lines = denied()
  assert.deepEqual(
    lines.map((l) => [l.status, l.route, l.denied_total]),
    [
      [401, '/v2.1/servers/:server_id/os-instance-actions', 1],
      [403, '/v1/instances/:uuid', 1],
      [401, 'unmatched', 2],
    ],
  )
  const refusal = lines[1]!
  assert.equal(refusal.level, 40) // warn
  assert.match(String(refusal.userId), /^id:[0-9a-f]{16}$/)
  assert.match(String(refusal.projectId), /^id:[0-9a-f]{16}$/)
  assert.equal(lines[0]!.userId, undefined)
})
