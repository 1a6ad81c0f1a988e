/**
 * Two `actiontrail serve` processes on one PostgreSQL database: many clients write the same
 * actions and events through both nodes at once (single endpoints and batches, same instances,
 * same request ids, each write sent to both nodes, as a client that retries on another node
 * would). Afterwards nothing acknowledged is missing, nothing is duplicated, and no request got a
 * 5xx. Skipped loudly when PostgreSQL does not answer (a failure under
 * ACTIONTRAIL_REQUIRE_BACKENDS=1).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { createServerDatabase, REQUIRE_BACKENDS, serverProblem } from '../helpers/backends.js'
import { spawnServe, type RunningServe } from '../helpers/spawn-server.js'

const SERVICE = 'tok-multi-node-service'
const ADMIN = 'tok-multi-node-admin'
const INSTANCES = [1, 2, 3].map((i) => `00000000-0000-4000-8000-00000000000${i}`)
const ACTIONS = 60
const EVENTS = ['compute_prep', 'compute_run']
const CLIENTS_PER_NODE = 6

/** Starts `actiontrail serve` on the database; resolves with its URL once it listens. */
function serve(t: TestContext, database: string, tokens: string): Promise<RunningServe> {
  return spawnServe(
    t,
    ['--db', database, '--tokens', tokens, '--port', '0', '--log-level', 'warn'],
    { env: { ACTIONTRAIL_LOG_KEY: 'multi-node-key', ACTIONTRAIL_DB_POOL_MAX: '4' } },
  )
}

interface Answer {
  status: number
  body: unknown
}

const statuses: number[] = []

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-auth-token': SERVICE,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  statuses.push(res.status)
  assert.ok(res.status < 500, `${method} ${path} → ${res.status}: ${text.slice(0, 300)}`)
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined }
}

const time = (action: number, step: number) =>
  `2026-03-01T00:${String(Math.floor(action / 60)).padStart(2, '0')}:` +
  `${String(action % 60).padStart(2, '0')}.${String(step * 1000 + 7).padStart(6, '0')}`

/** The writes of one action's whole life, as batch operations with explicit times. */
function lifecycle(k: number): Record<string, unknown>[] {
  const base = { instance_uuid: INSTANCES[k % INSTANCES.length], request_id: `req-${k}` }
  const ops: Record<string, unknown>[] = [
    {
      op: 'action_start',
      ...base,
      action: 'reboot',
      user_id: 'u-1',
      project_id: 'p-1',
      start_time: time(k, 0),
    },
  ]
  EVENTS.forEach((event, e) => {
    ops.push({
      op: 'event_start',
      ...base,
      event,
      host: `compute-${e}`,
      start_time: time(k, 1 + 2 * e),
    })
    ops.push({
      op: 'event_finish',
      ...base,
      event,
      result: 'Success',
      finish_time: time(k, 2 + 2 * e),
    })
  })
  ops.push({ op: 'action_finish', ...base, finish_time: time(k, 9) })
  return ops
}

/** Sends one operation through the single endpoint it belongs to. */
async function single(base: string, op: Record<string, unknown>): Promise<Answer> {
  const {
    op: name,
    instance_uuid: uuid,
    request_id: rid,
    event,
    ...body
  } = op as Record<string, string>
  const actions = `/v1/instances/${uuid}/actions`
  switch (name) {
    case 'action_start':
      return call(base, 'POST', actions, { ...body, request_id: rid })
    case 'event_start':
      return call(base, 'POST', `${actions}/${rid}/events`, { ...body, event })
    case 'event_finish':
      return call(base, 'POST', `${actions}/${rid}/events/${event}/finish`, body)
    default:
      return call(base, 'POST', `${actions}/${rid}/finish`, body)
  }
}

