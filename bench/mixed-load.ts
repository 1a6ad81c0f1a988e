/**
 * `npm run bench:load [-- --duration S --connections C --instances I --actions A --db URL]`
 *
 * A mixed workload against a real `actiontrail serve` (child process) for S seconds (default 60):
 * 80 % reads and 20 % writes, driven by autocannon with C keep-alive connections (default 32).
 *
 * History (before the clock starts): I instances (default 200) of one project, each with A
 * actions (default 20) of 2 finished events, written through `/v1/batch` NDJSON. The database is
 * a fresh SQLite file in a temporary directory, or the `--db` URL (`postgres://…`, `mysql://…`;
 * the run's instance ids are random, so a used database does no harm).
 *
 * Each connection repeats a cycle of 20 requests: 16 reads with a project reader's token, half
 * `GET /v2.1/servers/{id}/os-instance-actions?limit=20` and half
 * `GET /v2.1/servers/{id}/os-instance-actions/{request_id}` (microversion 2.84), on random
 * instances and recorded actions; and, between every 4 reads, the 4 writes of one new action's
 * life with the service token, each with its own Idempotency-Key as the client sends them: action
 * start, event start, event finish, action finish, on a random instance.
 *
 * Prints throughput, latency percentiles, every non-2xx answer and connection error (the run exits
 * 1 if there is any), and the server's RSS before and after the load and its peak (Linux).
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon, { type Request } from 'autocannon'
import { startActionTrail, type BenchToken, type ChildServer } from './child-server.js'
import { send } from './load.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    connections: { type: 'string', default: '32' },
    instances: { type: 'string', default: '200' },
    actions: { type: 'string', default: '20' },
    db: { type: 'string' },
  },
})
const DURATION = Number(values.duration)
const CONNECTIONS = Number(values.connections)
const INSTANCES = Number(values.instances)
const ACTIONS = Number(values.actions)
const SERVICE_TOKEN = 'bench-service-token'
const READER_TOKEN = 'bench-reader-token'
const PROJECT = 'bench-project'
const RUN = randomUUID().slice(0, 8)

const instanceId = (i: number) => `${RUN}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
const seededRequestId = (n: number) =>
  `req-${RUN}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
const pick = (n: number) => Math.floor(Math.random() * n)

const TOKENS: BenchToken[] = [
  { token: SERVICE_TOKEN, user_id: 'bench', project_id: 'service', roles: ['service'] },
  { token: READER_TOKEN, user_id: 'bench-reader', project_id: PROJECT, roles: ['reader'] },
]

/** Writes the history: the instances, then their actions and events in NDJSON batches. */
async function seed(url: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true })
  const base = new URL(url)
  const headers = { 'x-auth-token': SERVICE_TOKEN }
  const t0 = process.hrtime.bigint()
  const lines: string[] = []
  for (let i = 0; i < INSTANCES; i++) {
    const uuid = instanceId(i)
    lines.push(
      JSON.stringify({
        op: 'instance_put',
        instance_uuid: uuid,
        name: `vm-${i}`,
        project_id: PROJECT,
        user_id: 'bench-user',
      }),
    )
    for (let a = 0; a < ACTIONS; a++) {
      const ids = { instance_uuid: uuid, request_id: seededRequestId(i * ACTIONS + a) }
      lines.push(
        JSON.stringify({
          op: 'action_start',
          ...ids,
          action: 'reboot',
          user_id: 'bench-user',
          project_id: PROJECT,
        }),
      )
      for (const event of ['compute_stop', 'compute_start']) {
        lines.push(JSON.stringify({ op: 'event_start', ...ids, event, host: 'compute-1' }))
        lines.push(JSON.stringify({ op: 'event_finish', ...ids, event, result: 'Success' }))
      }
      lines.push(JSON.stringify({ op: 'action_finish', ...ids }))
    }
  }
  for (let from = 0; from < lines.length; from += 5000) {
    const r = await send(agent, base, {
      method: 'POST',
      path: '/v1/batch',
      body: `${lines.slice(from, from + 5000).join('\n')}\n`,
      contentType: 'application/x-ndjson',
      headers,
    })
    if (r.status !== 200) throw new Error(`batch failed: ${r.status} ${r.body.slice(0, 300)}`)
    const bad = (r.body.match(/"status":\s*\d+/g) ?? []).filter((s) => !/20[01]$/.test(s))
    if (bad.length > 0) throw new Error(`batch: ${bad.length} operations failed: ${bad[0]}`)
  }
  agent.destroy()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc; undefined elsewhere). */
function memoryOf(pid: number | undefined): { rss?: number; peak?: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
  } catch {
    return {}
  }
}

// What one connection is doing: the instance and request id of the action it is writing.
interface Cycle {
  instance?: string
  requestId?: string
}

