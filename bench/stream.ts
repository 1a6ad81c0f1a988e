/**
 * `npm run bench:stream -- [--backend sqlite|postgres|mysql] [--scenario mix|all] [options]`
 *
 * The live stream under load (issue 10): `actiontrail serve` in a child process, S subscribers
 * connected to `GET /v1/stream` from this process, and writes posted to `/v1/batch` at a fixed
 * rate for D seconds. Reports delivery lag, lost and duplicated changes per subscriber, and the
 * server's memory.
 *
 * What 1,000 subscribers means: if every subscriber received every change, 5,000 writes/s would
 * be 5,000,000 deliveries/s (each parsed here too, on the same 2 cores): no such machine can.
 * The two scenarios:
 *   - `mix` (default: 1,000 subscribers, 5,000 writes/s): a few unfiltered admin tails (--tails,
 *     default 10); the others filtered, half of them members of a project (a member's stream is
 *     restricted to their project's instances: 1/--projects of the changes), half admins
 *     following one instance (`?instance=`, 1/--instances of the changes);
 *   - `all` (the worst case): every subscriber an unfiltered admin tail, at a rate the machine can
 *     sustain (--rate; default 100 writes/s = 100,000 deliveries/s at 1,000 subscribers).
 *
 * Writes: action lifecycles in two halves, as a compute service sends them: the action and its
 * --events events start in one batch, and finish in the next batch after that one was answered,
 * over --instances instances of --projects projects; a batch every --tick ms (open loop: a tick is
 * skipped, and counted, when --inflight batches are still unanswered). Each half changes the
 * action and each event once.
 *
 * Lag: receipt of a change here minus the acknowledgement of the batch that wrote it (a change can
 * arrive before its batch's answer: its lag is counted as 0), and minus the batch's sending
 * (includes the commit). Lost and duplicated: after the run, one more admin stream replays every change
 * from the position of a marker action written before the run (`?after=`, the durable log,
 * not the live path) to a marker written after it; that is the truth. Each subscriber must have received exactly
 * the truth's changes that match its filter, each once (a reconnect after `overflow` or a dropped
 * connection resumes with Last-Event-ID and is counted), and each delivery must carry the action
 * the truth has at its position (the subscribers read messages with a quick reader, checked
 * against JSON.parse on every message of the truth: see quickCode). Every acknowledged write must
 * be in the truth.
 *
 * The floor: by default each run is made twice, first against a server with no store
 * (stream-floor-server.ts: the same batches answered, their changes fanned out to the same
 * subscribers, grouped as ActionTrail's hub groups them), then against ActionTrail; a last table
 * compares the two. On 2 cores the subscribers' own CPU is part of every lag, and the floor shows
 * how much (`--server floor|actiontrail` runs one of them).
 *
 * CPU: the bench process and the server's CPU seconds are printed; the server's µs per
 * acknowledged write compares runs on a loaded machine, where the lags do not. To profile the
 * server: BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (bench/child-server.ts).
 *
 * Options: --duration S (default 30), --rate W (writes/s), --subscribers N (default 1000),
 * --tails N, --instances N (default 200), --projects N (default 20), --events N (events per
 * action, default 2), --tick MS (default 100), --inflight N (default 8), --settle S (wait after
 * the last write, default 5), --db URL (a server database to use as is; default: a fresh SQLite
 * file, or a fresh database on ACTIONTRAIL_TEST_PG_URL / ACTIONTRAIL_TEST_MYSQL_URL), --check
 * (exit 1 when a target is missed: lag p99 < 100 ms, nothing lost or duplicated, RSS growth <
 * 200 MB).
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { createParser } from 'eventsource-parser'
import {
  startActionTrail,
  startChildServer,
  type BenchToken,
  type ChildServer,
} from './child-server.js'
import { percentile, send } from './load.js'
import {
  createMysqlDatabase,
  createPgDatabase,
  dropMysqlDatabase,
  dropPgDatabase,
  withDatabase,
} from './scale-native.js'
import { cpuSecondsOf } from './process-cpu.js'

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite' },
    scenario: { type: 'string', default: 'mix' },
    duration: { type: 'string', default: '30' },
    rate: { type: 'string' },
    subscribers: { type: 'string', default: '1000' },
    tails: { type: 'string', default: '10' },
    instances: { type: 'string', default: '200' },
    projects: { type: 'string', default: '20' },
    events: { type: 'string', default: '2' },
    tick: { type: 'string', default: '100' },
    inflight: { type: 'string', default: '8' },
    settle: { type: 'string', default: '5' },
    db: { type: 'string' },
    check: { type: 'boolean', default: false },
    server: { type: 'string', default: 'both' },
  },
})

const BACKEND = (() => {
  const b = (values.backend ?? 'sqlite').toLowerCase()
  if (b === 'sqlite') return 'sqlite'
  if (b === 'postgres' || b === 'postgresql' || b === 'pg') return 'postgres'
  if (b === 'mysql' || b === 'mariadb') return 'mysql'
  throw new Error(`unknown --backend ${b}`)
})()
const SCENARIO = values.scenario === 'all' ? 'all' : 'mix'
if (values.scenario !== 'all' && values.scenario !== 'mix')
  throw new Error(`unknown --scenario ${values.scenario}`)
const DURATION = Number(values.duration)
const RATE = Number(values.rate ?? (SCENARIO === 'all' ? 100 : 5000))
const SUBSCRIBERS = Number(values.subscribers)
const TAILS = SCENARIO === 'all' ? SUBSCRIBERS : Math.min(SUBSCRIBERS, Number(values.tails))
const INSTANCES = Number(values.instances)
const PROJECTS = Number(values.projects)
const EVENTS = Number(values.events)
const TICK_MS = Number(values.tick)
const INFLIGHT = Number(values.inflight)
const SETTLE_S = Number(values.settle)
const SERVERS: ServerKind[] =
  values.server === 'both'
    ? ['floor', 'actiontrail']
    : values.server === 'floor' || values.server === 'actiontrail'
      ? [values.server]
      : []
if (SERVERS.length === 0) throw new Error(`unknown --server ${values.server}`)
const TARGET_LAG_P99_MS = 100
const TARGET_RSS_GROWTH_MIB = 200

const RUN = randomUUID().slice(0, 8)
const log = (text: string) => process.stderr.write(`[bench:stream] ${text}\n`)
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const nowMs = () => performance.now()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const SERVICE_TOKEN = 'bench-stream-service'
const ADMIN_TOKEN = 'bench-stream-admin'
const projectId = (p: number) => `${RUN}bench${p.toString(16).padStart(19, '0')}`
const memberToken = (p: number) => `bench-stream-member-${p}`
const instanceId = (i: number) => `${RUN}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
const MARKER_INSTANCE = `${RUN}-0000-4000-8000-ffffffffffff`
const requestId = (n: number) => `req-${RUN}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
const projectOfInstance = (i: number) => i % PROJECTS

const TOKENS: BenchToken[] = [
  { token: SERVICE_TOKEN, user_id: 'bench-service', project_id: 'service', roles: ['service'] },
  { token: ADMIN_TOKEN, user_id: 'bench-admin', project_id: 'admin', roles: ['admin'] },
  ...Array.from({ length: PROJECTS }, (_, p) => ({
    token: memberToken(p),
    user_id: `bench-member-${p}`,
    project_id: projectId(p),
    roles: ['member'],
  })),
]

/** Resident and peak resident memory of a process in MiB (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 }
  } catch {
    return { rss: Number.NaN, peak: Number.NaN }
  }
}

/** What a subscriber follows. */
interface Filter {
  /** The query string (no `after`). */
  query: string
  token: string
  /** Does a change on this instance (index, or -1 for the marker) match? */
  matches: (instance: number) => boolean
  label: string
}

