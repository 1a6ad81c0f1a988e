/**
 * `npm run bench:archive` (issue 13): archiving a large history while writes continue. A history
 * of ACTIONTRAIL_BENCH_ARCHIVE_ACTIONS actions (default 20,000; 1000000 for the figure)
 * with ACTIONTRAIL_BENCH_ARCHIVE_EVENTS events each (default 2) on deleted instances is loaded
 * with the bulk import program; then WRITERS concurrent writers start actions on a live instance,
 * one write at a time each, through interleaved phases of ACTIONTRAIL_BENCH_ARCHIVE_PHASE_S
 * seconds (default 8; _ALONE_S for the phases of writes alone): writes alone, then writes while
 * an archive runs with one configuration, writes alone again, the next configuration, … for
 * ACTIONTRAIL_BENCH_ARCHIVE_ROUNDS rounds (default 2) or until the history is archived. The
 * archive runs in the same process (the server's retention job runs there too) and is stopped
 * between batches at each phase's end.
 * Interleaving puts the floor (writes alone) and each configuration under the same outside load:
 * the machine these run on is shared.
 *
 * Configurations (ACTIONTRAIL_BENCH_ARCHIVE_CONFIGS, `;`-separated, default
 * `server;count=25,pause=100`): `server` is what `serve --keep-days` uses with no other setting
 * (retention/retention-policy.ts); otherwise `ms=` (time budget of a batch), `count=` (batch size,
 * or the cap with ms), `pause=` (ms between batches), `rest=` (pause at least this many times the
 * batch's duration). Prints per phase kind the write latency (p50, p99, max), the archive's
 * rate and the process's CPU time, and the load average.
 *
 * The store is a temporary SQLite file unless ACTIONTRAIL_BENCH_DB names a database (a postgres://
 * or mysql:// URL of an empty database). Target: write p99 under 20 ms during the archive.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Timestamp } from '../src/domain/timestamp.js'
import { resolveRetentionPolicy, RETENTION_REST_FACTOR } from '../src/retention/retention-policy.js'
import type { ImportedAction, ImportedInstance } from '../src/store/action-store.js'
import { openStores, type Stores } from '../src/store/open-store.js'
import type { RetentionRunOptions } from '../src/store/retention-store.js'

const ACTIONS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_ACTIONS ?? 20_000)
const EVENTS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_EVENTS ?? 2)
const PHASE_MS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_PHASE_S ?? 8) * 1000
const ALONE_MS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_ALONE_S ?? PHASE_MS / 1000) * 1000
const ROUNDS = Number(process.env.ACTIONTRAIL_BENCH_ARCHIVE_ROUNDS ?? 2)
const CONFIGS = (process.env.ACTIONTRAIL_BENCH_ARCHIVE_CONFIGS ?? 'server;count=25,pause=100')
  .split(';')
  .map((c) => c.trim())
  .filter((c) => c !== '')
const WRITERS = 4
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

/** A configuration's run options, from `server` or `ms=5,count=1000,pause=0`. */
function configOptions(
  text: string,
): Pick<RetentionRunOptions, 'batchActions' | 'batchMs' | 'pauseMs' | 'restFactor'> {
  if (text === 'server') {
    const p = resolveRetentionPolicy({ keepDays: '1' }, {})
    if (!p) throw new Error('no policy')
    return {
      batchActions: p.batchActions,
      pauseMs: p.pauseMs,
      batchMs: p.batchMs,
      restFactor: RETENTION_REST_FACTOR,
    }
  }
  const out: Pick<RetentionRunOptions, 'batchActions' | 'batchMs' | 'pauseMs' | 'restFactor'> = {
    pauseMs: 0,
  }
  for (const part of text.split(',')) {
    const [key, value] = part.split('=')
    const n = Number(value)
    if (key === 'ms') out.batchMs = n
    else if (key === 'count') out.batchActions = n
    else if (key === 'pause') out.pauseMs = n
    else if (key === 'rest') out.restFactor = n
    else throw new Error(`unknown configuration term ${JSON.stringify(part)}`)
  }
  return out
}

/** What one kind of phase (alone, or one configuration) added up to. */
interface Tally {
  latencies: number[]
  seconds: number
  cpuSeconds: number
  actions: number
  events: number
}

const tally = (): Tally => ({ latencies: [], seconds: 0, cpuSeconds: 0, actions: 0, events: 0 })

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

function row(name: string, t: Tally): string {
  const s = [...t.latencies].sort((a, b) => a - b)
  const f = (n: number) => n.toFixed(1)
  const rate = t.actions > 0 ? Math.round(t.actions / t.seconds).toLocaleString('en') : '—'
  return (
    `| ${name} | ${s.length.toLocaleString('en')} | ${f(quantile(s, 0.5))} / ${f(quantile(s, 0.99))} / ` +
    `${f(s.at(-1) ?? NaN)} | ${t.actions.toLocaleString('en')} | ${rate} | ` +
    `${t.seconds.toFixed(1)} | ${t.cpuSeconds.toFixed(1)} |`
  )
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
        `(${database.includes('://') ? 'server' : 'SQLite file'}); load average ${loadavg()}`,
    )
    const alone = tally()
    const during = new Map(CONFIGS.map((c) => [c, tally()]))
    let left = ACTIONS
    let phase = 0
    const timed = async (t: Tally, work: (until: number) => Promise<void>) => {
      const c0 = process.cpuUsage()
      const w0 = performance.now()
      await work(w0 + (t === alone ? ALONE_MS : PHASE_MS))
      const cpu = process.cpuUsage(c0)
      t.seconds += (performance.now() - w0) / 1000
      t.cpuSeconds += (cpu.user + cpu.system) / 1e6
    }
    for (let round = 0; round < ROUNDS && left > 0; round++) {
      for (const config of CONFIGS) {
        if (left <= 0) break
        await timed(alone, async (until) => {
          alone.latencies.push(
            ...(await writeWhile(stores, () => performance.now() > until, `a${phase++}`)),
          )
        })
        const t = during.get(config) as Tally
        await timed(t, async (until) => {
          const stop = new AbortController()
          let archiving = true
          const archive = stores.retention
            .archive({ before: ts(2 * 86_400_000), signal: stop.signal, ...configOptions(config) })
            .finally(() => (archiving = false))
          const timer = setTimeout(() => stop.abort(), Math.max(0, until - performance.now()))
          t.latencies.push(...(await writeWhile(stores, () => !archiving, `d${phase++}`)))
          clearTimeout(timer)
          const moved = await archive
          t.actions += moved.actions
          t.events += moved.events
          left -= moved.actions
        })
      }
    }
    console.log(
      `\n${WRITERS} writers, one action_start each at a time; phases of ${PHASE_MS / 1000} s, ` +
        `${ROUNDS} round(s); load average at the end ${loadavg()}\n`,
    )
    console.log(
      '| phase | writes | p50 / p99 / max ms | actions archived | actions/s | phase s | CPU s |',
    )
    console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: |')
    console.log(row('writes alone', alone))
    for (const [config, t] of during)
      console.log(row(`during archive, ${config} ${JSON.stringify(configOptions(config))}`, t))
    console.log(
      `\n${(ACTIONS - left).toLocaleString('en')} of ${ACTIONS.toLocaleString('en')} actions archived`,
    )
  } finally {
    await stores.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
