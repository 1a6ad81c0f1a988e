/**
 * `npm run bench:scale -- --backend galera [--actions N] [--inflight N] [--runs N]`
 *
 * The write path and the reads on a 3-node MariaDB Galera cluster, started here from Debian's
 * packages (test/helpers/galera-cluster.ts), next to the single MariaDB of
 * ACTIONTRAIL_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/mysql), in the same run:
 * - ingest: whole action lives (action start, event start + finish × events, action finish), one
 *   store.write per life as an API request makes it, `--inflight` at once (default 8), through one
 *   store (one API node) and through two stores (two API nodes; on Galera each writes through
 *   another node, as the node lists of docs/deployment.md do);
 * - reads: list (limit 50) of a hot instance and show (getAction + listEvents), one at a time,
 *   through the first store (on Galera with wsrep_sync_wait = 1, as the API runs them).
 * Target (issue 16): ingest on the cluster at least 50 % of the single node's.
 */
import type { InstanceAction } from '../src/domain/instance-action.js'
import type { ActionStore, StoreWrite } from '../src/store/action-store.js'
import { openStore } from '../src/store/open-store.js'
import { startGaleraCluster } from '../test/helpers/galera-cluster.js'
import { percentile } from './load.js'
import { actionOps, History, instanceOps, instanceUuid } from './scale-history.js'
import { createMysqlDatabase, dropMysqlDatabase, withDatabase } from './scale-native.js'

/** Options of the Galera comparison. */
export interface GaleraScaleOptions {
  actions: number
  events: number
  inflight: number
  runs: number
  warmup: number
  limit: number
  log: (text: string) => void
}

interface Ingest {
  opsPerSecond: number
  /** Latency of one life's store.write, sorted, ms. */
  latencies: number[]
}

interface Figures {
  one: Ingest
  two: Ingest
  list: number[]
  show: number[]
}

const now = () => process.hrtime.bigint()
const msSince = (t: bigint) => Number(now() - t) / 1e6

function checked(outcomes: Awaited<ReturnType<ActionStore['write']>>): void {
  const failed = outcomes.find((o) => !o.ok)
  if (failed && !failed.ok) throw new Error(`a write failed: ${failed.error.code}`)
}

/** Writes lives [from, to) through the stores in turn, `inflight` at once. */
async function ingest(
  stores: ActionStore[],
  history: History,
  from: number,
  to: number,
  inflight: number,
): Promise<Ingest> {
  let next = from
  let ops = 0
  const latencies: number[] = []
  const started = now()
  await Promise.all(
    Array.from({ length: inflight }, async (_, worker) => {
      for (let n = next++; n < to; n = next++) {
        const life: StoreWrite[] = actionOps(history.action(n))
        const t = now()
        checked(await stores[worker % stores.length]!.write(life))
        latencies.push(msSince(t))
        ops += life.length
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  return { opsPerSecond: ops / (msSince(started) / 1000), latencies }
}

async function timed(runs: number, warmup: number, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < warmup; i++) await fn(i)
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = now()
    await fn(warmup + i)
    out.push(msSince(t))
  }
  return out.sort((a, b) => a - b)
}

/** Ingest and reads on one database, through `databases[0]` and, for two writers, both. */
async function measure(
  databases: [string, string],
  o: GaleraScaleOptions,
  label: string,
): Promise<Figures> {
  const history = new History({
    actions: o.actions,
    eventsPerAction: o.events,
    instances: 100,
    hot: Math.max(1, Math.floor(o.actions / 10)),
  })
  const first = await openStore(databases[0])
  const second = await openStore(databases[1])
  try {
    checked(await first.write(instanceOps(history.shape)))
    const half = Math.floor(o.actions / 2)
    o.log(`${label}: ingest through one store`)
    const one = await ingest([first], history, 0, half, o.inflight)
    o.log(`${label}: ingest through two stores`)
    const two = await ingest([first, second], history, half, o.actions, o.inflight)
    const hot = instanceUuid(0)
    o.log(`${label}: reads`)
    const list = await timed(o.runs, o.warmup, () => first.listActions(hot, { limit: o.limit }))
    const show = await timed(o.runs, o.warmup, async (i) => {
      const a = history.action((i * 7919) % o.actions)
      const action = (await first.getAction(a.instanceUuid, a.requestId)) as InstanceAction
      return first.listEvents(action.id)
    })
    return { one, two, list, show }
  } finally {
    await first.close()
    await second.close()
  }
}

const f = (n: number) => Math.round(n).toLocaleString('en-US')
const p = (sorted: number[]) =>
  `${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`

/** Runs the comparison; resolves with its markdown report and whether the target was met. */
export async function galeraScale(o: GaleraScaleOptions): Promise<{ text: string; met: boolean }> {
  const admin = process.env.ACTIONTRAIL_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql'
  const name = `actiontrail_galera_bench_${process.pid}`
  await createMysqlDatabase(admin, name)
  let single: Figures
  try {
    const url = withDatabase(admin, name)
    single = await measure([url, url], o, 'single MariaDB')
  } finally {
    await dropMysqlDatabase(admin, name)
  }
  o.log('starting the 3-node Galera cluster')
  const cluster = await startGaleraCluster()
  let galera: Figures
  try {
    const hosts = cluster.ports.map((port) => `127.0.0.1:${port}`)
    const list = (order: number[]) =>
      `mysql://root@${order.map((i) => hosts[i]).join(',')}/actiontrail`
    galera = await measure([list([0, 1, 2]), list([1, 2, 0])], o, 'Galera')
  } finally {
    await cluster.stop()
  }
  const ratio = galera.one.opsPerSecond / single.one.opsPerSecond
  const ratioTwo = galera.two.opsPerSecond / single.two.opsPerSecond
  const rows = [
    '| | single MariaDB | 3-node Galera | Galera / single |',
    '| --- | ---: | ---: | ---: |',
    `| ingest, one API node: ops/s | ${f(single.one.opsPerSecond)} | ` +
      `${f(galera.one.opsPerSecond)} | ${(ratio * 100).toFixed(0)} % |`,
    `| — one life's write, p50 / p99 ms | ${p(single.one.latencies)} | ${p(galera.one.latencies)} | |`,
    `| ingest, two API nodes (Galera: through two nodes): ops/s | ` +
      `${f(single.two.opsPerSecond)} | ${f(galera.two.opsPerSecond)} | ` +
      `${(ratioTwo * 100).toFixed(0)} % |`,
    `| — one life's write, p50 / p99 ms | ${p(single.two.latencies)} | ${p(galera.two.latencies)} | |`,
    `| list, limit ${o.limit}, hot instance: p50 / p99 ms | ${p(single.list)} | ${p(galera.list)} | |`,
    `| show (getAction + listEvents): p50 / p99 ms | ${p(single.show)} | ${p(galera.show)} | |`,
  ]
  const met = ratio >= 0.5 && ratioTwo >= 0.5
  const text = [
    `- ${f(o.actions)} action lives of ${2 + 2 * o.events} writes (half through one store, half ` +
      `through two), one store.write per life, ${o.inflight} in flight; reads one at a time, ` +
      `${o.warmup} warm-up + ${o.runs} measured runs`,
    '',
    ...rows,
    '',
    `| target | measured | |`,
    `| --- | --- | --- |`,
    `| Galera ingest ≥ 50 % of the single node's | ${(ratio * 100).toFixed(0)} % (one node), ` +
      `${(ratioTwo * 100).toFixed(0)} % (two) | ${met ? 'met' : '**missed**'} |`,
  ].join('\n')
  return { text, met }
}
