/**
 * `npm run bench:scale -- --backend sqlite|postgres|mysql --actions N [options]`
 *
 * Builds a history (default 1M actions, 3 events each, 10k instances, one hot instance with 100k
 * actions), then measures the read queries the API makes, one at a time, with the store's own
 * methods, next to the raw floor: the same SQL statements hand-written on the native driver,
 * measured in the same run. Prints one markdown table and checks the targets of issue 4:
 * list and show p99 < 5 ms at every depth; list p99 at depth 90k within 2× of depth 0. Then the
 * query API's documented queries (bench/scale-queries.ts) through the route, the store and the
 * floor, against issue 10's targets: p99 < 10 ms with limit 50, deep page p99 ≤ 2× the first's.
 *
 * Options:
 *   --backend sqlite|postgres|mysql|galera  (default sqlite; mariadb is an alias of mysql;
 *                      galera: bench/scale-galera.ts, a 3-node cluster next to a single MariaDB,
 *                      which reads --actions (default there 4,000), --events, --inflight
 *                      (default 8), --runs, --warmup and --limit)
 *   --actions N        actions (default 1,000,000)
 *   --events N         events per action (default 3)
 *   --instances N      instances (default 10,000)
 *   --hot N            actions of the hot instance (default 100,000, at most actions / 10)
 *   --load store|sql   loader: `store` = store.write(ops), the write path (default on SQLite);
 *                      `sql` = plain multi-row INSERTs of the final rows (default on servers,
 *                      where the write path loads ~3k ops/s: 1M actions would take ~45 min),
 *                      then the last --tail actions through store.write, to report the write
 *                      path's rate on the full-size database
 *   --tail N           actions written through store.write after the SQL load (default 10,000)
 *   --chunk N          operations per store.write call (default 5000)
 *   --inflight N       chunks in flight (default 2 on SQLite, 4 on servers)
 *   --writers N        store instances sharing the load, like API nodes (default 1; servers only)
 *   --runs N           measured runs per line (default 500), after --warmup N (default 50)
 *   --limit N          list page size (default 50)
 *   --keep             keep the database (SQLite file / server database) and print where it is
 *   --explain          also print the plan of every statement the APIs send (docs/storage.md):
 *                      the compute API's (unless --part query) and, for each measured query
 *                      line, the statements of its first and deep page as sent (after plugins);
 *                      MariaDB: ANALYZE (rows really read), PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)
 *   --part all|instance|query  which lines: the compute API's per-instance reads (issue 4), the
 *                      query API's (issue 10, bench/scale-queries.ts), or both (default)
 *   --query-runs N     measured runs per query line (default 300), after --warmup N
 *   --deep N           the deep page of each query, reached by following next_cursor (default 200)
 *   --only REGEX       only the query lines whose name matches REGEX
 *   --check            exit 1 when a target is missed (the table is printed either way)
 *   --reuse DB         measure a database kept by an earlier run (--keep, or a run that was
 *                      killed) with the same history options, without loading it; not dropped
 *   --line-seconds S   stop a line's measured runs after S seconds (default 120): a query that
 *                      reads every match can take a second a page; the table shows the runs
 *                      done when fewer than asked; --min-runs N (default 20) are run anyway
 *   --no-http          skip the query lines' http column (`actiontrail serve` in a child process
 *                      on the same database, one keep-alive connection); the targets are then
 *                      judged on the in-process route
 *
 * Server URLs: ACTIONTRAIL_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) and
 * ACTIONTRAIL_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/mysql); a fresh database is
 * created on that server and dropped at the end.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { InstanceAction } from '../src/domain/instance-action.js'
import type { Timestamp } from '../src/domain/timestamp.js'
import type { ActionStore, StoreWrite } from '../src/store/action-store.js'
import { WINDOW_WALK_THRESHOLD } from '../src/store/kysely-action-store.js'
import type { IdempotencyStore } from '../src/store/idempotency-store.js'
import { openStore, openStores } from '../src/store/open-store.js'
import { percentile } from './load.js'
import { AFTER_MARKER, explainAll, FORCE_CREATED_INDEX } from './scale-explain.js'
import { BENCH_TOKENS, explainQueries, measureQueries, queryReport } from './scale-queries.js'
import { startActionTrail, type ChildServer } from './child-server.js'
import { gcPausesLine, watchGcPauses } from './gc-pauses.js'
import {
  actionOps,
  actionRecord,
  eventRecords,
  History,
  HISTORY_SPAN_MICROS,
  HISTORY_START_MICROS,
  instanceOps,
  instanceUuid,
  pickColumns,
  projectOf,
  ts,
} from './scale-history.js'
import {
  createMysqlDatabase,
  createPgDatabase,
  dropMysqlDatabase,
  dropPgDatabase,
  mib,
  mysqlNative,
  pgNative,
  sqliteNative,
  withDatabase,
  type NativeDb,
  type Row,
  type Statement,
} from './scale-native.js'

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite' },
    actions: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '3' },
    instances: { type: 'string', default: '10000' },
    hot: { type: 'string' },
    load: { type: 'string' },
    tail: { type: 'string', default: '10000' },
    chunk: { type: 'string', default: '5000' },
    inflight: { type: 'string' },
    writers: { type: 'string', default: '1' },
    runs: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '50' },
    limit: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
    part: { type: 'string', default: 'all' },
    'query-runs': { type: 'string', default: '300' },
    deep: { type: 'string', default: '200' },
    only: { type: 'string' },
    check: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    'line-seconds': { type: 'string', default: '120' },
    'min-runs': { type: 'string', default: '20' },
    'no-http': { type: 'boolean', default: false },
  },
})

type Backend = 'sqlite' | 'postgres' | 'mysql'
const GALERA = (values.backend ?? '').toLowerCase() === 'galera'
const BACKEND: Backend = (() => {
  const b = GALERA ? 'mysql' : (values.backend ?? 'sqlite').toLowerCase()
  if (b === 'sqlite') return 'sqlite'
  if (b === 'postgres' || b === 'postgresql' || b === 'pg') return 'postgres'
  if (b === 'mysql' || b === 'mariadb') return 'mysql'
  throw new Error(`unknown --backend ${b}`)
})()
const ACTIONS = Number(values.actions)
const EVENTS = Number(values.events)
const INSTANCES = Number(values.instances)
const HOT =
  values.hot !== undefined ? Number(values.hot) : Math.min(100_000, Math.floor(ACTIONS / 10))
const LOADER = (values.load ?? (BACKEND === 'sqlite' ? 'store' : 'sql')) === 'sql' ? 'sql' : 'store'
const TAIL = LOADER === 'sql' ? Math.min(Number(values.tail), ACTIONS) : 0
const CHUNK_OPS = Number(values.chunk)
const INFLIGHT = Number(values.inflight ?? (BACKEND === 'sqlite' ? 2 : 4))
const WRITERS = BACKEND === 'sqlite' ? 1 : Math.max(1, Number(values.writers))
const RUNS = Number(values.runs)
const WARMUP = Number(values.warmup)
const LIMIT = Number(values.limit)
/** The API's page when a client sends no limit (Nova's max_limit, from microversion 2.58). */
const API_DEFAULT_LIMIT = 1000
const HOUR_MICROS = 3600 * 1_000_000
const TARGET_P99_MS = 5
const PART = values.part ?? 'all'
if (!['all', 'instance', 'query'].includes(PART)) throw new Error(`unknown --part ${PART}`)
const QUERY_RUNS = Number(values['query-runs'])
const DEEP_PAGE = Number(values.deep)

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => n.toFixed(2)
const now = () => process.hrtime.bigint()
const seconds = (since: bigint) => Number(now() - since) / 1e9
const log = (text: string) => process.stderr.write(`[bench:scale] ${text}\n`)