/** A change as the replay (the truth) receives it: position, and what it is about. */
interface Change {
  position: number
  instance: number
  requestId: string
  /** The action or event has a finish time: written by the finishing half of the lifecycle. */
  finished: boolean
  /** What the subscribers' quick reader makes of the same message (see quickCode). */
  code: number
}

/** The code of a change: its action's number (in requestId) × 2, + 1 for the finishing half. */
const changeCode = (n: number, finished: boolean) => n * 2 + (finished ? 1 : 0)

const REQUEST_KEY = '"request_id":"'
const FINISH_KEY = '"finish_time":'
const RUN_REQUEST = `req-${RUN}`

/**
 * A message's change code read without JSON.parse: the subscribers receive ~37 times as many
 * messages as there are changes, on the same 2 cores as the server, and parsing each whole message
 * was the largest part of this process's CPU (about 12 % self time of its profile, with the SSE
 * parser 4 %). Both keys come first in their objects (views.ts: the action's or the event
 * message's `request_id`, then its own `finish_time`); the replay reads every message both ways
 * and counts disagreements, and each delivery's action is checked against the replay's at its
 * position: every delivery is still verified. -1 for a change of no action of this run.
 */
function quickCode(data: string): number {
  const r = data.indexOf(REQUEST_KEY)
  if (r < 0) return -1
  const start = r + REQUEST_KEY.length
  if (!data.startsWith(RUN_REQUEST, start)) return -1
  const end = data.indexOf('"', start)
  const n = parseInt(data.slice(end - 12, end), 16)
  const f = data.indexOf(FINISH_KEY, end)
  if (f < 0) return -1
  return changeCode(n, data.charCodeAt(f + FINISH_KEY.length) !== 110 /* n of null */)
}