test('two nodes on one PostgreSQL database lose nothing and duplicate nothing under racing writers', async (t) => {
  const problem = await serverProblem('postgres')
  if (problem) {
    if (REQUIRE_BACKENDS) assert.fail(problem)
    return t.skip(problem)
  }
  const database = await createServerDatabase('postgres')
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-multi-node-'))
  const tokens = join(dir, 'tokens.json')
  writeFileSync(
    tokens,
    JSON.stringify({
      tokens: [
        { token: SERVICE, user_id: 'u-1', project_id: 'p-1', roles: ['service'] },
        { token: ADMIN, user_id: 'u-admin', project_id: 'p-admin', roles: ['admin'] },
      ],
    }),
  )
  // Both nodes start at once on the empty database: their migrations race too.
  const nodes = await Promise.all([serve(t, database.url, tokens), serve(t, database.url, tokens)])
  // node:test runs after-hooks in registration order (checked on Node 20), so this one, registered
  // after the servers' own stop hooks, runs once their pools are gone.
  t.after(async () => {
    rmSync(dir, { recursive: true, force: true })
    await database.drop()
  })
  const urls = nodes.map((n) => n.url)

  // Both nodes register every instance at once.
  await Promise.all(
    urls.flatMap((url) =>
      INSTANCES.map((uuid) =>
        call(url, 'PUT', `/v1/instances/${uuid}`, {
          name: `vm-${uuid.slice(-1)}`,
          project_id: 'p-1',
          user_id: 'u-1',
        }),
      ),
    ),
  )

  // Every action's life is written twice, through both nodes at once: the same operations with
  // the same times, in batches or one by one, some batches under a shared Idempotency-Key.
  const acknowledged = new Set<string>()
  const work: (() => Promise<void>)[] = []
  for (let k = 0; k < ACTIONS; k++) {
    urls.forEach((url, n) => {
      work.push(async () => {
        const ops = lifecycle(k)
        if ((k + n) % 3 === 0) {
          const headers: Record<string, string> =
            k % 6 === 0 ? { 'idempotency-key': `life-${k}` } : {}
          const { body } = await call(url, 'POST', '/v1/batch', ops, headers)
          const results = (body as { results: { status: number }[] }).results
          results.forEach((r, i) => {
            assert.ok(
              r.status === 200 || r.status === 201,
              `batch op ${i} of req-${k}: ${JSON.stringify(r)}`,
            )
            if (ops[i]?.op === 'event_start')
              acknowledged.add(`req-${k}/${String(ops[i]?.event)}/${String(ops[i]?.start_time)}`)
          })
        } else {
          for (const op of ops) {
            const { status } = await single(url, op)
            assert.ok(status === 200 || status === 201, `${String(op.op)} of req-${k} → ${status}`)
            if (op.op === 'event_start')
              acknowledged.add(`req-${k}/${String(op.event)}/${String(op.start_time)}`)
          }
        }
      })
    })
  }
  let next = 0
  const client = async () => {
    for (let job = work[next++]; job; job = work[next++]) await job()
  }
  await Promise.all(Array.from({ length: CLIENTS_PER_NODE * urls.length }, client))
  assert.equal(acknowledged.size, ACTIONS * EVENTS.length)

  // Read everything back through both nodes, as admin at 2.84.
  const read = { 'x-auth-token': ADMIN, 'openstack-api-version': 'compute 2.84' }
  for (const url of urls) {
    for (const [i, uuid] of INSTANCES.entries()) {
      const { body } = await call(
        url,
        'GET',
        `/v2.1/servers/${uuid}/os-instance-actions`,
        undefined,
        read,
      )
      const listed = (body as { instanceActions: { request_id: string }[] }).instanceActions.map(
        (a) => a.request_id,
      )
      const expected = Array.from({ length: ACTIONS }, (_, k) => k)
        .filter((k) => k % INSTANCES.length === i)
        .map((k) => `req-${k}`)
      assert.equal(new Set(listed).size, listed.length, 'no duplicate actions')
      assert.deepEqual([...listed].sort(), expected.sort())
    }
    for (let k = 0; k < ACTIONS; k++) {
      const uuid = INSTANCES[k % INSTANCES.length] as string
      const { status, body } = await call(
        url,
        'GET',
        `/v2.1/servers/${uuid}/os-instance-actions/req-${k}`,
        undefined,
        read,
      )
      assert.equal(status, 200)
      const action = (
        body as {
          instanceAction: {
            message: string | null
            events: { event: string; start_time: string; result: string | null }[]
          }
        }
      ).instanceAction
      assert.equal(action.message, null)
      const events = action.events.map((e) => `req-${k}/${e.event}/${e.start_time}`)
      assert.equal(new Set(events).size, events.length, `req-${k}: no duplicate events`)
      assert.deepEqual(
        events.sort(),
        [...acknowledged].filter((a) => a.startsWith(`req-${k}/`)).sort(),
      )
      assert.ok(
        action.events.every((e) => e.result === 'Success'),
        `req-${k}: every event finished once, with Success`,
      )
    }
  }
  assert.ok(statuses.every((s) => s < 500))
})
