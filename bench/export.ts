/**
 * `npm run bench:export [-- --actions N --events E]`
 *
 * Export throughput and memory (issue 13: 1M actions with 5M events at ≥ 50,000 actions/s, RSS
 * growth under 100 MB). A SQLite store (the embedded default) is filled with the scale
 * benchmark's deterministic history (bench/scale-history.ts; default 100,000 actions with 5 events
 * each; `--actions 1000000` for the issue's size) by plain INSERTs, then exported whole as NDJSON
 * to a sink that discards the bytes (so the disk is not measured), three ways:
 *  (floor) SQLite alone: the same keyset pages (1,000 actions newest first, then their events by
 *          action id) read with better-sqlite3's prepared statements, and each action's raw rows
 *          (the columns the export shows) written as one JSON line a page at a time — the
 *          export's reads and serialization, without Kysely, record mapping or views
 *  (e1)    writeExport (src/export/write-export.ts), what `actiontrail export` and
 *          `GET /v1/export` run: the store's search and events reads, record views, NDJSON
 *  (e2)    (e1) gzipped
 * Each line prints actions/s, MB/s of output, % of the floor, and the RSS growth over the RSS
 * before the line (sampled every 50 ms; peak minus start). The floor runs first, so that (e1) does
 * not gain from a cache the floor warmed more than the floor did from its own.
 */
import { mkdtempSync, rmSync } from 'node:fs'
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
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
}

/** The floor: the export's keyset pages and one JSON line per action, on bare better-sqlite3. */
function floorExport(file: string, sink: Writable & { bytes: number }): number {
  const db = new BetterSqlite3(file, { readonly: true })
  const page = 1000
  // The columns the export shows (and the keys the floor needs), so both write the same fields.
  const actionCols =
    'id, instance_uuid, action, request_id, user_id, project_id, start_time, finish_time, ' +
    'message, created_at, updated_at, written_by'
  const eventCols =
    'action_id, event, start_time, finish_time, result, created_at, updated_at, traceback, host, ' +
    'written_by, finished_by, details'
  const first = db.prepare(
    `SELECT ${actionCols} FROM instance_actions ORDER BY start_time DESC, id DESC LIMIT ?`,
  )
  const next = db.prepare(
    `SELECT ${actionCols} FROM instance_actions ` +
      // The store's keyset form (search-terms.ts afterPosition): the leading `start_time <= ?`
      // makes it an index range; without it SQLite scanned, and the 1M run's floor took 746 s.
      'WHERE start_time <= ? AND (start_time < ? OR (start_time = ? AND id < ?)) ' +
      'ORDER BY start_time DESC, id DESC LIMIT ?',
  )
  const events = db.prepare(
    `SELECT ${eventCols} FROM instance_actions_events ` +
      `WHERE action_id IN (${new Array(page).fill('?').join(', ')})`,
  )
  const instance = db.prepare(
    'SELECT uuid, name, project_id, user_id, created_at, updated_at, deleted_at FROM instances WHERE uuid = ?',
  )
  let count = 0
  let rows = first.all(page) as Record<string, unknown>[]
  while (rows.length > 0) {
    const ids = rows.map((r) => r.id)
    while (ids.length < page) ids.push(-1)
    const byAction = new Map<unknown, unknown[]>()
    for (const e of events.all(...ids) as Record<string, unknown>[]) {
      const list = byAction.get(e.action_id)
      if (list) list.push(e)
      else byAction.set(e.action_id, [e])
    }
    const seen = new Map<unknown, unknown>()
    let text = ''
    for (const r of rows) {
      let inst = seen.get(r.instance_uuid)
      if (inst === undefined) {
        inst = instance.get(r.instance_uuid)
        seen.set(r.instance_uuid, inst)
      }
      text += JSON.stringify({ instance: inst, action: r, events: byAction.get(r.id) ?? [] }) + '\n'
      count++
    }
    sink.write(text)
    if (rows.length < page) break
    const last = rows[rows.length - 1] as Record<string, unknown>
    rows = next.all(last.start_time, last.start_time, last.start_time, last.id, page) as Record<
      string,
      unknown
    >[]
  }
  db.close()
  return count
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-export-'))
  const file = join(dir, 'export.sqlite')
  try {
    const history = new History({
      actions: ACTIONS,
      eventsPerAction: EVENTS,
      instances: INSTANCES,
      hot: Math.min(ACTIONS, 1000),
    })
    const created = await openStore(file, { migrate: true })
    await created.close()
    const loadStart = Date.now()
    load(file, history)
    log(
      `loaded ${ACTIONS.toLocaleString('en')} actions in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`,
    )

    const rows: { line: string; actions: number; seconds: number; mb: number; rssMb: number }[] = []
    {
      const sink = nullSink()
      const r = await measured(async () => floorExport(file, sink))
      rows.push({
        line: '(floor) SQLite alone',
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
  }
}

await main()
