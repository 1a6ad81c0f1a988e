/**
 * `npm run bench:read [-- --actions N --clients C --requests R --page-requests P --full-requests F]`
 *
 * HTTP read throughput and latency of the compute API (os-instance-actions), against a bare
 * node:http floor measured in the same run. Uses only the HTTP API and `actiontrail serve`, so the
 * same file runs against any commit that has `/v1/batch` and the compute API.
 *
 * History (before the clock starts): 1 instance with N actions (default 5,000), each with 3 events
 * started and finished and then the action finished, written through `/v1/batch` NDJSON (the
 * server's own write path); every 100th action has a failed event with details and a traceback.
 *
 * Lines, C concurrent keep-alive clients (closed loop), fixed request counts (defaults: C = 16,
 * R = 20,000, P = 1,000, F = 200; about 40 s in all):
 *  (r1) list, microversion 2.84, `?limit=50` (newest page, with its next link), R requests
 *  (r2) list, microversion 2.84, no limit: the page of 1,000 (Nova's max_limit), P requests
 *  (r3) list, microversion 2.1, no limit: before 2.58 Nova does not paginate, so this is the
 *       whole history (N actions), F requests
 *  (r4) show, microversion 2.84, admin, with events; request ids spread over the whole history,
 *       R requests
 *  (fK) the floor of (rK): a bare node:http server (child process too) answering the same bytes
 *       that ActionTrail sent for the first request of (rK), with no parsing or routing; it gets
 *       4 × as many requests (it is that much faster) so that its line is as long
 * Every line is preceded by an untimed warm-up of 10 % of its requests. The first answer of each
 * kind is checked (counts, next link, events, admin fields) and its size and sha256 (with the
 * server's port taken out of the next link) are printed, so two commits can be compared on bytes.
 * Each floor line runs just before its ActionTrail line so that both see the same machine;
 * compare "% of floor" within one run.
 */
import http from 'node:http'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  startActionTrail,
  startChildServer,
  type BenchToken,
  type ChildServer,
} from './child-server.js'
import { percentile, runLoad, send, type LoadRequest } from './load.js'

const { values } = parseArgs({
  options: {
    actions: { type: 'string', default: '5000' },
    clients: { type: 'string', default: '16' },
    requests: { type: 'string', default: '20000' },
    'page-requests': { type: 'string', default: '1000' },
    'full-requests': { type: 'string', default: '200' },
    warmup: { type: 'string', default: '0.1' },
  },
})
const ACTIONS = Number(values.actions)
const CLIENTS = Number(values.clients)
const REQUESTS = Number(values.requests)
const PAGE_REQUESTS = Number(values['page-requests'])
const FULL_REQUESTS = Number(values['full-requests'])
const WARMUP = Number(values.warmup)
// The floor answers 4–6 times faster: it gets more requests so that its line lasts long enough
// to be steady.
const FLOOR_TIMES = 4
const EVENTS = 3
const SERVICE_TOKEN = 'bench-service-token'
const ADMIN_TOKEN = 'bench-admin-token'
const PROJECT = 'bench-project'
const INSTANCE = '00000000-0000-4000-8000-00000000beef'

/** Microsecond timestamps increasing with the action number (Nova's wire format, no zone). */
const ts = (n: number, step = 0) =>
  new Date(Date.UTC(2026, 0, 1) + n * 1000 + step).toISOString().replace('Z', '000').slice(0, 26)
const requestId = (n: number) => `req-${n.toString(16).padStart(8, '0')}-0000-4000-8000-bench`

const TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2468, in _build_and_run_instance',
  '    self.driver.spawn(context, instance, image_meta,',
  '  File "/usr/lib/python3/dist-packages/nova/virt/libvirt/driver.py", line 4345, in spawn',
  '    self._create_guest_with_network(',
  'libvirt.libvirtError: internal error: process exited while connecting to monitor',
].join('\n')

/** The write operations of action n: start, 3 events started and finished, finish. */
function opsOf(n: number): Record<string, unknown>[] {
  const base = { instance_uuid: INSTANCE, request_id: requestId(n) }
  const failed = n % 100 === 99
  const ops: Record<string, unknown>[] = [
    {
      op: 'action_start',
      instance_uuid: INSTANCE,
      request_id: requestId(n),
      action: n % 2 ? 'reboot' : 'migrate',
      user_id: 'bench-user',
      project_id: PROJECT,
      start_time: ts(n),
    },
  ]
  for (let e = 0; e < EVENTS; e++) {
    const event = `compute_step_${e}`
    ops.push({
      op: 'event_start',
      ...base,
      event,
      host: 'compute-1',
      start_time: ts(n, 10 * e + 1),
    })
    const error = failed && e === EVENTS - 1
    ops.push({
      op: 'event_finish',
      ...base,
      event,
      result: error ? 'Error' : 'Success',
      finish_time: ts(n, 10 * e + 5),
      ...(error ? { details: 'internal error: process exited', traceback: TRACEBACK } : {}),
    })
  }
  ops.push({ op: 'action_finish', ...base, finish_time: ts(n, 100) })
  return ops
}

