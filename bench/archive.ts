/**
 * `npm run bench:archive` (issue 13): archiving a large history while writes continue. A history
 * of ACTIONTRAIL_BENCH_ARCHIVE_ACTIONS actions (default 50,000; 1000000 for the figure)
 * with ACTIONTRAIL_BENCH_ARCHIVE_EVENTS events each (default 2) on deleted instances is loaded
 * with the bulk import program; then WRITERS concurrent writers start actions on a live instance,
 * one write at a time each, first for a few seconds alone, then for as long as an archive of the
 * whole history runs in the same process (the server's retention job runs there too). Prints the
 * write latency without and during the archive (p50, p99, max) and the archive's rate. The store
 * is a temporary SQLite file unless ACTIONTRAIL_BENCH_DB names a database (a postgres:// or
 * mysql:// URL of an empty database). Target: write p99 under 20 ms during the archive.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Timestamp } from '../src/domain/timestamp.js'
import type { ImportedAction, ImportedInstance } from '../src/store/action-store.js'
import { openStores, type Stores } from '../src/store/open-store.js'

const ACTIONS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_ACTIONS ?? 50_000)
const EVENTS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_EVENTS ?? 2)
const BATCH = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_BATCH ?? 25)
const PAUSE_MS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_PAUSE_MS ?? 0)
const WRITERS = 4
const BASELINE_MS = 5000
const INSTANCES = 1000
const LIVE = 'ffffffff-0000-4000-8000-000000000000'

const uuid = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
const ts = (ms: number) =>
  new Date(Date.UTC(2026, 0, 1) + ms).toISOString().replace('Z', '000').slice(0, 26) as Timestamp

async function load(stores: Stores): Promise<void> {
  const instances: ImportedInstance[] = []
  for (let i = 0; i < INSTANCES; i++)
    instances.push({
      uuid: uuid(i),
      name: `vm-${i}`,
      projectId: 'p',
      userId: 'u',
      createdAt: ts(0),
      updatedAt: ts(0),
      deletedAt: ts(86_400_000),
    })
  await stores.actions.write([{ op: 'import_instances', instances }])
  await stores.actions.write([
    {
      op: 'instance_put',
      values: { uuid: LIVE, name: 'live', projectId: 'p', userId: 'u', now: ts(0) },
    },
  ])
  const chunk = 1000
  for (let start = 0; start < ACTIONS; start += chunk) {
    const actions: ImportedAction[] = []
    for (let n = start; n < Math.min(ACTIONS, start + chunk); n++) {
      const t = ts(n)
      actions.push({
        instanceUuid: uuid(n % INSTANCES),
        action: 'reboot',
        requestId: `req-${n}`,
        userId: 'u',
        projectId: 'p',
        startTime: t,
        finishTime: t,
        message: null,
        createdAt: t,
        updatedAt: t,
        events: Array.from({ length: EVENTS }, (_, e) => ({
          event: `compute_step_${e}`,
          startTime: t,
          finishTime: t,
          result: 'Success' as const,
          traceback: null,
          host: 'h1',
          details: null,
          createdAt: t,
          updatedAt: t,
        })),
      })
    }
    await stores.actions.write([{ op: 'import_actions', actions }])
  }
}

/** Writers starting actions on the live instance until `done()`; their latencies in ms. */
async function writeWhile(stores: Stores, done: () => boolean, tag: string): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (!done()) {
        const n = next++
        const t0 = performance.now()
        const [outcome] = await stores.actions.write([
          {
            op: 'action_start',
            values: {
              instanceUuid: LIVE,
              action: 'reboot',
              requestId: `${tag}-${n}`,
              userId: 'u',
              projectId: 'p',
              startTime: ts(200_000_000 + n),
              createdAt: ts(200_000_000 + n),
            },
          },
        ])
        latencies.push(performance.now() - t0)
        if (!outcome?.ok) throw new Error(`a write failed: ${JSON.stringify(outcome)}`)
      }
    }),
  )
  return latencies
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

function row(name: string, latencies: number[], extra: string): string {
  const s = [...latencies].sort((a, b) => a - b)
  const f = (n: number) => n.toFixed(1).padStart(8)
  const cells = [quantile(s, 0.5), quantile(s, 0.99), s.at(-1) ?? NaN].map(f).join(' ')
  return `${name.padEnd(22)} ${String(s.length).padStart(8)} ${cells}  ${extra}`
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-archive-'))
  const database = process.env.ACTIONTRAIL_BENCH_DB || join(dir, 'bench.db')
  const stores = await openStores(database)
  try {
    const t0 = performance.now()
    await load(stores)
    console.log(
      `loaded ${ACTIONS.toLocaleString('en')} actions × ${EVENTS} events on ${INSTANCES} deleted ` +
        `instances in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
        `(${database.includes('://') ? 'server' : 'SQLite file'})`,
    )
    const until = performance.now() + BASELINE_MS
    const alone = await writeWhile(stores, () => performance.now() > until, 'alone')
    let archiving = true
    const a0 = performance.now()
    const archive = stores.retention
      .archive({ before: ts(2 * 86_400_000), batchActions: BATCH, pauseMs: PAUSE_MS })
      .finally(() => (archiving = false))
    const during = await writeWhile(stores, () => !archiving, 'during')
    const moved = await archive
    const seconds = (performance.now() - a0) / 1000
    if (moved.actions !== ACTIONS) throw new Error(`archived ${moved.actions} of ${ACTIONS}`)
    console.log(
      `\n${WRITERS} writers, one action_start each at a time; ` +
        `archive batches of ${BATCH} actions, pause ${PAUSE_MS} ms\n`,
    )
    console.log(
      [
        'phase'.padEnd(22),
        ...['writes', 'p50 ms', 'p99 ms', 'max ms'].map((h) => h.padStart(8)),
      ].join(' '),
    )
    console.log(row('writes alone', alone, ''))
    console.log(
      row(
        'writes during archive',
        during,
        `archive: ${moved.actions.toLocaleString('en')} actions, ${moved.events.toLocaleString('en')} events in ` +
          `${seconds.toFixed(1)} s (${Math.round(moved.actions / seconds).toLocaleString('en')} actions/s)`,
      ),
    )
  } finally {
    await stores.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
