/**
 * `npm run bench:nova-import -- [--actions N] [--events E] [--batch B] [--instances I]
 *   [--cell PATH] [--online | --offline]`
 *
 * The bulk import from a Nova cell database (issue 12): a Nova SQLite cell whose schema is built
 * by Nova's own migrations (scripts/nova-cell-db.py, needs python3-nova), filled with N actions
 * (default 1,000,000) of E events each (default 5) over I instances by INSERT … SELECT from a
 * counter (2% of the actions failed, with a 1 KB traceback holding a password for the
 * sanitizer), then imported with `importNovaCells`, the code behind `actiontrail import
 * --from-nova-db`, twice, each time into a fresh SQLite ActionTrail file: online (as into a store
 * being served) and offline (`--offline`: store/open-offline-store.ts, the search indexes dropped
 * for the load and rebuilt at the end, its two parts reported). `--online` or `--offline` runs
 * only that one. Each run checks its counts of rows, change positions and indexes.
 *
 * The floor, measured in the same run on the same cell and batches: reading the source alone
 * (the keyset walk with its events and instances, and the mapping to import records, sanitizing
 * included), i.e. the import without writing. Reported: seconds and actions/s of each, and each
 * import's RSS every second (it must stay flat: one batch in memory at a time). `--cell PATH`
 * keeps the cell at PATH and reuses it when it exists. `--ceiling-without-chain` also measures
 * the ceiling as it was before session 16, its change rows without the chain's digest and link.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { memoryCheckpoint } from '../src/nova/db-import/import-checkpoint.js'
import { importNovaCells } from '../src/nova/db-import/nova-db-import.js'
import { toImportedActions } from '../src/nova/db-import/nova-records.js'
import { lastId } from '../src/nova/db-import/nova-rows.js'
import { openNovaCell } from '../src/nova/db-import/open-cell.js'
import { openOfflineStore } from '../src/store/open-offline-store.js'
import { openDatabase, openStore } from '../src/store/open-store.js'
import { verifyChain } from '../src/store/chain/verify-chain.js'
import type { Kysely } from 'kysely'
import { CHANGE_COLUMNS } from '../src/store/write/change-feed.js'
import {
  IMPORTED_ACTION_COLUMNS,
  IMPORTED_EVENT_COLUMNS,
} from '../src/store/write/import-program.js'
import { buildNovaSchema } from '../test/helpers/nova-cell.js'

const { values } = parseArgs({
  options: {
    actions: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '5' },
    batch: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '10000' },
    cell: { type: 'string' },
    // Only the one import (the floor is always measured).
    offline: { type: 'boolean', default: false },
    online: { type: 'boolean', default: false },
    ceiling: { type: 'boolean', default: true },
    // The ceiling as measured before session 16 too: change rows without the chain's columns.
    'ceiling-without-chain': { type: 'boolean', default: false },
  },
})
const N = Number(values.actions)
const E = Number(values.events)
const BATCH = Number(values.batch)
const INSTANCES = Number(values.instances)

const dir = mkdtempSync(join(tmpdir(), 'bench-nova-import-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
// --cell PATH keeps the cell there and reuses it on the next run (same --actions and --events).
const cellPath = values.cell ?? join(dir, 'nova_cell1.sqlite')
const reuse = values.cell !== undefined && existsSync(values.cell)
const mb = (bytes: number) => Math.round(bytes / 1048576)

function seconds(from: number): number {
  return (performance.now() - from) / 1000
}

function cpuSeconds(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1e6
}

// 1. The cell: Nova's schema, then rows.
let t0 = performance.now()
if (!reuse) buildNovaSchema(`sqlite:///${cellPath}`)
const schemaS = seconds(t0)
t0 = performance.now()
if (!reuse) {
  const db = new Database(cellPath)
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  const TB =
    'Traceback (most recent call last):\n' +
    '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 1, in f\n'.repeat(10) +
    'ValueError: connect mysql://nova:s3cret@db/nova password=hunter2\n'
  const t = (expr: string) =>
    `strftime('%Y-%m-%d %H:%M:%S', 1700000000 + ${expr}, 'unixepoch') || '.000000'`
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO instances (id, uuid, display_name, project_id, user_id, created_at, updated_at,
         deleted_at, deleted)
       SELECT i, printf('00000000-0000-4000-8000-%012d', i), 'vm-' || i, 'project-' || (i % 100),
         'user', ${t('0')}, ${t('0')}, CASE WHEN i % 10 = 0 THEN ${t('1')} END,
         CASE WHEN i % 10 = 0 THEN i ELSE 0 END FROM n`,
    ).run(BigInt(INSTANCES))
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO instance_actions (id, action, instance_uuid, request_id, user_id, project_id,
         start_time, finish_time, message, created_at, updated_at, deleted)
       SELECT i, 'reboot', printf('00000000-0000-4000-8000-%012d', 1 + i % ?),
         printf('req-00000000-0000-4000-8000-%012d', i), 'user', 'project-' || (i % 100),
         ${t('i')}, NULL, CASE WHEN i % 50 = 0 THEN 'Error' END, ${t('i')}, ${t('i + 5')}, 0 FROM n`,
    ).run(BigInt(N), BigInt(INSTANCES))
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @total - 1)
       INSERT INTO instance_actions_events (id, action_id, event, start_time, finish_time, result,
         traceback, host, details, created_at, updated_at, deleted)
       SELECT i + 1, 1 + i / @e, 'compute_step_' || (i % @e), ${t('i / @e')}, ${t('i / @e + 1')},
         CASE WHEN (1 + i / @e) % 50 = 0 AND i % @e = @e - 1 THEN 'Error' ELSE 'Success' END,
         CASE WHEN (1 + i / @e) % 50 = 0 AND i % @e = @e - 1 THEN @tb END,
         'compute-' || (i % 20),
         CASE WHEN (1 + i / @e) % 50 = 0 AND i % @e = @e - 1 THEN 'ValueError: password=hunter2' END,
         ${t('i / @e')}, ${t('i / @e + 1')}, 0 FROM n`,
    ).run({ total: BigInt(N * E), e: BigInt(E), tb: TB })
  })()
  db.close()
}
const fillS = seconds(t0)

// 2. The floor: reading the cell in the same batches, mapped and sanitized, nothing written.
t0 = performance.now()
const floorCpu0 = process.cpuUsage()
{
  const source = await openNovaCell(`sqlite:${cellPath}`)
  let after = 0
  let read = 0
  for (;;) {
    const batch = await source.actions(after, BATCH)
    if (batch.actions.length === 0) break
    read += toImportedActions(batch.actions, batch.events).actions.length
    after = lastId(batch.actions)
  }
  await source.close()
  if (read !== N) throw new Error(`floor read ${read} actions, not ${N}`)
}
const floorS = seconds(t0)
const floorCpu = cpuSeconds(floorCpu0)

// 3. The imports, each into a fresh SQLite ActionTrail: online (as into a served store), then
// offline (store/open-offline-store.ts: search indexes dropped for the load, rebuilt after).
interface ImportRun {
  label: string
  seconds: number
  /** This process's CPU time (user + system): steadier than the wall clock on a loaded machine. */
  cpu: number
  /** Offline: the load and the index rebuild, of `seconds`. */
  parts?: { load: number; rebuild: number }
  rss: number[]
  rows: string
}