const TOKENS: BenchToken[] = [
  { token: SERVICE_TOKEN, user_id: 'bench', project_id: 'service', roles: ['service'] },
  { token: ADMIN_TOKEN, user_id: 'bench-admin', project_id: 'admin', roles: ['admin'] },
]

/** Writes the history through PUT /v1/instances and /v1/batch; returns seconds taken. */
async function loadHistory(url: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true })
  const base = new URL(url)
  const headers = { 'x-auth-token': SERVICE_TOKEN }
  const t0 = process.hrtime.bigint()
  const put = await send(agent, base, {
    method: 'PUT',
    path: `/v1/instances/${INSTANCE}`,
    body: JSON.stringify({ name: 'hot-vm', project_id: PROJECT, user_id: 'bench-user' }),
    headers,
  })
  if (put.status >= 300) throw new Error(`instance put failed: ${put.status} ${put.body}`)
  const perBatch = 500 // actions, i.e. 4,000 operations per request
  for (let n = 0; n < ACTIONS;) {
    const lines: string[] = []
    for (let k = 0; k < perBatch && n < ACTIONS; k++)
      for (const op of opsOf(n++)) lines.push(JSON.stringify(op))
    const r = await send(agent, base, {
      method: 'POST',
      path: '/v1/batch',
      body: `${lines.join('\n')}\n`,
      contentType: 'application/x-ndjson',
      headers,
    })
    if (r.status !== 200) throw new Error(`batch failed: ${r.status} ${r.body.slice(0, 300)}`)
    const bad = (r.body.match(/"status":\s*(\d+)/g) ?? []).filter(
      (s) => !/"status":\s*20[01]/.test(s),
    )
    if (bad.length > 0) throw new Error(`batch: ${bad.length} operations failed: ${bad[0]}`)
  }
  agent.destroy()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

interface Kind {
  key: 'list50' | 'list1000' | 'listAll' | 'show'
  name: string
  count: number
  request: (i: number) => LoadRequest
  check: (body: unknown) => string | undefined
}

const v284 = { 'x-auth-token': ADMIN_TOKEN, 'openstack-api-version': 'compute 2.84' }
const v21 = { 'x-auth-token': ADMIN_TOKEN, 'openstack-api-version': 'compute 2.1' }
const listPath = `/v2.1/servers/${INSTANCE}/os-instance-actions`
// Show: request ids picked across the whole history by a stride coprime with most sizes.
const showId = (i: number) => requestId((i * 7919) % ACTIONS)
const count = (b: unknown) => (b as { instanceActions?: unknown[] }).instanceActions?.length

// Every request names its kind in `x-bench-kind` (ignored by ActionTrail) so that the floor
// answers it with the matching body without parsing anything.
const kinds: Kind[] = [
  {
    key: 'list50',
    name: '(r1) list, 2.84, ?limit=50',
    count: REQUESTS,
    request: () => ({
      method: 'GET',
      path: `${listPath}?limit=50`,
      headers: { ...v284, 'x-bench-kind': 'list50' },
    }),
    check: (b) => {
      if (count(b) !== 50) return `expected 50 actions, got ${count(b)}`
      if ((b as { links?: unknown[] }).links?.length !== 1) return 'expected a next link'
      return undefined
    },
  },
  {
    key: 'list1000',
    name: '(r2) list, 2.84, no limit (page of 1,000)',
    count: PAGE_REQUESTS,
    request: () => ({
      method: 'GET',
      path: listPath,
      headers: { ...v284, 'x-bench-kind': 'list1000' },
    }),
    check: (b) =>
      count(b) === Math.min(1000, ACTIONS)
        ? undefined
        : `expected a page of 1,000, got ${count(b)}`,
  },
  {
    key: 'listAll',
    name: `(r3) list, 2.1, no limit (all ${ACTIONS.toLocaleString('en-US')}: unbounded before 2.58)`,
    count: FULL_REQUESTS,
    request: () => ({
      method: 'GET',
      path: listPath,
      headers: { ...v21, 'x-bench-kind': 'listAll' },
    }),
    check: (b) => (count(b) === ACTIONS ? undefined : `expected ${ACTIONS}, got ${count(b)}`),
  },
  {
    key: 'show',
    name: '(r4) show, 2.84, admin, with events',
    count: REQUESTS,
    request: (i) => ({
      method: 'GET',
      path: `${listPath}/${showId(i)}`,
      headers: { ...v284, 'x-bench-kind': 'show' },
    }),
    check: (b) => {
      const a = (b as { instanceAction?: { events?: { traceback?: unknown }[] } }).instanceAction
      if (a?.events?.length !== EVENTS) return `expected ${EVENTS} events`
      if (!a.events.every((e) => 'traceback' in e)) return 'admin should see tracebacks'
      return undefined
    },
  },
]