/** One connected stream, reconnecting with Last-Event-ID when it is closed. */
class Subscriber {
  readonly filter: Filter
  /** Positions received, and the change code of each (quickCode). */
  readonly received: number[] = []
  readonly codes: number[] = []
  readonly lags: number[] = []
  readonly sendLags: number[] = []
  /** Characters of the messages' data received (for the mean size of a delivery). */
  bytes = 0
  reconnects = 0
  overflows = 0
  errors = 0
  lastId: string | undefined
  #req: http.ClientRequest | undefined
  #closing = false
  #ready: (() => void) | undefined
  readonly #base: URL
  readonly #onChange: (s: Subscriber, position: number, code: number, at: number) => void
  readonly #onTruth: ((c: Change) => void) | undefined

  /** A subscriber; with `onTruth`, the replay: every message is also parsed whole (JSON.parse). */
  constructor(
    base: URL,
    filter: Filter,
    onChange: (s: Subscriber, position: number, code: number, at: number) => void,
    onTruth?: (c: Change) => void,
  ) {
    this.#base = base
    this.filter = filter
    this.#onChange = onChange
    this.#onTruth = onTruth
  }

  /** Connects; resolves when the server says `: ready`. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#ready = resolve
      const parser = createParser({
        onComment: (c) => {
          if (c.trim() === 'ready') {
            this.#ready?.()
            this.#ready = undefined
          }
        },
        onEvent: (m) => this.#message(m.event, m.id, m.data),
      })
      const headers: Record<string, string> = {
        'x-auth-token': this.filter.token,
        accept: 'text/event-stream',
      }
      if (this.lastId !== undefined) headers['last-event-id'] = this.lastId
      const req = http.request(
        {
          host: this.#base.hostname,
          port: this.#base.port,
          path: `/v1/stream${this.filter.query ? `?${this.filter.query}` : ''}`,
          headers,
          agent: false,
        },
        (res) => {
          if (res.statusCode !== 200) {
            let body = ''
            res.on('data', (d: Buffer) => (body += d.toString('utf8')))
            res.on('end', () =>
              reject(new Error(`stream: ${res.statusCode} ${body.slice(0, 200)}`)),
            )
            return
          }
          res.setEncoding('utf8')
          res.on('data', (d: string) => parser.feed(d))
          res.on('end', () => this.#closed())
          res.on('error', () => this.#closed())
        },
      )
      req.on('error', (err) => {
        this.errors++
        if (this.#ready) reject(err)
        else this.#closed()
      })
      req.end()
      this.#req = req
    })
  }

  #message(event: string | undefined, id: string | undefined, data: string): void {
    const at = nowMs()
    if (event === 'overflow') {
      this.overflows++
      return
    }
    if (id === undefined) return
    this.lastId = id
    this.bytes += data.length
    const position = Number(id)
    const code = quickCode(data)
    this.#onChange(this, position, code, at)
    if (!this.#onTruth) return
    const body = JSON.parse(data) as {
      action?: { instance_uuid: string; request_id: string; finish_time: string | null }
      instance_uuid?: string
      request_id?: string
      event?: { finish_time: string | null }
    }
    const instanceUuid = body.instance_uuid ?? body.action?.instance_uuid ?? ''
    const request = body.request_id ?? body.action?.request_id ?? ''
    const finished = (body.event?.finish_time ?? body.action?.finish_time ?? null) !== null
    this.#onTruth({
      position,
      instance: instanceIndex(instanceUuid),
      requestId: request,
      finished,
      code,
    })
  }

  #closed(): void {
    if (this.#closing) return
    // Closed by the server (overflow) or dropped: resume after the last change received.
    this.reconnects++
    void sleep(100).then(() =>
      this.#closing ? undefined : this.connect().catch(() => this.errors++),
    )
  }

  close(): void {
    this.#closing = true
    this.#req?.destroy()
  }
}

function instanceIndex(uuid: string): number {
  if (!uuid.startsWith(RUN)) return -2
  if (uuid === MARKER_INSTANCE) return -1
  return parseInt(uuid.slice(-12), 16)
}

/** Where the benchmark's database lives. */
async function prepareDatabase(
  dir: string,
): Promise<{ db: string; drop: () => Promise<void>; label: string }> {
  if (values.db)
    return { db: values.db, drop: () => Promise.resolve(), label: 'database from --db' }
  const name = `actiontrail_stream_${process.pid}`
  if (BACKEND === 'postgres') {
    const admin =
      process.env.ACTIONTRAIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
    await createPgDatabase(admin, name)
    return {
      db: withDatabase(admin, name),
      drop: () => dropPgDatabase(admin, name),
      label: 'PostgreSQL',
    }
  }
  if (BACKEND === 'mysql') {
    const admin = process.env.ACTIONTRAIL_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql'
    await createMysqlDatabase(admin, name)
    return {
      db: withDatabase(admin, name),
      drop: () => dropMysqlDatabase(admin, name),
      label: 'MariaDB',
    }
  }
  return { db: join(dir, 'stream.db'), drop: () => Promise.resolve(), label: 'SQLite file' }
}

async function postBatch(agent: http.Agent, base: URL, lines: string[]): Promise<void> {
  const r = await send(agent, base, {
    method: 'POST',
    path: '/v1/batch',
    body: `${lines.join('\n')}\n`,
    contentType: 'application/x-ndjson',
    headers: { 'x-auth-token': SERVICE_TOKEN },
  })
  if (r.status !== 200) throw new Error(`batch failed: ${r.status} ${r.body.slice(0, 300)}`)
  const bad = (r.body.match(/"status":\s*\d+/g) ?? []).filter((s) => !/20[01]$/.test(s))
  if (bad.length > 0) throw new Error(`batch: ${bad.length} operations failed: ${bad[0]}`)
}

/** The first half of action n's life: the action and its events start. */
function startHalf(n: number): string[] {
  const instance = n % INSTANCES
  const ids = { instance_uuid: instanceId(instance), request_id: requestId(n) }
  const lines = [
    JSON.stringify({
      op: 'action_start',
      ...ids,
      action: 'reboot',
      user_id: 'bench-user',
      project_id: projectId(projectOfInstance(instance)),
    }),
  ]
  for (let e = 0; e < EVENTS; e++)
    lines.push(
      JSON.stringify({ op: 'event_start', ...ids, event: `compute_step_${e}`, host: 'compute-1' }),
    )
  return lines
}

/** The second half: the events and the action finish. */
function finishHalf(n: number): string[] {
  const ids = { instance_uuid: instanceId(n % INSTANCES), request_id: requestId(n) }
  const lines: string[] = []
  for (let e = 0; e < EVENTS; e++)
    lines.push(
      JSON.stringify({
        op: 'event_finish',
        ...ids,
        event: `compute_step_${e}`,
        result: 'Success',
      }),
    )
  lines.push(JSON.stringify({ op: 'action_finish', ...ids }))
  return lines
}

const OPS_PER_ACTION = 2 + 2 * EVENTS

/** The filters of the scenario, one per subscriber. */
function filters(): Filter[] {
  const out: Filter[] = []
  for (let s = 0; s < SUBSCRIBERS; s++) {
    if (s < TAILS) {
      out.push({ query: '', token: ADMIN_TOKEN, matches: () => true, label: 'admin, unfiltered' })
    } else if ((s - TAILS) % 2 === 0) {
      const p = ((s - TAILS) / 2) % PROJECTS
      out.push({
        query: '',
        token: memberToken(p),
        matches: (i) => i >= 0 && projectOfInstance(i) === p,
        label: 'member, own project',
      })
    } else {
      const i = ((s - TAILS - 1) / 2) % INSTANCES
      out.push({
        query: `instance=${instanceId(i)}`,
        token: ADMIN_TOKEN,
        matches: (x) => x === i,
        label: 'admin, one instance',
      })
    }
  }
  return out
}

/** Which server a run measures: ActionTrail, or the floor (stream-floor-server.ts). */
type ServerKind = 'floor' | 'actiontrail'

/** What the comparison table takes from a run. */
interface RunSummary {
  kind: ServerKind
  writesPerSecond: number
  lag: [number, number, number]
  loopDelayP99: number
  benchCpuPerDelivery: number
  serverCpuPerWrite: number
  bytesPerDelivery: number
  lostOrDuplicated: number
  rssGrowth: number
  missed: boolean
}

/** Starts the server a run measures. */
async function startServer(kind: ServerKind, dir: string, db: string): Promise<ChildServer> {
  if (kind === 'floor') {
    const tokenFile = join(dir, 'tokens.json')
    writeFileSync(tokenFile, JSON.stringify({ tokens: TOKENS }))
    const script = new URL('./stream-floor-server.ts', import.meta.url).pathname
    return startChildServer(['--import', 'tsx', script, tokenFile])
  }
  return startActionTrail({
    dir,
    tokens: TOKENS,
    db,
    // Room for every subscriber and the replay: streams may use at most 90 % of the connections.
    env: {
      ACTIONTRAIL_STREAM_MAX_SUBSCRIBERS: String(SUBSCRIBERS + 10),
      ACTIONTRAIL_MAX_CONNECTIONS: String(Math.ceil((SUBSCRIBERS + 10) / 0.9) + INFLIGHT + 10),
    },
  })
}

async function main(kind: ServerKind): Promise<RunSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-stream-'))
  const database = await prepareDatabase(dir)
  let server: ChildServer | undefined
  const subscribers: Subscriber[] = []
  const agent = new http.Agent({ keepAlive: true, maxSockets: INFLIGHT + 2 })
  try {
    log(`server: ${kind === 'floor' ? 'the floor (no store)' : 'ActionTrail'}`)
    server = await startServer(kind, dir, database.db)
    const base = new URL(server.url)
    // The instances, and the marker instance (its own project: no filtered stream sees it).
    const instanceLines = Array.from({ length: INSTANCES }, (_, i) =>
      JSON.stringify({
        op: 'instance_put',
        instance_uuid: instanceId(i),
        name: `vm-${i}`,
        project_id: projectId(projectOfInstance(i)),
        user_id: 'bench-user',
      }),
    )
    instanceLines.push(
      JSON.stringify({
        op: 'instance_put',
        instance_uuid: MARKER_INSTANCE,
        name: 'marker',
        project_id: 'bench-marker',
        user_id: 'bench-user',
      }),
    )
    await postBatch(agent, base, instanceLines)
    const idle = memoryOf(server.pid)

    // Batch bookkeeping for the lag: change code → batch, batch → sent / acknowledged.
    const batchOf = new Map<number, number>()
    const sentAt: number[] = []
    const ackedAt: number[] = []
    let measuring = false
    const onChange = (s: Subscriber, position: number, code: number, at: number) => {
      s.received.push(position)
      s.codes.push(code)
      if (!measuring) return
      const b = batchOf.get(code)
      if (b === undefined) return
      const acked = ackedAt[b]
      s.lags.push(acked === undefined ? 0 : Math.max(0, at - acked))
      s.sendLags.push(at - (sentAt[b] as number))
    }

    log(`connecting ${SUBSCRIBERS} subscribers (${SCENARIO})`)
    const connectStarted = nowMs()
    const all = filters()
    for (let from = 0; from < all.length; from += 50) {
      const wave = all.slice(from, from + 50).map((f) => new Subscriber(base, f, onChange))
      await Promise.all(wave.map((s) => s.connect()))
      subscribers.push(...wave)
    }
    const connectSeconds = (nowMs() - connectStarted) / 1000
    const connected = memoryOf(server.pid)

    // A marker action (on an instance no filtered stream sees) as the first tail receives it:
    // the position before the run, and after it the position that ends the run.
    const tail = subscribers[0] as Subscriber
    const marker = async (n: number): Promise<number> => {
      const seen = tail.received.length
      await postBatch(agent, base, [
        JSON.stringify({
          op: 'action_start',
          instance_uuid: MARKER_INSTANCE,
          request_id: requestId(n),
          action: 'marker',
          user_id: 'bench-user',
          project_id: 'bench-marker',
        }),
      ])
      for (let i = 0; tail.received.length === seen; i++) {
        if (i > 600) throw new Error('the marker never arrived on the unfiltered stream')
        await sleep(50)
      }
      return tail.received.at(-1) as number
    }
    const p0 = await marker(0xffffffff)
    for (const s of subscribers) {
      s.received.length = 0
      s.codes.length = 0
      s.lags.length = 0
      s.sendLags.length = 0
      s.bytes = 0
    }

    // The writes.
    log(`writing ${fmt(RATE)} writes/s for ${DURATION} s`)
    measuring = true
    const actionsPerTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000 / OPS_PER_ACTION))
    let nextAction = 0
    let inFlight = 0
    let skipped = 0
    let failures = 0
    let firstFailure: string | undefined
    const acknowledged: string[] = []
    let writes = 0
    // Actions whose start is acknowledged: the next batch finishes them (a finish must not
    // overtake its start, so it waits for the start's answer).
    let startedActions: number[] = []
    const cpuStart = process.cpuUsage()
    // How long this process's own event loop kept messages waiting (its subscribers share it with
    // the writers, and the 2 cores with the server): the client's share of the lag.
    const loopDelay = monitorEventLoopDelay({ resolution: 5 })
    loopDelay.enable()
    const serverCpuStart = cpuSecondsOf(server.pid)
    const started = nowMs()
    const pending: Promise<void>[] = []
    const post = (starts: number[], finishes: number[]) => {
      const batch = sentAt.length
      const lines: string[] = []
      for (const n of starts) {
        batchOf.set(changeCode(n, false), batch)
        lines.push(...startHalf(n))
      }
      for (const n of finishes) {
        batchOf.set(changeCode(n, true), batch)
        lines.push(...finishHalf(n))
      }
      sentAt.push(nowMs())
      inFlight++
      const p = postBatch(agent, base, lines)
        .then(() => {
          ackedAt[batch] = nowMs()
          writes += lines.length
          acknowledged.push(...starts.map(requestId))
          startedActions.push(...starts)
        })
        .catch((err: unknown) => {
          failures++
          firstFailure ??= String(err).slice(0, 200)
          if (failures <= 3) log(String(err))
        })
        .finally(() => inFlight--)
      pending.push(p)
      return p
    }
    for (let tick = 0; nowMs() - started < DURATION * 1000; tick++) {
      const due = started + tick * TICK_MS
      if (due > nowMs()) await sleep(due - nowMs())
      if (inFlight >= INFLIGHT) {
        skipped++
        continue
      }
      const starts = Array.from({ length: actionsPerTick }, () => nextAction++)
      const finishes = startedActions
      startedActions = []
      void post(starts, finishes)
    }
    await Promise.all(pending)
    // The last actions' finishes.
    if (startedActions.length > 0) await post([], startedActions.splice(0))
    const writeSeconds = (nowMs() - started) / 1000
    const atEnd = memoryOf(server.pid)
    log(`settling ${SETTLE_S} s`)
    await sleep(SETTLE_S * 1000)
    measuring = false
    const last = await marker(0xfffffffe)
    const settled = memoryOf(server.pid)
    const cpu = process.cpuUsage(cpuStart)
    loopDelay.disable()
    const serverCpu = cpuSecondsOf(server.pid) - serverCpuStart

    // The truth: a replay of the durable log from the first marker to the second.
    log(`replaying from ${p0} to ${last}`)
    const truth: Change[] = []
    const replay = new Subscriber(
      base,
      { query: `after=${p0}`, token: ADMIN_TOKEN, matches: () => true, label: 'replay' },
      () => undefined,
      (c) => truth.push(c),
    )
    await replay.connect()
    for (let waited = 0; (truth.at(-1)?.position ?? p0) < last; waited++) {
      if (waited > 1200) throw new Error(`the replay stopped at ${truth.at(-1)?.position}`)
      await sleep(50)
    }
    replay.close()

    // Lost and duplicated, per subscriber.
    const codeOfPosition = new Map(truth.map((c) => [c.position, c.code]))
    // The quick reader against JSON.parse, on every message of the log.
    const misread = truth.filter(
      (c) =>
        c.instance >= -1 && c.code !== changeCode(parseInt(c.requestId.slice(-12), 16), c.finished),
    ).length
    const inTruth = new Set(truth.map((c) => c.requestId))
    const ackedMissing = acknowledged.filter((id) => !inTruth.has(id)).length
    let lost = 0
    let duplicated = 0
    let unknown = 0
    let wrong = 0
    let deliveries = 0
    let worstLost = 0
    for (const s of subscribers) {
      const seen = new Set<number>()
      for (let k = 0; k < s.received.length; k++) {
        const p = s.received[k] as number
        // The start marker reaches the other subscribers after the first tail: not part of the run.
        if (p > last || p <= p0) continue
        if (seen.has(p)) duplicated++
        seen.add(p)
        deliveries++
        const code = codeOfPosition.get(p)
        if (code === undefined) unknown++
        // The action only: a message carries the record's row as it is when sent, and the replay
        // reads the finished rows of changes that were sent unfinished.
        else if (Math.floor(code / 2) !== Math.floor((s.codes[k] as number) / 2)) wrong++
      }
      let lostHere = 0
      for (const c of truth) if (s.filter.matches(c.instance) && !seen.has(c.position)) lostHere++
      lost += lostHere
      worstLost = Math.max(worstLost, lostHere)
    }
    const lags = subscribers.flatMap((s) => s.lags).sort((a, b) => a - b)
    const sendLags = subscribers.flatMap((s) => s.sendLags).sort((a, b) => a - b)
    const bytes = subscribers.reduce((n, s) => n + s.bytes, 0)
    const rssGrowth = atEnd.rss - idle.rss
    const reconnects = subscribers.reduce((n, s) => n + s.reconnects, 0)
    const overflows = subscribers.reduce((n, s) => n + s.overflows, 0)
    const kinds = new Map<string, number>()
    for (const s of subscribers) kinds.set(s.filter.label, (kinds.get(s.filter.label) ?? 0) + 1)

    const out: string[] = []
    out.push(
      `bench:stream, ${kind === 'floor' ? 'the floor (stream-floor-server.ts, no store)' : 'ActionTrail'}` +
        ` — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ` +
        `${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, ` +
        `${kind === 'floor' ? 'no database' : database.label}; ` +
        `load average at the end ${loadavg()
          .map((l) => l.toFixed(2))
          .join(', ')}`,
    )
    out.push('')
    out.push(
      `- scenario **${SCENARIO}**: ${fmt(SUBSCRIBERS)} subscribers (` +
        [...kinds].map(([k, n]) => `${fmt(n)} ${k}`).join(', ') +
        `), connected in ${fmt(connectSeconds, 1)} s; ${INSTANCES} instances of ${PROJECTS} projects`,
    )
    out.push(
      `- writes: /v1/batch, one action lifecycle = ${OPS_PER_ACTION} writes (start, ` +
        `${EVENTS} × event start + finish, finish) in two batches; ${actionsPerTick} actions ` +
        `started every ${TICK_MS} ms, finished in the next batch after the start's answer, ` +
        `at most ${INFLIGHT} batches in flight; ${skipped} ticks skipped (batches still in flight), ` +
        `${failures} failed batches${firstFailure ? ` (first: ${firstFailure})` : ''}`,
    )
    out.push(
      `- CPU during the writes and the settle: bench process (the subscribers' parsing and the ` +
        `writers) ${fmt((cpu.user + cpu.system) / 1e6, 1)} s, server ` +
        `${fmt(serverCpu, 1)} s = ${fmt((serverCpu * 1e6) / Math.max(1, writes), 1)} µs per ` +
        `acknowledged write`,
    )
    out.push('')
    out.push('| measure | value |')
    out.push('| --- | ---: |')
    const rows: [string, string][] = [
      ['target write rate', `${fmt(RATE)} writes/s`],
      [
        'acknowledged writes',
        `${fmt(writes)} in ${fmt(writeSeconds, 1)} s = **${fmt(writes / writeSeconds)} writes/s**`,
      ],
      ['changes in the log (replay)', fmt(truth.length)],
      ['deliveries', `${fmt(deliveries)} = ${fmt(deliveries / writeSeconds)}/s`],
      ['mean message data per delivery', `${fmt(bytes / Math.max(1, deliveries))} characters`],
      ['lag from acknowledgement p50', `${fmt(percentile(lags, 50), 1)} ms`],
      ['lag from acknowledgement p99', `**${fmt(percentile(lags, 99), 1)} ms**`],
      ['lag from acknowledgement max', `${fmt(lags.at(-1) ?? 0, 1)} ms`],
      [
        'lag from sending the batch p50 / p99 / max',
        [percentile(sendLags, 50), percentile(sendLags, 99), sendLags.at(-1) ?? 0]
          .map((v) => fmt(v, 1))
          .join(' / ') + ' ms',
      ],
      [
        "bench process's event loop delay p50 / p99 / max (the client's share of the lag)",
        [loopDelay.percentile(50), loopDelay.percentile(99), loopDelay.max]
          .map((v) => fmt(v / 1e6, 1))
          .join(' / ') + ' ms',
      ],
      ['lost changes (all subscribers; worst subscriber)', `**${fmt(lost)}**; ${fmt(worstLost)}`],
      ['duplicated changes', `**${fmt(duplicated)}**`],
      ['deliveries not in the log', fmt(unknown)],
      [
        "deliveries of another action than the log's change at their position",
        `${fmt(wrong)} (quick reader vs JSON.parse on the log: ${fmt(misread)} misread)`,
      ],
      ['acknowledged actions missing from the log', fmt(ackedMissing)],
      [
        'overflows / reconnects / connection errors',
        `${overflows} / ${reconnects} / ${subscribers.reduce((n, s) => n + s.errors, 0)}`,
      ],
      [
        'server RSS: idle / subscribers connected',
        `${fmt(idle.rss, 1)} / ${fmt(connected.rss, 1)} MiB`,
      ],
      [
        'server RSS: end of writes / after settle / peak',
        `${fmt(atEnd.rss, 1)} / ${fmt(settled.rss, 1)} / ${fmt(settled.peak, 1)} MiB`,
      ],
      ['server RSS growth (end of writes − idle)', `**${fmt(rssGrowth, 1)} MiB**`],
    ]
    for (const [k, v] of rows) out.push(`| ${k} | ${v} |`)
    const lagP99 = percentile(lags, 99)
    const checks: [string, boolean][] = [
      [`lag p99 < ${TARGET_LAG_P99_MS} ms`, lagP99 < TARGET_LAG_P99_MS],
      ['no lost change', lost === 0 && ackedMissing === 0],
      ['no duplicated change', duplicated === 0],
      [
        'every delivery is the action of its position',
        unknown === 0 && wrong === 0 && misread === 0,
      ],
      [`server RSS growth < ${TARGET_RSS_GROWTH_MIB} MB`, rssGrowth < TARGET_RSS_GROWTH_MIB],
      [`write rate reached (≥ 95 % of ${fmt(RATE)}/s)`, writes / writeSeconds >= 0.95 * RATE],
    ]
    if (kind === 'actiontrail') {
      out.push('', '| target | |', '| --- | --- |')
      for (const [name, ok] of checks) out.push(`| ${name} | ${ok ? 'met' : '**missed**'} |`)
    }
    console.log(`\n${out.join('\n')}`)
    return {
      kind,
      writesPerSecond: writes / writeSeconds,
      lag: [percentile(lags, 50), lagP99, lags.at(-1) ?? 0],
      loopDelayP99: loopDelay.percentile(99) / 1e6,
      benchCpuPerDelivery: (cpu.user + cpu.system) / Math.max(1, deliveries),
      serverCpuPerWrite: (serverCpu * 1e6) / Math.max(1, writes),
      bytesPerDelivery: bytes / Math.max(1, deliveries),
      lostOrDuplicated: lost + ackedMissing + duplicated + unknown + wrong,
      rssGrowth,
      missed: kind === 'actiontrail' && checks.some(([, ok]) => !ok),
    }
  } finally {
    for (const s of subscribers) s.close()
    agent.destroy()
    await server?.stop()
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const runs: RunSummary[] = []
for (const kind of SERVERS) runs.push(await main(kind))
if (runs.length > 1) {
  const table = [
    '',
    `bench:stream — the floor and ActionTrail, one after the other (${SCENARIO}, ` +
      `${fmt(SUBSCRIBERS)} subscribers, ${fmt(RATE)} writes/s asked)`,
    '',
    '| server | writes/s acknowledged | lag from ack p50 / p99 / max ms | bench loop delay p99 ms | ' +
      'bench CPU µs per delivery | server CPU µs per write | characters per delivery | ' +
      'lost + duplicated + wrong | server RSS growth MiB |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of runs)
    table.push(
      `| ${r.kind === 'floor' ? 'floor (no store)' : 'ActionTrail'} | ${fmt(r.writesPerSecond)} | ` +
        `${r.lag.map((v) => fmt(v, 1)).join(' / ')} | ${fmt(r.loopDelayP99, 1)} | ` +
        `${fmt(r.benchCpuPerDelivery, 2)} | ${fmt(r.serverCpuPerWrite, 1)} | ` +
        `${fmt(r.bytesPerDelivery)} | ${r.lostOrDuplicated} | ${fmt(r.rssGrowth, 1)} |`,
    )
  console.log(table.join('\n'))
}
if (runs.some((r) => r.missed) && values.check) process.exitCode = 1