async function timedImport(offline: boolean): Promise<ImportRun> {
  const file = join(dir, offline ? 'trail-offline.db' : 'trail-online.db')
  const rss: number[] = []
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000)
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const opened = offline ? await openOfflineStore(file) : undefined
  const store = opened?.store ?? (await openStore(file))
  const source = await openNovaCell(`sqlite:${cellPath}`)
  const summary = await importNovaCells({
    store,
    ...(opened ? { importer: opened.importer } : {}),
    cells: [source],
    checkpoint: memoryCheckpoint(),
    batchSize: BATCH,
  })
  const load = seconds(started)
  await opened?.finish()
  const total = seconds(started)
  const cpu = cpuSeconds(cpu0)
  clearInterval(sampler)
  await source.close()
  await store.close()
  if (summary.actions.created !== N)
    throw new Error(`imported ${summary.actions.created}, not ${N}`)
  // What both must have written alike: rows, change positions, indexes.
  const db = new Database(file, { readonly: true })
  const count = (sql: string) => (db.prepare(sql).pluck().get() as number).toLocaleString('en')
  const rows =
    `${count('SELECT count(*) FROM instance_actions')} actions, ` +
    `${count('SELECT count(*) FROM instance_actions_events')} events, ` +
    `${count('SELECT max(position) FROM changes')} change positions, ` +
    `${count("SELECT count(*) FROM sqlite_master WHERE type = 'index'")} indexes`
  db.close()
  // The hash chain the import wrote (planned ahead by the reader thread for an SQLite cell)
  // verifies: the check `actiontrail verify` makes, not timed.
  const chainStarted = performance.now()
  const opened2 = openDatabase(file)
  const chain = await verifyChain(opened2.db as unknown as Kysely<unknown>, {
    ...(opened2.chainReader ? { reader: opened2.chainReader() } : {}),
  })
  await opened2.db.destroy()
  if (!chain.ok)
    throw new Error(`the hash chain does not verify: ${JSON.stringify(chain.problems[0])}`)
  const verified =
    `; hash chain verified (${chain.entries.toLocaleString('en')} entries, ` +
    `${seconds(chainStarted).toFixed(0)} s, not timed)`
  rmSync(file, { force: true })
  return {
    label: offline
      ? 'offline import (--offline) into SQLite ActionTrail'
      : 'online import into SQLite ActionTrail',
    seconds: total,
    cpu,
    ...(offline ? { parts: { load, rebuild: total - load } } : {}),
    rss,
    rows: rows + verified,
  }
}

