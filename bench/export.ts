/**
 * `npm run bench:export [-- --actions N --events E --file PATH]`
 *
 * Export throughput and memory (issue 13: 1M actions with 5M events at ≥ 50,000 actions/s, RSS
 * growth under 100 MB). A SQLite store (the embedded default) is filled with the scale
 * benchmark's deterministic history (bench/scale-history.ts; default 100,000 actions with 5 events
 * each; `--actions 1000000` for the size) by plain INSERTs, then exported whole as NDJSON
 * to a sink that discards the bytes (so the disk is not measured), three ways:
 *  (floor) SQLite alone, one thread: the same keyset pages (1,000 actions newest first), each
 *          record's whole line built by SQLite (json_object / json_group_array), JavaScript only
 *          joining lines — the export's reads and serialization without Kysely (floorExport)
 *  (e1)    writeExport (src/export/write-export.ts), what `actiontrail export` and
 *          `GET /v1/export` run: the store's search read for each page's ids, then each page's
 *          text built by SQLite as one BLOB (store/sqlite/sqlite-export-json.ts), pages read
 *          ahead and built at once by the asking thread and a worker thread (cores − 1 workers:
 *          store/sqlite/export-lines-pool.ts) — so on 2 cores it can pass the one-thread floor
 *  (e2)    (e1) gzipped
 * Each line prints actions/s, MB/s of output, % of the floor, and the RSS growth over the RSS
 * before the line (sampled every 50 ms; peak minus start). The floor runs first, so that (e1) does
 * not gain from a cache the floor warmed more than the floor did from its own.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import BetterSqlite3 from 'better-sqlite3'
import { openStore } from '../src/store/open-store.js'
import { writeExport } from '../src/export/write-export.js'
import { History, actionRecord, eventRecords, instanceOps, pickColumns } from './scale-history.js'

const { values } = parseArgs({
  options: {
    actions: { type: 'string', default: '100000' },
    events: { type: 'string', default: '5' },
    file: { type: 'string' },
  },
})
const ACTIONS = Number(values.actions)
const EVENTS = Number(values.events)
const INSTANCES = Math.max(1, Math.round(ACTIONS / 100))

/** A sink that counts and discards what it is given. */
function nullSink(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      sink.bytes += chunk.length
      done()
    },
  }) as Writable & { bytes: number }
  sink.bytes = 0
  return sink
}

/** Peak RSS growth (MB) while `fn` runs, sampled every 50 ms. */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; seconds: number; rssMb: number }> {
  globalThis.gc?.()
  const start = process.memoryUsage.rss()
  let peak = start
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 50)
  const t0 = process.hrtime.bigint()
  try {
    const value = await fn()
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    peak = Math.max(peak, process.memoryUsage.rss())
    return { value, seconds, rssMb: (peak - start) / 2 ** 20 }
  } finally {
    clearInterval(timer)
  }
}

function log(line: string): void {
  process.stderr.write(`bench:export ${line}\n`)
}