/** Busy and total CPU time of the whole machine so far (Linux /proc/stat; zeros elsewhere). */
function machineCpu(): { busy: number; total: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    const total = fields.reduce((a, b) => a + b, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

/** Where the benchmark's database lives, and how to reach it natively. */
interface Target {
  /** The database setting handed to openStore. */
  database: string
  /** Shown with --keep. */
  location: string
  native: () => Promise<NativeDb>
  /** Removes the database. */
  drop: () => Promise<void>
}

async function prepareTarget(): Promise<Target> {
  const name = `actiontrail_scale_${process.pid}`
  const pool = INFLIGHT + 2
  const reuse = values.reuse
  if (reuse !== undefined) {
    const native = /^postgres(ql)?:/.test(reuse)
      ? () => pgNative(reuse, pool)
      : /^(mysql|mariadb):/.test(reuse)
        ? () => mysqlNative(reuse, pool)
        : () => Promise.resolve(sqliteNative(reuse))
    return { database: reuse, location: reuse, native, drop: () => Promise.resolve() }
  }
  if (BACKEND === 'postgres') {
    const admin =
      process.env.ACTIONTRAIL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
    await createPgDatabase(admin, name)
    const url = withDatabase(admin, name)
    return {
      database: url,
      location: url,
      native: () => pgNative(url, pool),
      drop: () => dropPgDatabase(admin, name),
    }
  }
  if (BACKEND === 'mysql') {
    const admin = process.env.ACTIONTRAIL_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql'
    await createMysqlDatabase(admin, name)
    const url = withDatabase(admin, name)
    return {
      database: url,
      location: url,
      native: () => mysqlNative(url, pool),
      drop: () => dropMysqlDatabase(admin, name),
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-scale-'))
  const file = join(dir, 'scale.db')
  return {
    database: file,
    location: file,
    native: () => Promise.resolve(sqliteNative(file)),
    drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  }
}

/** What a load reports. */
interface LoadReport {
  description: string
  seconds: number
  rows: number
  /** Write operations; absent for the plain-SQL loader, which inserts rows, not operations. */
  ops?: number
  /** After a plain-SQL load: the last actions, written through store.write. */
  tail?: LoadReport
}

function checkOutcomes(outcomes: Awaited<ReturnType<ActionStore['write']>>): void {
  const failed = outcomes.find((o) => !o.ok)
  if (failed && !failed.ok)
    throw new Error(`load: a write failed: ${failed.error.code} ${failed.error.message}`)
}

/** Runs `work(i)` for i in [0, count) with `parallel` workers; logs progress every ~10 %. */
async function inParallel(
  count: number,
  parallel: number,
  label: string,
  work: (i: number, worker: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let done = 0
  let reported = 0
  const started = now()
  await Promise.all(
    Array.from({ length: parallel }, async (_, worker) => {
      for (let i = next++; i < count; i = next++) {
        await work(i, worker)
        done++
        if (done * 10 >= (reported + 1) * count) {
          reported = Math.floor((done * 10) / count)
          log(`${label}: ${reported * 10} % after ${seconds(started).toFixed(1)} s`)
        }
      }
    }),
  )
}

/**
 * The write path: store.write() with whole action lifecycles per chunk (a chunk never depends on
 * another one, so chunks may commit in any order, on any writer).
 */
async function loadThroughStore(
  stores: ActionStore[],
  history: History,
  from: number,
  withInstances: boolean,
): Promise<LoadReport> {
  const opsPerAction = 2 + 2 * EVENTS
  const actionsPerChunk = Math.max(1, Math.floor(CHUNK_OPS / opsPerAction))
  let opCount = 0
  let rowCount = 0
  const started = now()
  if (withInstances) {
    const instances = instanceOps(history.shape)
    for (let i = 0; i < instances.length; i += CHUNK_OPS)
      checkOutcomes(await (stores[0] as ActionStore).write(instances.slice(i, i + CHUNK_OPS)))
  }
  const chunks = Math.ceil((ACTIONS - from) / actionsPerChunk)
  await inParallel(chunks, INFLIGHT, 'load (store.write)', async (c, worker) => {
    const ops: StoreWrite[] = []
    for (
      let n = from + c * actionsPerChunk;
      n < Math.min(ACTIONS, from + (c + 1) * actionsPerChunk);
      n++
    ) {
      const a = history.action(n)
      ops.push(...actionOps(a))
      rowCount += 1 + a.events.length
    }
    opCount += ops.length
    checkOutcomes(await (stores[worker % stores.length] as ActionStore).write(ops))
  })
  const writers = stores.length > 1 ? `, ${stores.length} store instances` : ''
  const instanceCount = withInstances ? INSTANCES : 0
  return {
    description:
      `store.write (the write path: action start, event start + finish × ${EVENTS}, ` +
      `action finish), ${actionsPerChunk * opsPerAction}-op chunks, ` +
      `${INFLIGHT} in flight${writers}`,
    seconds: seconds(started),
    rows: instanceCount + rowCount,
    ops: instanceCount + opCount,
  }
}

function multiRowInserts(
  native: NativeDb,
  table: string,
  columns: readonly string[],
  rows: unknown[][],
  perStatement: number,
): Statement[] {
  const out: Statement[] = []
  const tuple = `(${columns.map(() => '?').join(', ')})`
  for (let i = 0; i < rows.length; i += perStatement) {
    const part = rows.slice(i, i + perStatement)
    out.push({
      sql: native.insertPrefix(table, columns) + part.map(() => tuple).join(', '),
      params: part.flat(),
    })
  }
  return out
}

/**
 * Plain multi-row INSERTs of the final rows with explicit ids, several transactions in flight,
 * for all but the last TAIL actions; those then go through store.write on the loaded database.
 */
async function loadThroughSql(
  native: NativeDb,
  stores: ActionStore[],
  history: History,
): Promise<LoadReport> {
  const sqlActions = ACTIONS - TAIL
  const perChunk = 2000
  const perStatement = 500
  const started = now()
  const instanceRows = instanceOps(history.shape).map((w) => {
    if (w.op !== 'instance_put') throw new Error('unexpected op')
    const v = w.values
    return [v.uuid, v.name, v.projectId, v.userId, v.now, v.now, null]
  })
  const instanceColumns = [
    'uuid',
    'name',
    'project_id',
    'user_id',
    'created_at',
    'updated_at',
    'deleted_at',
  ]
  await native.transaction(
    multiRowInserts(native, 'instances', instanceColumns, instanceRows, perStatement),
  )
  // The columns this database's schema has (the records carry those of every version).
  const sample = history.action(0)
  const actionColumns = pickColumns(
    'instance_actions',
    await native.columns('instance_actions'),
    actionRecord(sample, 1),
  )
  const eventColumns = pickColumns(
    'instance_actions_events',
    await native.columns('instance_actions_events'),
    eventRecords(sample, 1, 1)[0] ?? {},
  )
  const dropped = await native.dropSecondaryIndexes(['instance_actions', 'instance_actions_events'])
  log(`dropped the secondary indexes for the load (${dropped.length} statements rebuild them)`)
  const chunks = Math.ceil(sqlActions / perChunk)
  let eventRowCount = 0
  await inParallel(chunks, INFLIGHT, 'load (plain SQL)', async (c) => {
    const actions: unknown[][] = []
    const events: unknown[][] = []
    for (let n = c * perChunk; n < Math.min(sqlActions, (c + 1) * perChunk); n++) {
      const a = history.action(n)
      const row = actionRecord(a, n + 1)
      actions.push(actionColumns.map((k) => row[k]))
      for (const e of eventRecords(a, n + 1, n * EVENTS + 1))
        events.push(eventColumns.map((k) => e[k]))
    }
    eventRowCount += events.length
    await native.transaction([
      ...multiRowInserts(native, 'instance_actions', actionColumns, actions, perStatement),
      ...multiRowInserts(native, 'instance_actions_events', eventColumns, events, perStatement),
    ])
  })
  await native.resetSequences()
  const insertSeconds = seconds(started)
  const indexStarted = now()
  for (const statement of dropped) await native.query(statement)
  const indexSeconds = seconds(indexStarted)
  log(`rebuilt the secondary indexes in ${indexSeconds.toFixed(1)} s`)
  const report: LoadReport = {
    description:
      `plain SQL: multi-row INSERTs of the final rows (${perStatement} ` +
      `rows/statement, ${perChunk} actions/transaction, ${INFLIGHT} in flight) into the tables ` +
      `without their secondary indexes (${insertSeconds.toFixed(1)} s), then ` +
      `the indexes rebuilt (${indexSeconds.toFixed(1)} s)`,
    seconds: seconds(started),
    rows: INSTANCES + sqlActions + eventRowCount,
  }
  log(`plain SQL part loaded in ${report.seconds.toFixed(1)} s`)
  if (TAIL > 0) report.tail = await loadThroughStore(stores, history, sqlActions, false)
  return report
}

// A full collection before each measured line, so that the loader's garbage is not collected
// inside one unlucky line; each line still pays for the collections its own queries cause.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

const LINE_NS = BigInt(Math.round(Number(values['line-seconds']) * 1e9))
const MIN_RUNS = Number(values['min-runs'])

/**
 * Sorted latencies in milliseconds of `runs` sequential calls, after `warmup` unmeasured ones;
 * fewer when the line's time (--line-seconds) runs out.
 */
async function timeRuns(fn: (i: number) => Promise<unknown>, runs = RUNS): Promise<number[]> {
  collectGarbage()
  const started = now()
  for (let i = 0; i < WARMUP && now() - started < LINE_NS / 10n; i++) await fn(i + runs)
  const measured = now()
  const out: number[] = []
  for (let i = 0; i < runs && (i < MIN_RUNS || now() - measured < LINE_NS); i++) {
    const t0 = now()
    await fn(i)
    out.push(Number(now() - t0) / 1e6)
  }
  return out.sort((a, b) => a - b)
}

// The raw floor: exactly the statements ActionTrail's store sends, written by hand.
const SELECT_ACTION =
  'SELECT * FROM instance_actions WHERE instance_uuid = ? AND request_id = ? ORDER BY created_at DESC, id DESC LIMIT 1'
const pageSql = (limit: number) =>
  `SELECT * FROM instance_actions WHERE instance_uuid = ? ORDER BY created_at DESC, id DESC LIMIT ${limit}`
const pageAfterSql = (limit: number, hint = '') =>
  `SELECT * FROM instance_actions${hint} WHERE ${AFTER_MARKER} ORDER BY created_at DESC, id DESC LIMIT ${limit}`
const windowSql = (cond: string) =>
  `SELECT * FROM instance_actions WHERE instance_uuid = ? AND ${cond} ` +
  `ORDER BY created_at DESC, id DESC LIMIT ${API_DEFAULT_LIMIT}`
const countSql = (cond: string) =>
  `SELECT count(*) AS n FROM (SELECT 1 FROM instance_actions WHERE instance_uuid = ? AND ${cond} ` +
  `LIMIT ${WINDOW_WALK_THRESHOLD})`

/**
 * A changes-since/-before page as the store reads it: on SQLite, a bounded count first and, for a
 * wide window, `+updated_at` so that SQLite walks the created index (docs/storage.md finding 2).
 */
async function floorWindow(
  native: NativeDb,
  instance: string,
  since: string,
  before?: string,
): Promise<Row[]> {
  const params = before === undefined ? [instance, since] : [instance, since, before]
  const cond = (col: string) =>
    before === undefined ? `${col} >= ?` : `${col} >= ? AND ${col} <= ?`
  if (BACKEND !== 'sqlite') return native.floor(windowSql(cond('updated_at')), params)
  const n = Number((await native.floor(countSql(cond('updated_at')), params))[0]?.n)
  return native.floor(
    windowSql(cond(n >= WINDOW_WALK_THRESHOLD ? '+updated_at' : 'updated_at')),
    params,
  )
}
const EVENTS_SQL =
  'SELECT * FROM instance_actions_events WHERE action_id = ? ORDER BY created_at DESC, id DESC'
const INSTANCE_SQL = 'SELECT * FROM instances WHERE uuid = ?'

async function floorList(
  native: NativeDb,
  instance: string,
  limit: number,
  marker: string | undefined,
): Promise<Row[]> {
  if (marker === undefined) return native.floor(pageSql(limit), [instance])
  const m = (await native.floor(SELECT_ACTION, [instance, marker]))[0]
  if (!m) throw new Error(`floor: marker ${marker} not found`)
  const hint = BACKEND === 'mysql' ? FORCE_CREATED_INDEX : ''
  return native.floor(pageAfterSql(limit, hint), [
    instance,
    m.created_at,
    m.created_at,
    m.created_at,
    m.id,
  ])
}

async function floorShow(native: NativeDb, instance: string, requestId: string): Promise<Row[]> {
  const a = (await native.floor(SELECT_ACTION, [instance, requestId]))[0]
  if (!a) throw new Error(`floor: action ${requestId} not found`)
  return native.floor(EVENTS_SQL, [a.id])
}

/** One line of the table. */
interface Line {
  name: string
  /** Absent for floor-only lines (a query shape ActionTrail does not send today). */
  store?: number[]
  floor: number[]
  /** Checked against the p99 target. */
  targeted: boolean
}

function sameIds(what: string, store: readonly { id: number }[], floor: readonly Row[]): void {
  const a = store.map((r) => r.id).join(',')
  const b = floor.map((r) => Number(r.id)).join(',')
  if (a !== b)
    throw new Error(
      `${what}: the store and the floor disagree (${store.length} vs ${floor.length} rows)`,
    )
}

/** Runs the benchmark; true when a target was missed. */
async function main(): Promise<boolean> {
  const history = new History({
    actions: ACTIONS,
    eventsPerAction: EVENTS,
    instances: INSTANCES,
    hot: HOT,
  })
  const hotUuid = instanceUuid(0)
  const hotCount = history.hotActions
  // 0, 1k and 90k of a 100k hot instance (issue 4), and 10k: MariaDB's plan choice changes in
  // between (docs/storage.md finding 1).
  const depths = [0, 0.01, 0.1, 0.9].map((f) =>
    Math.min(Math.round(hotCount * f), Math.max(0, hotCount - LIMIT - RUNS)),
  )
  const deepest = depths[depths.length - 1] ?? 0
  log(
    `${BACKEND}: ${fmt(ACTIONS)} actions, ${fmt(ACTIONS * EVENTS)} events, ${fmt(INSTANCES)} ` +
      `instances, hot ${fmt(hotCount)}; loader ${LOADER}`,
  )

  const target = await prepareTarget()
  const stores: ActionStore[] = []
  let native: NativeDb | undefined
  let missed = false
  try {
    const opened = await openStores(target.database)
    const idempotency: IdempotencyStore = opened.idempotency
    stores.push(opened.actions)
    for (let w = 1; w < WRITERS; w++) stores.push(await openStore(target.database))
    const store = stores[0] as ActionStore
    native = await target.native()

    const load: LoadReport | undefined =
      values.reuse !== undefined
        ? undefined
        : LOADER === 'store'
          ? await loadThroughStore(stores, history, 0, true)
          : await loadThroughSql(native, stores, history)
    for (const extra of stores.splice(1)) await extra.close()
    if (load) log(`loaded in ${(load.seconds + (load.tail?.seconds ?? 0)).toFixed(1)} s`)
    const maintenanceStarted = now()
    if (load) await native.analyze()
    const maintenance = seconds(maintenanceStarted)
    await native.settle()

    const counts =
      (
        await native.query(
          'SELECT (SELECT count(*) FROM instance_actions) AS a, (SELECT count(*) FROM instance_actions_events) AS e',
        )
      )[0] ?? {}
    if (Number(counts.a) !== ACTIONS || Number(counts.e) !== ACTIONS * EVENTS) {
      throw new Error(`load left ${String(counts.a)} actions and ${String(counts.e)} events`)
    }
    const size = await native.size()

    // Samples, chosen untimed. Markers: the last action of the previous page, for RUNS + WARMUP
    // consecutive pages starting at each depth (so runs do not all hit the same cached rows).
    const samples = RUNS + WARMUP
    const hotOrder = async (offset: number, count: number) =>
      (
        await native!.query(
          `SELECT request_id FROM instance_actions WHERE instance_uuid = ? ` +
            `ORDER BY created_at DESC, id DESC LIMIT ${count} OFFSET ${offset}`,
          [hotUuid],
        )
      ).map((r) => String(r.request_id))
    const markers = new Map<number, string[]>()
    for (const d of depths) if (d > 0) markers.set(d, await hotOrder(d - 1, samples))
    const expectedFirst = new Map<number, string>()
    for (const d of depths) expectedFirst.set(d, (await hotOrder(d, 1))[0] as string)
    const showSamples: { instance: string; requestId: string }[] = []
    for (let i = 0; i < samples; i++) {
      const n = Math.floor((((i * 2654435761) >>> 0) / 2 ** 32) * ACTIONS)
      const a = history.action(n)
      showSamples.push({ instance: a.instanceUuid, requestId: a.requestId })
    }
    const windows = Array.from({ length: samples }, (_, i) => {
      const start =
        HISTORY_START_MICROS +
        Math.floor((((i * 40503) % 65536) / 65536) * (HISTORY_SPAN_MICROS - HOUR_MICROS))
      return { since: ts(start), before: ts(start + HOUR_MICROS) }
    })

    const lines: Line[] = []
    const listLine = async (depth: number, limit: number, targeted: boolean, label: string) => {
      const marker = (i: number) =>
        depth === 0 ? undefined : (markers.get(depth) as string[])[i % samples]
      const query = (i: number) => ({
        limit,
        ...(depth === 0 ? {} : { marker: marker(i) as string }),
      })
      const first = await store.listActions(hotUuid, query(0))
      if (
        first[0]?.requestId !== expectedFirst.get(depth) ||
        first.length !== Math.min(limit, hotCount - depth)
      )
        throw new Error(
          `list at depth ${depth}: wrong page ${first.length} ${first[0]?.requestId} ${expectedFirst.get(depth)}`,
        )
      sameIds(`list at depth ${depth}`, first, await floorList(native!, hotUuid, limit, marker(0)))
      log(`measuring ${label}`)
      lines.push({
        name: label,
        targeted,
        store: await timeRuns((i) => store.listActions(hotUuid, query(i))),
        floor: await timeRuns((i) => floorList(native!, hotUuid, limit, marker(i))),
      })
    }
    const cpuBefore = machineCpu()
    const window = (i: number) => windows[i % samples] as { since: Timestamp; before: Timestamp }
    if (PART !== 'query') {
      for (const d of depths)
        await listLine(d, LIMIT, true, `list, limit ${LIMIT}, depth ${fmt(d)}`)

      const show = async (i: number) => {
        const s = showSamples[i % samples] as { instance: string; requestId: string }
        const action = (await store.getAction(s.instance, s.requestId)) as InstanceAction
        return store.listEvents(action.id)
      }
      const firstShow = showSamples[0] as { instance: string; requestId: string }
      sameIds(
        'show',
        await show(0),
        await floorShow(native, firstShow.instance, firstShow.requestId),
      )
      log('measuring show')
      lines.push({
        name: 'show (getAction + listEvents), random actions',
        targeted: true,
        store: await timeRuns(show),
        floor: await timeRuns((i) => {
          const s = showSamples[i % samples] as { instance: string; requestId: string }
          return floorShow(native!, s.instance, s.requestId)
        }),
      })

      const changes = (i: number) =>
        store.listActions(hotUuid, {
          limit: API_DEFAULT_LIMIT,
          changesSince: window(i).since,
          changesBefore: window(i).before,
        })
      sameIds(
        'changes-since',
        await changes(0),
        await floorWindow(native, hotUuid, window(0).since, window(0).before),
      )
      log('measuring changes-since')
      const changeRows = await changes(1)
      lines.push({
        name:
          `changes-since/-before, 1 h window of the hot instance (~${changeRows.length} rows), ` +
          `limit ${API_DEFAULT_LIMIT}`,
        targeted: false,
        store: await timeRuns(changes),
        floor: await timeRuns((i) =>
          floorWindow(native!, hotUuid, window(i).since, window(i).before),
        ),
      })

      // The worst case of an open-ended changes-since: every action of the hot instance matches, and
      // the API's default page of 1000 is the newest of them.
      const sinceStart = ts(HISTORY_START_MICROS)
      const sinceOnly = () =>
        store.listActions(hotUuid, { limit: API_DEFAULT_LIMIT, changesSince: sinceStart })
      sameIds(
        'changes-since only',
        await sinceOnly(),
        await floorWindow(native, hotUuid, sinceStart),
      )
      log('measuring changes-since, open end')
      lines.push({
        name:
          `changes-since only, since the start of the history (all ${fmt(hotCount)} actions ` +
          `match), limit ${API_DEFAULT_LIMIT}`,
        targeted: false,
        store: await timeRuns(sinceOnly),
        floor: await timeRuns(() => floorWindow(native!, hotUuid, sinceStart)),
      })

      log('measuring instance lookup')
      const instanceOf = (i: number) => instanceUuid((i * 7919) % INSTANCES)
      lines.push({
        name: 'instance lookup (getInstance, before every list/show)',
        targeted: false,
        store: await timeRuns((i) => store.getInstance(instanceOf(i))),
        floor: await timeRuns((i) => native!.floor(INSTANCE_SQL, [instanceOf(i)])),
      })
      await listLine(
        0,
        API_DEFAULT_LIMIT,
        false,
        `list, limit ${API_DEFAULT_LIMIT} (the API's page without ?limit), depth 0`,
      )
    }
    // The http column's server: the checkout's `actiontrail serve` on the same database, with the
    // in-process app's tokens and cursor key so that both answer the same pages.
    const cursorKey = randomBytes(32).toString('hex')
    let serverDir: string | undefined
    let server: ChildServer | undefined
    const gc = watchGcPauses()
    let queries
    try {
      if (PART !== 'instance' && !values['no-http']) {
        log('starting actiontrail serve for the http column')
        serverDir = mkdtempSync(join(tmpdir(), 'actiontrail-scale-serve-'))
        server = await startActionTrail({
          dir: serverDir,
          tokens: BENCH_TOKENS,
          db: target.database,
          env: { ACTIONTRAIL_CURSOR_SECRET: cursorKey },
        })
      }
      queries =
        PART === 'instance'
          ? { lines: [], notes: [] }
          : await measureQueries({
              store,
              idempotency,
              native,
              history,
              time: (fn) => timeRuns(fn, QUERY_RUNS),
              limit: LIMIT,
              deepPage: DEEP_PAGE,
              walkSeconds: Number(values['line-seconds']),
              cursorKey: Buffer.from(cursorKey, 'utf8'),
              httpTiming: {
                runs: QUERY_RUNS,
                warmup: WARMUP,
                lineMs: Number(values['line-seconds']) * 1000,
                minRuns: MIN_RUNS,
              },
              ...(server ? { httpUrl: server.url } : {}),
              ...(values.only !== undefined ? { only: values.only } : {}),
              log,
            })
    } finally {
      await server?.stop()
      if (serverDir) rmSync(serverDir, { recursive: true, force: true })
    }
    const gcPauses = gc.stop()
    const cpuAfter = machineCpu()
    const busy =
      cpuAfter.total > cpuBefore.total
        ? (cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total)
        : 0

    // The table.
    const cpu = cpus()[0]?.model.trim() ?? 'cpu'
    const out: string[] = []
    out.push(
      `ActionTrail scale benchmark — ${new Date().toISOString().slice(0, 10)}, ` +
        `${cpus().length} × ${cpu}, Node ${process.version}, ${native.version}`,
    )
    out.push('')
    out.push(
      `- history: ${fmt(ACTIONS)} actions, ${fmt(ACTIONS * EVENTS)} events, ${fmt(INSTANCES)} ` +
        `instances over one year; hot instance: ${fmt(hotCount)} actions ` +
        `(every ${history.k}th), ${fmt(Math.floor((hotCount + 48) / 50))} created_at ties`,
    )
    const rate = (r: LoadReport) =>
      r.ops === undefined
        ? `${fmt(r.rows)} rows in ${r.seconds.toFixed(1)} s = **${fmt(r.rows / r.seconds)} rows/s**`
        : `${fmt(r.ops)} ops, ${fmt(r.rows)} rows in ${r.seconds.toFixed(1)} s = ` +
          `**${fmt(r.ops / r.seconds)} ops/s, ${fmt(r.rows / r.seconds)} rows/s**`
    if (load) out.push(`- load: ${load.description}: ${rate(load)}`)
    else out.push(`- load: none, a database kept by an earlier run (--reuse)`)
    if (load?.tail)
      out.push(
        `- then the last ${fmt(TAIL)} actions through ${load.tail.description}: ${rate(load.tail)}`,
      )
    if (BACKEND !== 'sqlite' && load)
      out.push(
        `- after the load: ${BACKEND === 'postgres' ? 'VACUUM (ANALYZE)' : 'ANALYZE TABLE'} ` +
          `${maintenance.toFixed(1)} s`,
      )
    out.push(`- database size: **${mib(size.bytes)}** (${size.detail})`)
    out.push(
      `- load average (1, 5, 15 min) at the end of the reads: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    )
    const httpColumn = values['no-http']
      ? ''
      : 'http (`actiontrail serve` in a child process, timed by a client process of its own on ' +
        'one keep-alive connection), '
    if (PART !== 'instance')
      out.push(
        `- query lines (bench/scale-queries.ts): ${httpColumn}` +
          `route (app.inject), store and floor, one request ` +
          `at a time, ${WARMUP} warm-up + ${QUERY_RUNS} measured runs per line (fewer after ` +
          `${values['line-seconds']} s), limit ${LIMIT}, first page and page ${DEEP_PAGE}. ` +
          `Machine CPU busy during the reads: ${(busy * 100).toFixed(0)} % of ${cpus().length} cores.`,
      )
    if (PART !== 'query')
      out.push(
        `- reads: one at a time through the store's methods (Kysely), ${WARMUP} warm-up + ${RUNS} ` +
          `measured runs per line; the floor runs the same statements hand-written on the native ` +
          `driver. List pages: limit ${LIMIT} (a typical client page), hot instance, keyset ` +
          `marker = last action of the previous page, ${RUNS} consecutive pages from each depth. ` +
          `Machine CPU busy during the reads: ${(busy * 100).toFixed(0)} % of ${cpus().length} ` +
          `cores (the benchmark and its database server alone keep about one core busy; more means ` +
          `other work shared the machine).`,
      )
    if (lines.length > 0) {
      out.push('')
      out.push('| query | p50 ms | p99 ms | floor p50 ms | floor p99 ms | p99 vs floor |')
      out.push('| --- | ---: | ---: | ---: | ---: | ---: |')
      for (const l of lines) {
        const f99 = percentile(l.floor, 99)
        const floor = `${ms(percentile(l.floor, 50))} | ${ms(f99)}`
        if (!l.store) {
          out.push(`| ${l.name} | — | — | ${floor} | — |`)
          continue
        }
        const p99 = percentile(l.store, 99)
        out.push(
          `| ${l.name} | ${ms(percentile(l.store, 50))} | ${ms(p99)} | ${floor} | ${(p99 / f99).toFixed(2)}× |`,
        )
      }
      out.push('')
      out.push('| target | measured | |')
      out.push('| --- | --- | --- |')
      for (const l of lines.filter((x) => x.targeted)) {
        const p99 = percentile(l.store ?? [], 99)
        if (p99 >= TARGET_P99_MS) missed = true
        out.push(
          `| ${l.name}: p99 < ${TARGET_P99_MS} ms | ${ms(p99)} ms | ${p99 < TARGET_P99_MS ? 'met' : '**missed**'} |`,
        )
      }
      const deep = lines[depths.length - 1]?.store
      const top = lines[0]?.store
      if (deep && top) {
        const ratio = percentile(deep, 99) / percentile(top, 99)
        if (ratio > 2) missed = true
        out.push(
          `| list p99 at depth ${fmt(deepest)} within 2× of depth 0 | ${ratio.toFixed(2)}× ` +
            `| ${ratio <= 2 ? 'met' : '**missed**'} |`,
        )
      }
    }
    if (queries.lines.length > 0 || queries.notes.length > 0) {
      const report = queryReport(queries.lines, queries.notes)
      if (report.missed) missed = true
      out.push('', ...report.out)
      const calls = queries.lines.reduce(
        (n, l) => n + l.route.length + l.store.length + l.floor.length,
        0,
      )
      out.push('', gcPausesLine(gcPauses, calls))
    }
    console.log(`\n${out.join('\n')}`)
    if (values.explain && PART !== 'query') {
      log('explaining')
      const explained = await explainAll(native, {
        backend: BACKEND,
        hotUuid,
        projectId: projectOf(0),
        limit: LIMIT,
        markers: depths
          .filter((d) => d > 0)
          .map((d) => ({ depth: d, requestId: (markers.get(d) as string[])[0] as string })),
        window: window(0),
        nowMicros: HISTORY_START_MICROS + HISTORY_SPAN_MICROS,
      })
      console.log(`\n### Plans (${native.version})\n\n${explained}`)
    }
    if (values.explain && queries.lines.length > 0) {
      log('explaining the query lines')
      const explained = await explainQueries(native, queries.lines)
      console.log(`\n### Plans of the query API (${native.version})\n\n${explained}`)
    }
    if (values.keep) console.log(`\nkept: ${target.location}`)
    return missed
  } finally {
    for (const s of stores) await s.close()
    await native?.close()
    if (!values.keep) await target.drop()
  }
}

/** `--backend galera`: the cluster next to a single MariaDB (bench/scale-galera.ts). */
async function galeraMain(): Promise<boolean> {
  const { galeraScale } = await import('./scale-galera.js')
  const report = await galeraScale({
    actions: process.argv.includes('--actions') ? ACTIONS : 4000,
    events: EVENTS,
    inflight: Number(values.inflight ?? 8),
    runs: RUNS,
    warmup: WARMUP,
    limit: LIMIT,
    log,
  })
  const cpu = cpus()[0]?.model.trim() ?? 'cpu'
  console.log(
    `\nActionTrail scale benchmark, Galera — ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} × ${cpu}, Node ${process.version}; load average at the end ` +
      `${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}\n\n${report.text}`,
  )
  return !report.met
}

const missedTarget = GALERA ? await galeraMain() : await main()
if (missedTarget && values.check) {
  log('a target was missed (--check)')
  process.exitCode = 1
}