/**
 * The ceiling: SQLite writing the same volume itself, with no JavaScript between the cell and the
 * store: the store migrated, every secondary index of actions and events dropped, the cell
 * attached, its instances, actions, events (with the parent copies of migration 0008) and one
 * change row per action and per event copied by `INSERT … SELECT`, then the indexes built again
 * from their definitions; each change row with a digest and a link of the chain's size, but
 * constant. No mapping, no sanitizing, no hashing, times copied as they are: a bound on what any
 * import into this schema on this machine can reach, measured in the same run.
 */
async function sqliteAlone(chainColumns = true): Promise<ImportRun> {
  const file = join(dir, 'trail-ceiling.db')
  const rss: number[] = []
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 1000)
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  await (await openStore(file)).close()
  const db = new Database(file)
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -262144')
  const indexes = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL " +
        "AND tbl_name IN ('instance_actions', 'instance_actions_events')",
    )
    .all() as { name: string; sql: string }[]
  for (const ix of indexes) db.exec(`DROP INDEX "${ix.name}"`)
  db.prepare('ATTACH DATABASE ? AS cell').run(cellPath)
  const tag = "'w:0000000000000000'"
  // The chain's digest and link take as many bytes as the import's (64 hex digits each), computed
  // by nobody: a store's change rows carry them, so the volume written is the same.
  const hex = `'${'ab'.repeat(32)}'`
  const chain = chainColumns ? ', digest, link' : ''
  const chainValues = chainColumns ? `, ${hex}, ${hex}` : ''
  db.transaction(() => {
    db.exec(
      'INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at, deleted_at) ' +
        'SELECT uuid, display_name, project_id, user_id, created_at, updated_at, deleted_at ' +
        'FROM cell.instances',
    )
    db.exec(
      `INSERT INTO instance_actions (id, ${IMPORTED_ACTION_COLUMNS.join(', ')}) ` +
        'SELECT a.id, a.instance_uuid, a.action, a.request_id, a.user_id, a.project_id, ' +
        'a.start_time, a.finish_time, a.message, a.created_at, a.updated_at, i.project_id, ' +
        `${tag} FROM cell.instance_actions a JOIN cell.instances i ON i.uuid = a.instance_uuid ` +
        'ORDER BY a.id',
    )
    db.exec(
      `INSERT INTO instance_actions_events (id, ${IMPORTED_EVENT_COLUMNS.join(', ')}) ` +
        'SELECT e.id, e.action_id, e.event, e.start_time, e.finish_time, e.result, e.traceback, ' +
        'e.host, e.details, e.created_at, e.updated_at, a.instance_uuid, a.owner_project_id, ' +
        'a.action, a.project_id, a.user_id, coalesce(e.updated_at, e.start_time), ' +
        `${tag}, ${tag} FROM cell.instance_actions_events e ` +
        'JOIN main.instance_actions a ON a.id = e.action_id ORDER BY e.id',
    )
    db.exec(
      `INSERT INTO changes (${CHANGE_COLUMNS.join(', ')}${chain}) ` +
        "SELECT id, 'action', id, NULL, instance_uuid, owner_project_id, created_at" +
        `${chainValues} FROM main.instance_actions`,
    )
    const base = db.prepare('SELECT max(position) FROM changes').pluck().get() as number
    db.prepare(
      `INSERT INTO changes (${CHANGE_COLUMNS.join(', ')}${chain}) ` +
        "SELECT ? + id, 'event', action_id, id, instance_uuid, owner_project_id, created_at" +
        `${chainValues} FROM main.instance_actions_events`,
    ).run(base)
  })()
  const load = seconds(started)
  // Synchronous throughout: the sampler never gets a turn, so RSS is read here and at the end.
  rss.push(process.memoryUsage().rss)
  for (const ix of indexes) db.exec(ix.sql)
  rss.push(process.memoryUsage().rss)
  db.exec('DETACH DATABASE cell')
  db.close()
  const total = seconds(started)
  const cpu = cpuSeconds(cpu0)
  clearInterval(sampler)
  const check = new Database(file, { readonly: true })
  const count = (sql: string) => (check.prepare(sql).pluck().get() as number).toLocaleString('en')
  const rows =
    `${count('SELECT count(*) FROM instance_actions')} actions, ` +
    `${count('SELECT count(*) FROM instance_actions_events')} events, ` +
    `${count('SELECT count(*) FROM changes')} change rows, ` +
    `${count("SELECT count(*) FROM sqlite_master WHERE type = 'index'")} indexes`
  check.close()
  rmSync(file, { force: true })
  return {
    label:
      'ceiling: SQLite alone, INSERT … SELECT from the attached cell, indexes built after' +
      (chainColumns ? '' : ', change rows without the chain columns (before session 16)'),
    seconds: total,
    cpu,
    parts: { load, rebuild: total - load },
    rss,
    rows,
  }
}

