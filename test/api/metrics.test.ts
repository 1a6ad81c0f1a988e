/**
 * `GET /metrics` (issue 14) on a real `actiontrail serve` process: after a mixed workload (a batch
 * of writes with a refused operation, an idempotent retry, reads, a 401 and a 403, a stream
 * subscriber), the scrape parses as Prometheus text exposition format (every sample under a
 * `# TYPE` of its family, label syntax, numeric values), its counts match the workload, and no
 * label value holds an instance, request, user or project id. With ACTIONTRAIL_METRICS_TOKEN the
 * scrape needs that bearer token.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { spawnDemoServer, type SpawnedServer } from '../helpers/spawn-server.js'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y

/** Parses exposition text strictly: throws on any line that is not a comment or a valid sample. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) continue
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      assert.ok(name && NAME.test(name), line)
      assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? ''), line)
      types.set(name, type as string)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    const body = m[2] ?? ''
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body)
      assert.ok(l, `bad labels: ${line}`)
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      )
    }
    const value = Number(m[3] === '+Inf' ? Infinity : m[3])
    assert.ok(!Number.isNaN(value), line)
    const name = m[1] as string
    const family = [...types.keys()].find(
      (f) => name === f || ['_bucket', '_sum', '_count'].some((s) => name === f + s),
    )
    assert.ok(family, `sample without a # TYPE: ${line}`)
    samples.push({ name, labels, value })
  }
  return { types, samples }
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0)
}

async function call(
  server: SpawnedServer,
  method: string,
  path: string,
  role: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const token = server.tokens.find((e) => e.roles.includes(role as never))?.token ?? 'no-such-token'
  return fetch(server.url + path, {
    method,
    headers: {
      'x-auth-token': token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

async function scrape(server: SpawnedServer, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/metrics`, { headers })
  return { res, text: await res.text() }
}

test('a scrape after a mixed workload: valid exposition, counts that match, no ids in labels', async (t) => {
  const server = await spawnDemoServer(t)
  const vm = randomUUID()
  const req = `req-${randomUUID()}`
  const ops = [
    {
      op: 'instance_put',
      instance_uuid: vm,
      name: 'metrics-vm',
      project_id: 'p-metrics',
      user_id: 'u-metrics',
    },
    {
      op: 'action_start',
      instance_uuid: vm,
      action: 'reboot',
      request_id: req,
      user_id: 'u',
      project_id: 'p',
    },
    { op: 'action_finish', instance_uuid: vm, request_id: `req-${randomUUID()}` },
  ]
  const before = parseExposition((await scrape(server)).text).samples
  const batch = await call(server, 'POST', '/v1/batch', 'service', ops, {
    'idempotency-key': 'k-metrics-1',
  })
  const batchText = await batch.text()
  assert.equal(batch.status, 200, batchText)
  const replay = await call(server, 'POST', '/v1/batch', 'service', ops, {
    'idempotency-key': 'k-metrics-1',
  })
  assert.equal(replay.headers.get('idempotent-replayed'), 'true')
  await replay.text()
  for (let i = 0; i < 3; i++)
    assert.equal(
      (await call(server, 'GET', `/v2.1/servers/${vm}/os-instance-actions`, 'admin')).status,
      200,
    )
  assert.equal((await call(server, 'GET', '/v1/actions', 'none')).status, 401)
  assert.equal((await call(server, 'GET', '/v1/export', 'reader')).status, 403)
  const subscribed = await call(server, 'GET', '/v1/stream', 'admin')
  const reader = subscribed.body?.getReader()
  await reader?.read() // `retry` and `: ready`: the subscription is live

  const { res, text } = await scrape(server)
  await reader?.cancel()
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  const { types, samples } = parseExposition(text)
  for (const [name, type] of [
    ['actiontrail_http_request_duration_seconds', 'histogram'],
    ['actiontrail_writes_total', 'counter'],
    ['actiontrail_group_commit_operations', 'histogram'],
    ['actiontrail_group_commit_duration_seconds', 'histogram'],
    ['actiontrail_idempotency_replays_total', 'counter'],
    ['actiontrail_access_denied_total', 'counter'],
    ['actiontrail_stream_subscribers', 'gauge'],
    ['actiontrail_stream_dropped_total', 'counter'],
    ['actiontrail_stuck_actions', 'gauge'],
    ['actiontrail_process_cpu_seconds_total', 'counter'],
    ['actiontrail_nodejs_eventloop_lag_seconds', 'gauge'],
  ])
    assert.equal(types.get(name as string), type, name)

  const grew = (name: string, labels: Record<string, string>) =>
    value(samples, name, labels) - value(before, name, labels)
  // The batch's three writes, once: the replay answered from memory without writing.
  assert.equal(grew('actiontrail_writes_total', { operation: 'instance_put', outcome: 'ok' }), 1)
  assert.equal(grew('actiontrail_writes_total', { operation: 'action_start', outcome: 'ok' }), 1)
  assert.equal(
    grew('actiontrail_writes_total', { operation: 'action_finish', outcome: 'action_not_found' }),
    1,
  )
  assert.equal(grew('actiontrail_idempotency_replays_total', {}), 1)
  const route = '/v2.1/servers/:server_id/os-instance-actions'
  assert.equal(
    grew('actiontrail_http_request_duration_seconds_count', {
      route,
      method: 'GET',
      status: '200',
    }),
    3,
  )
  assert.equal(
    grew('actiontrail_http_request_duration_seconds_count', {
      route: '/v1/batch',
      method: 'POST',
      status: '200',
    }),
    2,
  )
  assert.equal(grew('actiontrail_access_denied_total', { status: '401' }), 1)
  assert.equal(grew('actiontrail_access_denied_total', { status: '403' }), 1)
  assert.equal(value(samples, 'actiontrail_stream_subscribers'), 1)
  // The gauge counts what the query API's state=stuck finds.
  const stuck = (await (
    await call(server, 'GET', '/v1/actions?state=stuck&limit=1000', 'admin')
  ).json()) as { actions: unknown[] }
  assert.equal(value(samples, 'actiontrail_stuck_actions'), stuck.actions.length)
  assert.ok(value(samples, 'actiontrail_group_commit_operations_count') >= 1)

  // No label value is an id: instance and request ids, users and projects of the tokens.
  const ids = [vm, req, ...server.tokens.flatMap((e) => [e.user_id, e.project_id])]
  const uuidish = /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/i
  for (const s of samples)
    for (const [label, v] of Object.entries(s.labels)) {
      assert.ok(!uuidish.test(v), `${s.name}{${label}="${v}"} holds an id`)
      assert.ok(!ids.some((id) => v.includes(id)), `${s.name}{${label}="${v}"} holds an id`)
    }
})

test('with ACTIONTRAIL_METRICS_TOKEN a scrape needs that bearer token', async (t) => {
  process.env.ACTIONTRAIL_METRICS_TOKEN = 'scrape-secret'
  let server: SpawnedServer
  try {
    server = await spawnDemoServer(t)
  } finally {
    delete process.env.ACTIONTRAIL_METRICS_TOKEN
  }
  const none = await scrape(server)
  assert.equal(none.res.status, 401)
  assert.ok(!none.text.includes('actiontrail_'))
  assert.equal((await scrape(server, { authorization: 'Bearer wrong' })).res.status, 401)
  const good = await scrape(server, { authorization: 'Bearer scrape-secret' })
  assert.equal(good.res.status, 200)
  assert.match(good.text, /# TYPE actiontrail_writes_total counter/)
})
