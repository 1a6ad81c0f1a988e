/**
 * The writer tag key lives in the database (migration 0007): a real `actiontrail serve` on a
 * SQLite file, stopped and started again, tags the same writer with the same tag.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { TokenEntry } from '../../src/auth/token-file.js'
import { serverLogLeaks, spawnServe, type RunningServe } from '../helpers/spawn-server.js'

const VM = '44444444-5555-4666-8777-888888888888'
const TOKENS: TokenEntry[] = [
  {
    token: 'tok-e2e-service-31c',
    user_id: 'svc-user-e2e-7f',
    project_id: 'proj-e2e',
    roles: ['service'],
  },
  {
    token: 'tok-e2e-admin-92d',
    user_id: 'admin-user-e2e-3a',
    project_id: 'proj-e2e',
    roles: ['admin'],
  },
]
const [SERVICE, ADMIN] = TOKENS.map((e) => e.token) as [string, string]

/** Runs `actiontrail serve` on the file until `stop`; resolves with its URL once it listens. */
function serve(t: TestContext, dir: string): Promise<RunningServe> {
  return spawnServe(
    t,
    ['--port', '0', '--db', join(dir, 'trail.db'), '--tokens', join(dir, 'tokens.json')],
    {
      cwd: dir,
      onStop: (output) =>
        assert.deepEqual(serverLogLeaks(output, TOKENS), [], "the server's log leaks"),
    },
  )
}

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function startAndTag(url: string, requestId: string): Promise<string> {
  const started = await call(url, 'POST', `/v1/instances/${VM}/actions`, SERVICE, {
    action: 'reboot',
    request_id: requestId,
    user_id: 'u',
    project_id: 'p',
  })
  assert.equal(started.status, 201, JSON.stringify(started.body))
  const page = await call(url, 'GET', `/v1/actions?request_id=${requestId}`, ADMIN)
  assert.equal(page.status, 200)
  const [action] = page.body.actions as { written_by?: string }[]
  return action?.written_by as string
}

test('a restarted server on the same SQLite file gives the same writer the same tag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-tag-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ tokens: TOKENS }), { mode: 0o600 })
  const first = await serve(t, dir)
  const put = await call(first.url, 'PUT', `/v1/instances/${VM}`, SERVICE, {
    name: 'vm',
    project_id: 'proj-e2e',
    user_id: 'u',
  })
  assert.equal(put.status, 201)
  const before = await startAndTag(first.url, 'req-before')
  assert.match(before, /^w:[0-9a-f]{16}$/)
  await first.stop()
  const second = await serve(t, dir)
  assert.equal(await startAndTag(second.url, 'req-after'), before)
})