const runs: ImportRun[] = []
if (!values.offline) runs.push(await timedImport(false))
if (!values.online) runs.push(await timedImport(true))
if (values.ceiling) runs.push(await sqliteAlone())
if (values['ceiling-without-chain']) runs.push(await sqliteAlone(false))

const rate = (s: number) => Math.round(N / s).toLocaleString('en')
console.log(
  `\nNova cell: ${N.toLocaleString('en')} actions × ${E} events, ${INSTANCES} instances; ` +
    `batch ${BATCH}; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)} at the end`,
)
console.log(
  `(schema by Nova's migrations ${schemaS.toFixed(1)} s, rows filled ${fillS.toFixed(1)} s)\n`,
)
console.log('| step | seconds | actions/s | CPU seconds | actions per CPU second |')
console.log('| --- | ---: | ---: | ---: | ---: |')
console.log(
  `| floor: read + map + sanitize, no write | ${floorS.toFixed(1)} | ${rate(floorS)} | ` +
    `${floorCpu.toFixed(1)} | ${rate(floorCpu)} |`,
)
for (const r of runs) {
  const parts = r.parts
    ? ` (load ${r.parts.load.toFixed(1)} s at ${rate(r.parts.load)}/s, index rebuild ${r.parts.rebuild.toFixed(1)} s)`
    : ''
  console.log(
    `| ${r.label}${parts} | ${r.seconds.toFixed(1)} | ${rate(r.seconds)} | ` +
      `${r.cpu.toFixed(1)} | ${rate(r.cpu)} |`,
  )
}
for (const r of runs) {
  const step = Math.max(1, Math.floor(r.rss.length / 10))
  const series = r.rss.filter((_, i) => i % step === 0).map(mb)
  console.log(
    `\n${r.label}: ${r.rows}\nRSS (MB, every ${step} s): ${series.join(' ')}; ` +
      `min ${mb(Math.min(...r.rss))}, max ${mb(Math.max(...r.rss))}`,
  )
}
