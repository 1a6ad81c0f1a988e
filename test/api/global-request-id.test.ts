/**
 * Request-id correlation (issue 14): a caller's `X-OpenStack-Request-ID` in Nova's `req-<uuid>`
 * form becomes the request's global request id, bound to its log lines as a keyed tag (never the
 * id itself); the answer keeps a local request id of its own; a header in any other form is
 * ignored. `actiontrail log-tag ID` prints the same tag given the servers' log key.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { buildHarness, TOKENS } from '../helpers/build-app.js'
import { runCli } from '../helpers/run-cli.js'

function completedLines(logs: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .filter((l) => l.includes('request completed'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

test("a caller's X-OpenStack-Request-ID is the global request id of the request's log lines, tagged", async (t) => {
  const h = await buildHarness(t)
  const global = `req-${randomUUID()}`
  const res = await h.app.inject({
    method: 'GET',
    url: '/v1/actions',
    headers: { 'x-auth-token': TOKENS.admin, 'x-openstack-request-id': global },
  })
  assert.equal(res.statusCode, 200)
  const local = res.headers['x-openstack-request-id']
  assert.match(String(local), /^req-[0-9a-f-]{36}$/)
  assert.notEqual(local, global, 'the answer carries our own request id')

  const tag = await runCli(['log-tag', global, '--log-key', 'test-log-key'])
  assert.equal(tag.code, 0, tag.stderr)
  const [id, expected] = tag.stdout.trim().split(' ')
  assert.equal(id, global)
  assert.match(String(expected), /^id:[0-9a-f]{16}$/)
  const logs = h.logs()
  const [line] = completedLines(logs)
  assert.equal(line?.global_request_id, expected, 'the log line has the tag log-tag prints')
  assert.ok(!logs.includes(global), 'the id itself never reaches the log')
})

test('a header not in the req-<uuid> form is ignored; log-tag needs the key', async (t) => {
  const h = await buildHarness(t)
  for (const value of [
    'req-not-a-uuid',
    `REQ-${randomUUID()}`,
    `req-${randomUUID()}x`,
    'x'.repeat(300),
  ]) {
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/actions',
      headers: { 'x-auth-token': TOKENS.admin, 'x-openstack-request-id': value },
    })
    assert.equal(res.statusCode, 200)
  }
  for (const line of completedLines(h.logs()))
    assert.ok(!('global_request_id' in line), JSON.stringify(line))
  const noKey = await runCli(['log-tag', 'req-x'], { ACTIONTRAIL_LOG_KEY: '' })
  assert.equal(noKey.code, 2)
  assert.match(noKey.stderr, /the log key is needed/)
})
