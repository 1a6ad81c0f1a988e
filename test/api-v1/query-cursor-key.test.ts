/**
 * The query API's cursor key (ACTIONTRAIL_CURSOR_SECRET): servers sharing it accept each other's
 * cursors (another node, or the same one after a restart) and continue at the same position; a
 * server with another key — the random per-process default — refuses them with 400.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness, PROJECT_A, TOKENS, type Harness } from '../helpers/build-app.js'
import { assertV1Error, ok, v1 } from './v1-helpers.js'

const VM = '11111111-2222-4333-8444-cccccccccccc'
const admin = { token: TOKENS.admin }

/** The same five actions on every node's database. */
async function seed(h: Harness): Promise<void> {
  const body = { name: 'vm', project_id: PROJECT_A, user_id: 'u' }
  ok(await v1(h, 'PUT', `/v1/instances/${VM}`, body, admin), 201)
  for (let i = 0; i < 5; i++) {
    const action = {
      action: 'reboot',
      request_id: `req-${i}`,
      user_id: 'u',
      project_id: PROJECT_A,
      start_time: `2026-03-01T10:0${i}:00Z`,
    }
    ok(await v1(h, 'POST', `/v1/instances/${VM}/actions`, action, admin), 201)
  }
}

const ids = (body: Record<string, unknown>) =>
  (body.actions as { request_id: string }[]).map((a) => a.request_id)

test('a cursor works on every server with the same key, and only there', async (t) => {
  const key = Buffer.from('a shared secret of the deployment')
  const [first, second, stranger] = await Promise.all([
    buildHarness(t, ':memory:', { cursorKey: key }),
    buildHarness(t, ':memory:', { cursorKey: key }),
    buildHarness(t),
  ])
  for (const h of [first, second, stranger]) await seed(h)
  const page = ok(await v1(first, 'GET', '/v1/actions?limit=2', undefined, admin), 200)
  assert.deepEqual(ids(page), ['req-4', 'req-3'])
  const next = `/v1/actions?limit=2&cursor=${String(page.next_cursor)}`
  assert.deepEqual(ids(ok(await v1(second, 'GET', next, undefined, admin), 200)), [
    'req-2',
    'req-1',
  ])
  assertV1Error(await v1(stranger, 'GET', next, undefined, admin), 400, 'invalid_input', /cursor/)
})
