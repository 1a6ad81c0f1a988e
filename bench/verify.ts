/**
 * `npm run bench:verify [-- --actions N --events E --rounds R --kysely --file PATH]`
 *
 * `actiontrail verify`'s speed on SQLite (issue 13 target: ≥ 200,000 records/s): a fresh store
 * filled with N actions (default 100,000) of E events each (default 5) through the bulk import
 * program (the same write path, chain included, as `actiontrail import`), then verifyChain (both
 * passes: every link, every record against its latest entry, every live row covered), timed.
 *
 * Beside it, in the same run and interleaved (R rounds, default 2), a floor: bare better-sqlite3
 * reading the same rows and hashing what any verify must hash (each change row's link input, each
 * live record's canonical bytes), with no checks. Verify is printed as a % of it, so
 * a loaded machine's noise cancels out of the ratio. Wall and CPU seconds (process.cpuUsage) are
 * both printed: on a shared machine, CPU is the steadier of the two.
 *
 * `--kysely` adds a line per round: verify through the Kysely reader, the path SQLite took before
 * its raw reader (sqlite-chain-scan.ts), for a before/after in the same run.
 *
 * RSS is sampled during verify: it must stay flat (pages of rows and bitsets over ids, nothing per
 * record). Prints one table; records nothing anywhere. `--file PATH` keeps the store at PATH and
 * reuses it when it exists (its size is read from it; --actions and --events are then ignored).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import BetterSqlite3 from 'better-sqlite3'
import type { Kysely } from 'kysely'
import {
  ACTION_DIGEST_COLUMNS,
  EVENT_DIGEST_COLUMNS,
} from '../src/security/chain/canonical-record.js'
import { GENESIS_LINK } from '../src/security/chain/chain-link.js'
import { sha256 } from '../src/security/chain/sha256.js'
import type { Timestamp } from '../src/domain/timestamp.js'
import type { ImportedAction } from '../src/store/action-store.js'
import { kyselyChainReader } from '../src/store/chain/chain-reader.js'
import { verifyChain } from '../src/store/chain/verify-chain.js'
import { openDatabase, openStores } from '../src/store/open-store.js'

const { values } = parseArgs({
  options: {
    actions: { type: 'string', default: '100000' },
    events: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    kysely: { type: 'boolean', default: false },
    file: { type: 'string' },
  },
})
const INSTANCES = 1000
const BATCH = 1000
const ROUNDS = Math.max(1, Number(values.rounds))

const time = (s: number) => {
  // toISOString: YYYY-MM-DDTHH:MM:SS.mmmZ; canonical times have six fraction digits, no zone.
  const iso = new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString()
  return `${iso.slice(0, 19)}.000000` as Timestamp
}
const uuid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

/** Fills a fresh store at `file` through the import program (chain on). */
async function fill(file: string, actionCount: number, eventCount: number): Promise<void> {
  const stores = await openStores(file)
  try {
    await stores.actions.write([
      {
        op: 'import_instances',
        instances: Array.from({ length: INSTANCES }, (_, i) => ({
          uuid: uuid(i),
          name: `vm-${i}`,
          projectId: `p${i % 10}`,
          userId: 'u',
          createdAt: time(0),
          updatedAt: time(0),
          deletedAt: null,
        })),
      },
    ])
    for (let n = 0; n < actionCount;) {
      const actions: ImportedAction[] = []
      for (let k = 0; k < BATCH && n < actionCount; k++, n++) {
        const start = n * 10
        actions.push({
          instanceUuid: uuid(n % INSTANCES),
          action: 'reboot',
          requestId: `req-${n}`,
          userId: 'u',
          projectId: `p${n % 10}`,
          startTime: time(start),
          finishTime: time(start + 9),
          message: n % 50 === 0 ? 'Error' : null,
          createdAt: time(start),
          updatedAt: time(start + 9),
          events: Array.from({ length: eventCount }, (_, e) => ({
            event: `compute_step_${e}`,
            startTime: time(start + e),
            finishTime: time(start + e + 1),
            result: n % 50 === 0 && e === eventCount - 1 ? 'Error' : 'Success',
            traceback:
              n % 50 === 0 && e === eventCount - 1
                ? 'Traceback (most recent call last):\n  x'
                : null,
            host: `host-${n % 20}`,
            details: null,
            createdAt: time(start + e),
            updatedAt: time(start + e + 1),
          })),
        })
      }
      const [outcome] = await stores.actions.write([{ op: 'import_actions', actions }])
      if (!outcome?.ok) throw new Error('import failed')
    }
  } finally {
    await stores.close()
  }
}

/**
 * The floor: what any verify of this file must at least do, with bare better-sqlite3 and no
 * checks, in the cheapest way found: every change row's link input read as one string that
 * SQLite builds (`json_array`) and hashed after the previous link's 32 bytes (one buffer reused),
 * every live action and event read as its canonical JSON built by SQLite and hashed. Returns the
 * number of records hashed.
 */
