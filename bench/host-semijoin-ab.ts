/**
 * `npx tsx bench/host-semijoin-ab.ts --db mysql://root@127.0.0.1:3306/DB [--host compute-7]
 * [--runs 200] [--rounds 2] [--depth 2500]`
 *
 * Session 11: the actions search's `host` filter on MariaDB, the statement before (EXISTS, which
 * MariaDB runs as a semi-join that materializes the host's events) and after (the store's scalar
 * subquery, run per action), on a database kept by `bench:scale --backend mysql --keep`. Both
 * statements are sent as compiled by the store (plugins applied) on one pool, interleaved: a
 * round is `runs` of each query line before, then after; rounds alternate which goes first. Prints
 * p50/p99 wall ms per round, then ANALYZE FORMAT=JSON's rows read per table.
 */
import { loadavg as osLoad } from 'node:os'
import { parseArgs } from 'node:util'
import { CompiledQuery } from 'kysely'
import type { ActionSearch } from '../src/store/action-store.js'
import { searchActionsQuery } from '../src/store/action-search-query.js'
import { openDatabase } from '../src/store/open-store.js'
import { percentile } from './load.js'

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    host: { type: 'string', default: 'compute-7' },
    runs: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    depth: { type: 'string', default: '2500' },
    limit: { type: 'string', default: '50' },
  },
})
if (!values.db) throw new Error('--db mysql://… is required')
const runs = Number(values.runs)
const limit = Number(values.limit) + 1
const opened = openDatabase(values.db)
const db = opened.db

/** The statement before session 11: the EXISTS, from the store's compiled scalar subquery. */
function before(q: CompiledQuery): CompiledQuery {
  const old = q.sql.replace(
    /\(select 1 as `one` (from .*?) limit \?\) is not null/,
    'exists (select 1 as `one` $1)',
  )
  if (old === q.sql) throw new Error(`not the scalar subquery: ${q.sql}`)
  // The subquery's `limit ?` is the parameter after the host.
  const i = q.parameters.indexOf(values.host)
  return CompiledQuery.raw(old, [...q.parameters.slice(0, i + 1), ...q.parameters.slice(i + 2)])
}

const search: ActionSearch = { host: values.host, limit }
const deepRows = await db.executeQuery<{ start_time: string; id: number }>(
  searchActionsQuery(db, { ...search, limit: Number(values.depth) }).compile(),
)
const last = deepRows.rows.at(-1)
if (!last) throw new Error('no action on that host')
const startTime = String(last.start_time).replace(' ', 'T')
const lines: [string, CompiledQuery][] = [
  ['page 1', searchActionsQuery(db, search).compile()],
  [
    `page after ${values.depth} matches`,
    searchActionsQuery(db, {
      ...search,
      after: { startTime, id: Number(last.id) } as ActionSearch['after'],
    }).compile(),
  ],
]

async function time(q: CompiledQuery): Promise<number> {
  const t0 = process.hrtime.bigint()
  await db.executeQuery(q)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function measure(q: CompiledQuery): Promise<string> {
  for (let i = 0; i < 10; i++) await time(q)
  const ms: number[] = []
  for (let i = 0; i < runs; i++) ms.push(await time(q))
  ms.sort((a, b) => a - b)
  return `${percentile(ms, 50).toFixed(2)} / ${percentile(ms, 99).toFixed(2)}`
}

console.log(`host ${values.host}, ${runs} runs a line, load at start ${loadavg()}`)
console.log('| round | line | before p50 / p99 ms | after p50 / p99 ms | load |')
console.log('| ---: | --- | ---: | ---: | --- |')
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const [label, q] of lines) {
    const cells: Record<string, string> = {}
    const order = round % 2 === 1 ? ['before', 'after'] : ['after', 'before']
    for (const which of order) cells[which] = await measure(which === 'before' ? before(q) : q)
    console.log(`| ${round} | ${label} | ${cells.before} | ${cells.after} | ${loadavg()} |`)
  }
}

interface PlanNode {
  [key: string]: unknown
}
function tables(node: unknown, out: string[]): string[] {
  if (Array.isArray(node)) for (const n of node) tables(n, out)
  else if (node !== null && typeof node === 'object') {
    const n = node as PlanNode
    if (typeof n.table_name === 'string')
      out.push(
        `${n.table_name} ${String(n.access_type)} ${String(n.key)}: ${String(n.r_loops)} loops × ` +
          `${Number(n.r_rows).toFixed(2)} rows`,
      )
    for (const v of Object.values(n)) tables(v, out)
  }
  return out
}
for (const [label, q] of lines)
  for (const [which, stmt] of [
    ['before', before(q)],
    ['after', q],
  ] as const) {
    const { rows } = await db.executeQuery<Record<string, string>>(
      CompiledQuery.raw(`ANALYZE FORMAT=JSON ${stmt.sql}`, [...stmt.parameters]),
    )
    const plan = JSON.parse(Object.values(rows[0] ?? {})[0] ?? '{}') as PlanNode
    const block = plan.query_block as PlanNode
    console.log(
      `${label}, ${which}: ${Number(block.r_total_time_ms).toFixed(1)} ms; ` +
        tables(plan, []).join('; '),
    )
  }
await db.destroy()

function loadavg(): string {
  return osLoad()
    .map((l) => l.toFixed(2))
    .join(' ')
}