/** Fills the store's tables with the history by plain INSERTs in one transaction per 10,000. */
function load(file: string, history: History): void {
  const db = new BetterSqlite3(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const columns = (table: string) =>
    (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name)
  const insert = (table: string, cols: readonly string[]) =>
    db.prepare(
      `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
    )
  const instanceCols = [
    'uuid',
    'name',
    'project_id',
    'user_id',
    'created_at',
    'updated_at',
    'deleted_at',
  ]
  const putInstance = insert('instances', instanceCols)
  db.transaction(() => {
    for (const w of instanceOps(history.shape)) {
      if (w.op !== 'instance_put') throw new Error('unexpected op')
      const v = w.values
      putInstance.run(v.uuid, v.name, v.projectId, v.userId, v.now, v.now, null)
    }
  })()
  const sample = history.action(0)
  const actionCols = pickColumns(
    'instance_actions',
    columns('instance_actions'),
    actionRecord(sample, 1),
  )
  const eventCols = pickColumns(
    'instance_actions_events',
    columns('instance_actions_events'),
    eventRecords(sample, 1, 1)[0] ?? {},
  )
  const putAction = insert('instance_actions', actionCols)
  const putEvent = insert('instance_actions_events', eventCols)
  // The secondary indexes are dropped for the load and built again after it: inserted row by row
  // into 30 indexes, the 1M-action load took 61 minutes (2026-12-06, loaded machine).
  const indexes = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL " +
        "AND tbl_name IN ('instance_actions', 'instance_actions_events')",
    )
    .all() as { name: string; sql: string }[]
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`)
  const chunk = 10_000
  for (let from = 0; from < ACTIONS; from += chunk) {
    db.transaction(() => {
      for (let n = from; n < Math.min(ACTIONS, from + chunk); n++) {
        const a = history.action(n)
        const row = actionRecord(a, n + 1)
        putAction.run(...actionCols.map((k) => row[k]))
        for (const e of eventRecords(a, n + 1, n * EVENTS + 1))
          putEvent.run(...eventCols.map((k) => e[k]))
      }
    })()
    if ((from / chunk) % 10 === 0) log(`loaded ${from.toLocaleString('en')} actions`)
  }
  log(`rebuilding ${indexes.length} indexes`)
  for (const { sql } of indexes) db.exec(sql)
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

/**
 * The floor: the export's keyset pages with each record's whole line built by SQLite
 * (`json_object` of the instance, the action and its events' `json_group_array`), JavaScript only
 * joining the lines — no mapping, views or JSON.stringify at all: the cheapest way found to read
 * this schema's rows out of SQLite as JSON (2026-12-07; rows as objects written with
 * JSON.stringify, the floor before, was slower than the export once its events became SQLite's
 * JSON, store/sqlite/sqlite-export-json.ts).
 */
function floorExport(file: string, sink: Writable & { bytes: number }): number {
  const db = new BetterSqlite3(file, { readonly: true })
  const page = 1000
  const event =
    "json_object('event', e.event, 'start_time', e.start_time, 'finish_time', e.finish_time, " +
    "'result', e.result, 'created_at', e.created_at, 'updated_at', e.updated_at, " +
    "'traceback', e.traceback, 'host', e.host, 'written_by', e.written_by, " +
    "'finished_by', e.finished_by, 'details', e.details)"
  const line =
    "json_object('instance', json_object('uuid', i.uuid, 'name', i.name, " +
    "'project_id', i.project_id, 'user_id', i.user_id, 'created_at', i.created_at, " +
    "'updated_at', i.updated_at, 'deleted_at', i.deleted_at), " +
    "'action', json_object('instance_uuid', a.instance_uuid, 'action', a.action, " +
    "'request_id', a.request_id, 'user_id', a.user_id, 'project_id', a.project_id, " +
    "'start_time', a.start_time, 'finish_time', a.finish_time, 'message', a.message, " +
    "'created_at', a.created_at, 'updated_at', a.updated_at, 'written_by', a.written_by), " +
    `'events', (SELECT json_group_array(${event} ORDER BY e.created_at DESC, e.id DESC) ` +
    'FROM instance_actions_events e WHERE e.action_id = a.id))'
  const select =
    `SELECT ${line}, a.start_time, a.id FROM instance_actions a ` +
    'JOIN instances i ON i.uuid = a.instance_uuid '
  const first = db.prepare(`${select} ORDER BY a.start_time DESC, a.id DESC LIMIT ?`).raw(true)
  const next = db
    .prepare(
      select +
        // The store's keyset form (search-terms.ts afterPosition): the leading `start_time <= ?`
        // makes it an index range; without it SQLite scanned, and the 1M run's floor took 746 s.
        'WHERE a.start_time <= ? AND (a.start_time < ? OR (a.start_time = ? AND a.id < ?)) ' +
        'ORDER BY a.start_time DESC, a.id DESC LIMIT ?',
    )
    .raw(true)
  let count = 0
  let rows = first.all(page) as [string, string, number][]
  while (rows.length > 0) {
    let text = ''
    for (const r of rows) text += r[0] + '\n'
    count += rows.length
    sink.write(text)
    if (rows.length < page) break
    const last = rows[rows.length - 1] as [string, string, number]
    rows = next.all(last[1], last[1], last[1], last[2], page) as [string, string, number][]
  }
  db.close()
  return count
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-export-'))
  // --file PATH: the store kept there (made there on the first run), so a 1M history loads once.
  const file = values.file ?? join(dir, 'export.sqlite')
  const reuse = values.file !== undefined && existsSync(values.file)
  try {
    const history = new History({
      actions: ACTIONS,
      eventsPerAction: EVENTS,
      instances: INSTANCES,
      hot: Math.min(ACTIONS, 1000),
    })
    if (reuse) log(`reusing ${file} (it must hold ${ACTIONS.toLocaleString('en')} actions)`)
    else {
      const created = await openStore(file, { migrate: true })
      await created.close()
      const loadStart = Date.now()
      load(file, history)
      log(
        `loaded ${ACTIONS.toLocaleString('en')} actions in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`,
      )
    }

    const rows: { line: string; actions: number; seconds: number; mb: number; rssMb: number }[] = []
    {
      const sink = nullSink()
      const r = await measured(async () => floorExport(file, sink))
      rows.push({
        line: '(floor) SQLite alone, one thread',
        actions: r.value,
        seconds: r.seconds,
        mb: sink.bytes / 1e6,
        rssMb: r.rssMb,
      })
    }
    for (const gzip of [false, true]) {
      const store = await openStore(file, { migrate: false })
      try {
        const sink = nullSink()
        const r = await measured(() =>
          writeExport(
            { source: store, search: {}, filters: new URLSearchParams(), format: 'ndjson', gzip },
            sink,
          ),
        )
        rows.push({
          line: gzip ? '(e2) writeExport, gzip' : '(e1) writeExport',
          actions: r.value.actions,
          seconds: r.seconds,
          mb: sink.bytes / 1e6,
          rssMb: r.rssMb,
        })
      } finally {
        await store.close()
      }
    }
    const floor = rows[0] as (typeof rows)[number]
    const floorRate = floor.actions / floor.seconds
    console.log(
      `\nExport of ${ACTIONS.toLocaleString('en')} actions × ${EVENTS} events, SQLite, ` +
        `node ${process.version}, ${cpus().length} cores (${new Date().toISOString()})\n`,
    )
    console.log('| line | actions | seconds | actions/s | output MB | % of floor | RSS growth MB |')
    console.log('|---|---:|---:|---:|---:|---:|---:|')
    for (const r of rows) {
      const rate = r.actions / r.seconds
      console.log(
        `| ${r.line} | ${r.actions.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ` +
          `${Math.round(rate).toLocaleString('en')} | ${r.mb.toFixed(0)} | ` +
          `${((100 * rate) / floorRate).toFixed(0)} % | ${r.rssMb.toFixed(0)} |`,
      )
    }
    console.log('\nTarget (issue 13): ≥ 50,000 actions/s at 1M actions, RSS growth < 100 MB.')
  } finally {
    if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true })
    else log(file)
    if (values.file !== undefined) log(`kept ${file}`)
  }
}

await main()