function floorScan(file: string): number {
  const native = new BetterSqlite3(file, { readonly: true })
  try {
    let input = Buffer.allocUnsafe(32 + 1024)
    let prev = GENESIS_LINK
    let sink = 0
    const changes = native
      .prepare(
        'SELECT link, json_array(position, kind, action_id, event_id, digest) FROM changes ' +
          'ORDER BY position',
      )
      .raw(true)
    for (const [link, json] of changes.iterate() as Iterable<[string, string]>) {
      const size = 32 + Buffer.byteLength(json)
      if (size > input.length) input = Buffer.allocUnsafe(2 * size)
      input.write(prev, 0, 32, 'hex')
      input.write(json, 32, 'utf8')
      sink += sha256(input.subarray(0, size)).charCodeAt(0)
      prev = link
    }
    let records = 0
    for (const sqlText of [
      `SELECT json_array('action', ${ACTION_DIGEST_COLUMNS.join(', ')}) FROM instance_actions`,
      `SELECT json_array('event', ${EVENT_DIGEST_COLUMNS.join(', ')}) FROM instance_actions_events`,
    ]) {
      for (const json of native.prepare(sqlText).pluck().iterate() as Iterable<string>) {
        sink += sha256(json).charCodeAt(0)
        records += 1
      }
    }
    if (sink < 0) console.log(sink)
    return records
  } finally {
    native.close()
  }
}

interface Timing {
  wall: number
  cpu: number
  rssGrowthMb: number
}

/** Runs `work`, timing wall and CPU seconds and sampling RSS. */
async function timed<T>(work: () => Promise<T> | T): Promise<{ value: T; timing: Timing }> {
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const value = await work()
  const wall = (performance.now() - t0) / 1000
  const used = process.cpuUsage(cpu0)
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  const cpu = (used.user + used.system) / 1e6
  return { value, timing: { wall, cpu, rssGrowthMb: (peak - rss0) / 2 ** 20 } }
}

const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-verify-'))
const file = values.file ?? join(dir, 'verify.sqlite')
// Reusing an existing store skips the fill entirely. (It used to open the stores, close them, and
// then run the fill loop on the closed stores: closing the last connection removes the -wal file,
// so the write executor's file check failed with "-wal file was deleted".)
const reuse = values.file !== undefined && existsSync(values.file)
try {
  let filled: string
  if (reuse) filled = 'reused'
  else {
    const t0 = performance.now()
    await fill(file, Number(values.actions), Number(values.events))
    filled = `filled in ${((performance.now() - t0) / 1000).toFixed(1)} s through the import program (chain on)`
  }
  const size = new BetterSqlite3(file, { readonly: true })
  const actionCount = Number(size.prepare('SELECT count(*) FROM instance_actions').pluck().get())
  const eventCount = Number(
    size.prepare('SELECT count(*) FROM instance_actions_events').pluck().get(),
  )
  size.close()

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  const loads: number[] = []
  const lines: string[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    loads.push(loadavg()[0]!)
    const floor = await timed(() => floorScan(file))
    const { db, chainReader } = openDatabase(file)
    const reader = chainReader?.()
    const verify = await timed(() =>
      verifyChain(db as unknown as Kysely<unknown>, reader ? { reader } : {}),
    )
    await db.destroy()
    const report = verify.value
    if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.problems.slice(0, 3))}`)
    const line = (name: string, records: number, entries: number, t: Timing, pct: string) =>
      `| ${round} | ${name} | ${fmt(records)} | ${fmt(entries)} | ${t.wall.toFixed(2)} | ` +
      `${t.cpu.toFixed(2)} | ${fmt(records / t.wall)} | ${fmt(records / t.cpu)} | ` +
      `${fmt((records + entries) / t.wall)} | ${pct} | ${t.rssGrowthMb.toFixed(1)} |`
    lines.push(
      line(
        'floor (bare better-sqlite3 + SHA-256)',
        floor.value,
        report.entries,
        floor.timing,
        '100 %',
      ),
    )
    const pct = (t: Timing) => `${(100 * (floor.timing.cpu / t.cpu)).toFixed(0)} %`
    lines.push(
      line('verifyChain', report.records, report.entries, verify.timing, pct(verify.timing)),
    )
    if (values.kysely) {
      // The path every backend had before SQLite's own reader: Kysely's row objects.
      const opened = openDatabase(file).db as unknown as Kysely<unknown>
      const before = await timed(() => verifyChain(opened, { reader: kyselyChainReader(opened) }))
      await opened.destroy()
      if (!before.value.ok) throw new Error('verify (Kysely reader) failed')
      const r = before.value
      lines.push(
        line(
          'verifyChain, Kysely reader (before)',
          r.records,
          r.entries,
          before.timing,
          pct(before.timing),
        ),
      )
    }
  }
  loads.push(loadavg()[0]!)

  console.log(
    `\nActionTrail verify benchmark — ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
      `load ${loads.map((l) => l.toFixed(2)).join(' / ')}`,
  )
  console.log(
    `store: SQLite file, ${fmt(actionCount)} actions, ${fmt(eventCount)} events (${filled})\n`,
  )
  console.log(
    '| round | line | records | chain entries | wall s | CPU s | records/s (wall) | records/s (CPU) | ' +
      'records + entries/s (wall) | % of floor (CPU) | RSS growth MB |',
  )
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const l of lines) console.log(l)
  console.log(
    `\nrecords: live records checked against their latest entry (the floor: live rows hashed); ` +
      `target (issue 13): ≥ 200,000 records/s on SQLite`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