/** A bare node:http server answering every request with the body captured for its kind. */
const FLOOR_SERVER = `
const http = require('node:http')
const fs = require('node:fs')
const bodies = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'))
const buf = {}
for (const k of Object.keys(bodies)) buf[k] = Buffer.from(bodies[k], 'utf8')
const server = http.createServer((req, res) => {
  const body = buf[req.headers['x-bench-kind']] ?? buf.show
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
  res.end(body)
})
server.keepAliveTimeout = 72000
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port))
`

interface Row {
  name: string
  requests: number
  seconds: number
  p50: number
  p99: number
  bytes: number
}

async function measure(
  url: string,
  name: string,
  kind: Kind,
  bytes: number,
  times = 1,
): Promise<Row> {
  const requests = Array.from({ length: kind.count * times }, (_, i) => kind.request(i))
  // Warm-up (JIT, SQLite page cache), not timed.
  const warm = requests.slice(0, Math.max(CLIENTS, Math.floor(requests.length * WARMUP)))
  let w = 0
  const wr = await runLoad(url, CLIENTS, () => (w < warm.length ? [warm[w++]!] : undefined))
  if (wr.failures > 0) throw new Error(`${name}: ${wr.failures} failed warm-up requests`)
  let next = 0
  const r = await runLoad(url, CLIENTS, () =>
    next < requests.length ? [requests[next++]!] : undefined,
  )
  if (r.failures > 0) throw new Error(`${name}: ${r.failures} failed requests`)
  return {
    name,
    requests: r.requests,
    seconds: r.seconds,
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    bytes,
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-read-'))
const servers: ChildServer[] = []
try {
  const at = await startActionTrail({ dir, tokens: TOKENS })
  servers.push(at)
  const loadSeconds = await loadHistory(at.url)

  // One sample answer per kind: checked, and given to the floor to send back byte for byte.
  const agent = new http.Agent({ keepAlive: true })
  const samples: Record<string, string> = {}
  const digests: string[] = []
  for (const kind of kinds) {
    const r = await send(agent, new URL(at.url), kind.request(0))
    if (r.status !== 200) throw new Error(`${kind.name}: ${r.status} ${r.body.slice(0, 300)}`)
    const problem = kind.check(JSON.parse(r.body))
    if (problem) throw new Error(`${kind.name}: ${problem}: ${r.body.slice(0, 300)}`)
    samples[kind.key] = r.body
    // The next link carries the server's (random) port: hashed without it, to compare commits.
    const portless = r.body.replaceAll(at.url, 'http://server')
    const sha = createHash('sha256').update(portless).digest('hex').slice(0, 12)
    digests.push(`${kind.name.slice(0, 4)} ${fmt(Buffer.byteLength(r.body))} B sha256 ${sha}`)
  }
  agent.destroy()
  const bodies = join(dir, 'floor-bodies.json')
  writeFileSync(bodies, JSON.stringify(samples))
  const floor = await startChildServer(['-e', FLOOR_SERVER, bodies])
  servers.push(floor)

  const rows: [Row, Row][] = []
  for (const kind of kinds) {
    const bytes = Buffer.byteLength(samples[kind.key] ?? '')
    const label = kind.name.slice(0, 4).replace('r', 'f')
    const floorName = `${label} node:http floor, same ${bytes.toLocaleString('en-US')} bytes`
    const f = await measure(floor.url, floorName, kind, bytes, FLOOR_TIMES)
    const a = await measure(at.url, kind.name, kind, bytes)
    rows.push([f, a])
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
  console.log(`\nActionTrail read benchmark — ${new Date().toISOString().slice(0, 10)}, ${machine}`)
  console.log(
    `history: 1 instance, ${fmt(ACTIONS)} actions × ${EVENTS} events via /v1/batch in ${loadSeconds.toFixed(1)} s; ` +
      `${CLIENTS} keep-alive clients; requests per line: ${fmt(REQUESTS)} (r1, r4), ` +
      `${fmt(PAGE_REQUESTS)} (r2), ${fmt(FULL_REQUESTS)} (r3); each floor line ${FLOOR_TIMES} × as many; ` +
      `first answers: ${digests.join('; ')}\n`,
  )
  console.log('| measurement | requests/s | p50 ms | p99 ms | % of floor |')
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [f, a] of rows) {
    const fr = f.requests / f.seconds
    const ar = a.requests / a.seconds
    console.log(`| ${f.name} | ${fmt(fr)} | ${f.p50.toFixed(2)} | ${f.p99.toFixed(2)} |  |`)
    console.log(
      `| ${a.name} | ${fmt(ar)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${((ar / fr) * 100).toFixed(1)} % |`,
    )
  }
} finally {
  for (const s of servers.reverse()) await s.stop()
  rmSync(dir, { recursive: true, force: true })
}