const READ_HEADERS = { 'x-auth-token': READER_TOKEN, 'openstack-api-version': 'compute 2.84' }
let written = 0
let reads = 0
let writes = 0

function read(): Request {
  return {
    method: 'GET',
    setupRequest: (req) => {
      reads++
      const i = pick(INSTANCES)
      const path =
        Math.random() < 0.5
          ? `/v2.1/servers/${instanceId(i)}/os-instance-actions?limit=20`
          : `/v2.1/servers/${instanceId(i)}/os-instance-actions/${seededRequestId(i * ACTIONS + pick(ACTIONS))}`
      return { ...req, method: 'GET', path, headers: READ_HEADERS, body: undefined }
    },
  }
}

function write(step: 'start' | 'event_start' | 'event_finish' | 'finish'): Request {
  return {
    method: 'POST',
    setupRequest: (req, context) => {
      writes++
      const cycle = context as Cycle
      if (step === 'start') {
        cycle.instance = instanceId(pick(INSTANCES))
        cycle.requestId = `req-${RUN}-${(written++).toString(16).padStart(8, '0')}-4000-8000-000000000000`
      }
      const action = `/v1/instances/${cycle.instance}/actions`
      const [path, body] = {
        start: [
          action,
          {
            action: 'resize',
            request_id: cycle.requestId,
            user_id: 'bench-user',
            project_id: PROJECT,
          },
        ],
        event_start: [
          `${action}/${cycle.requestId}/events`,
          { event: 'compute_resize', host: 'compute-2' },
        ],
        event_finish: [
          `${action}/${cycle.requestId}/events/compute_resize/finish`,
          { result: 'Success' },
        ],
        finish: [`${action}/${cycle.requestId}/finish`, {}],
      }[step] as [string, unknown]
      return {
        ...req,
        method: 'POST',
        path,
        headers: {
          'x-auth-token': SERVICE_TOKEN,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify(body),
      }
    },
  }
}

// 16 reads and the 4 writes of one action's life: 80 % / 20 %.
const CYCLE: Request[] = [
  ...[read(), read(), read(), read(), write('start')],
  ...[read(), read(), read(), read(), write('event_start')],
  ...[read(), read(), read(), read(), write('event_finish')],
  ...[read(), read(), read(), read(), write('finish')],
]

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-load-'))
let server: ChildServer | undefined
let failed = false
try {
  server = await startActionTrail({ dir, tokens: TOKENS, ...(values.db ? { db: values.db } : {}) })
  const seedSeconds = await seed(server.url)
  const before = memoryOf(server.pid)
  const statuses = new Map<number, number>()
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: CYCLE.map((r) => ({
      ...r,
      onResponse: (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1),
    })),
  })
  const after = memoryOf(server.pid)
  const bad = [...statuses].filter(([status]) => status < 200 || status > 299)
  const problems = result.non2xx + result.errors + result.timeouts
  failed = problems > 0
  const mib = (n?: number) => (n === undefined ? 'n/a' : `${fmt(n, 1)} MiB`)
  const rows: [string, string][] = [
    ['duration', `${fmt(result.duration, 1)} s, ${CONNECTIONS} connections`],
    ['requests', `${fmt(result.requests.total)} (${fmt(reads)} reads, ${fmt(writes)} writes sent)`],
    ['throughput', `${fmt(result.requests.average, 1)} req/s`],
    ['latency p50', `${fmt(result.latency.p50, 1)} ms`],
    ['latency p99', `${fmt(result.latency.p99, 1)} ms`],
    ['latency p99.9', `${fmt(result.latency.p99_9, 1)} ms`],
    ['latency max', `${fmt(result.latency.max, 1)} ms`],
    [
      'non-2xx',
      `${fmt(result.non2xx)}${bad.length ? ` (${bad.map(([s, n]) => `${s}: ${n}`).join(', ')})` : ''}`,
    ],
    ['errors / timeouts', `${fmt(result.errors)} / ${fmt(result.timeouts)}`],
    ['server RSS before', mib(before.rss)],
    ['server RSS after', mib(after.rss)],
    ['server peak RSS', mib(after.peak)],
  ]
  console.log(
    `bench:load — Node ${process.version}, ${cpus().length} CPUs, ` +
      `${values.db ? 'database from --db' : 'SQLite file'}, load average ${loadavg()[0]?.toFixed(1)}; ` +
      `history: ${INSTANCES} instances × ${ACTIONS} actions × 2 events, seeded in ${fmt(seedSeconds, 1)} s`,
  )
  console.log('\n| measure | value |\n| --- | ---: |')
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`)
  if (failed) console.error(`\nbench:load: ${problems} failed requests (non-2xx, errors, timeouts)`)
} finally {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0
