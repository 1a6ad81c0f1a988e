/**
 * `npm run bench:verify [-- --actions N --events E]`
 *
 * `actiontrail verify`'s speed on SQLite (issue 13 target: ≥ 200,000 records/s): a fresh store
 * filled with N actions (default 100,000) of E events each (default 5) through the bulk import
 * program (the same write path, chain included, as `actiontrail import`), then verifyChain (both
 * passes: every link, every record against its latest entry, every live row covered), timed. RSS
 * is sampled during verify: it must stay flat (pages of rows and bitsets over ids, nothing per
 * record). Prints one table; records nothing anywhere. `--file PATH` keeps the store at PATH and
 * reuses it when it exists (then N and E must match it).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { Kysely } from 'kysely'
import type { Timestamp } from '../src/domain/timestamp.js'
import type { ImportedAction } from '../src/store/action-store.js'
import { verifyChain } from '../src/store/chain/verify-chain.js'
import { openDatabase, openStores } from '../src/store/open-store.js'

const { values } = parseArgs({
  options: {
    actions: { type: 'string', default: '100000' },
    events: { type: 'string', default: '5' },
    file: { type: 'string' },
  },
})
const ACTIONS = Number(values.actions)
const EVENTS = Number(values.events)
const INSTANCES = 1000
const BATCH = 1000

const time = (s: number) => {
  // toISOString: YYYY-MM-DDTHH:MM:SS.mmmZ; canonical times have six fraction digits, no zone.
  const iso = new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString()
  return `${iso.slice(0, 19)}.000000` as Timestamp
}
const uuid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-verify-'))
const file = values.file ?? join(dir, 'verify.sqlite')
const reuse = values.file !== undefined && existsSync(values.file)
try {
  const stores = await openStores(file)
  if (reuse) await stores.close()
  const t0 = performance.now()
  if (!reuse)
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
  for (let n = 0; n < ACTIONS;) {
    const actions: ImportedAction[] = []
    for (let k = 0; k < BATCH && n < ACTIONS; k++, n++) {
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
        events: Array.from({ length: EVENTS }, (_, e) => ({
          event: `compute_step_${e}`,
          startTime: time(start + e),
          finishTime: time(start + e + 1),
          result: n % 50 === 0 && e === EVENTS - 1 ? 'Error' : 'Success',
          traceback:
            n % 50 === 0 && e === EVENTS - 1 ? 'Traceback (most recent call last):\n  x' : null,
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
  const filled = (performance.now() - t0) / 1000
  if (!reuse) await stores.close()

  const { db } = openDatabase(file)
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100)
  const t1 = performance.now()
  const report = await verifyChain(db as unknown as Kysely<unknown>)
  const seconds = (performance.now() - t1) / 1000
  clearInterval(sampler)
  await db.destroy()
  if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.problems.slice(0, 3))}`)

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  console.log(
    `\nActionTrail verify benchmark — ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
      `load ${loadavg()[0]!.toFixed(2)}`,
  )
  console.log(
    `store: SQLite file, ${fmt(ACTIONS)} actions × ${EVENTS} events, filled in ${filled.toFixed(1)} s ` +
      `through the import program (chain on)\n`,
  )
  console.log('| records | chain entries | seconds | records/s | entries/s | RSS growth MB |')
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |')
  console.log(
    `| ${fmt(report.records)} | ${fmt(report.entries)} | ${seconds.toFixed(2)} | ` +
      `${fmt(report.records / seconds)} | ${fmt(report.entries / seconds)} | ` +
      `${((peak - rss0) / 2 ** 20).toFixed(1)} |`,
  )
  console.log(`\ntarget (issue 13): ≥ 200,000 records/s on SQLite`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
