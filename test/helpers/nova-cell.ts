/**
 * Real Nova cell databases for the importer's tests and bench: the schema is built by Nova's own
 * migrations (scripts/nova-cell-db.py, Debian's python3-nova), the rows are then inserted with
 * plain INSERTs (fast: a million actions for the bench). Installs nothing: without python3-nova
 * the suites are skipped loudly, and with ACTIONTRAIL_REQUIRE_BACKENDS=1 (CI) they fail instead.
 * Building a schema takes about 20 s (Nova's migrations), so SQLite cells are copies of one
 * template per process.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import { ADMIN_URLS, REQUIRE_BACKENDS } from './backends.js'

const ROOT = new URL('../..', import.meta.url).pathname
const SCRIPT = join(ROOT, 'scripts', 'nova-cell-db.py')

/** Why Nova cell databases cannot be built here, or undefined when they can. */
export function novaProblem(): string | undefined {
  const found = spawnSync('/usr/bin/python3', ['-c', 'import nova.db.migration, pymysql'], {
    encoding: 'utf8',
  })
  if (found.status === 0) return undefined
  return 'python3-nova (with python3-pymysql) is not installed (apt-get install --no-install-recommends python3-nova)'
}

/** The `skip` option of a Nova suite (see keystone.ts's keystoneSkip). */
export function novaSkip(): string | false {
  const problem = novaProblem()
  if (!problem || REQUIRE_BACKENDS) return false
  console.error(`\n*** ${problem}: the Nova database suites are SKIPPED ***\n`)
  return problem
}

/** Runs Nova's migrations on an SQLAlchemy connection URL. */
export function buildNovaSchema(connection: string): void {
  const r = spawnSync('/usr/bin/python3', [SCRIPT, connection], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`nova-cell-db.py failed: ${r.stderr.slice(-2000)}`)
}

let template: string | undefined

/** A fresh, empty SQLite Nova cell (a copy of this process's template) in `dir`. */
export function novaSqliteCell(dir: string, name = 'nova_cell.sqlite'): string {
  if (!template) {
    const tdir = mkdtempSync(join(tmpdir(), 'nova-template-'))
    process.on('exit', () => rmSync(tdir, { recursive: true, force: true }))
    const path = join(tdir, 'cell.sqlite')
    buildNovaSchema(`sqlite:///${path}`)
    template = path
  }
  const path = join(dir, name)
  if (existsSync(path)) throw new Error(`${path} exists`)
  copyFileSync(template, path)
  return path
}

/** A fresh, empty Nova cell database on the local MariaDB, dropped after the test. */
export async function novaMysqlCell(t: TestContext): Promise<string> {
  const name = `at_nova_${process.pid}_${Math.floor(Math.random() * 1e9)}`
  const admin = await mysql.createConnection(ADMIN_URLS.mysql)
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`)
  t.after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    await admin.end()
  })
  const url = new URL(ADMIN_URLS.mysql)
  url.pathname = `/${name}`
  buildNovaSchema(url.toString().replace(/^mysql:/, 'mysql+pymysql:'))
  return url.toString()
}

/** A Nova `instances` row (the columns the importer reads; the others keep Nova's defaults). */
export interface NovaInstance {
  id: number
  uuid: string
  display_name: string
  project_id: string
  user_id: string
  created_at: string
  updated_at: string
  deleted_at: string | null
  deleted: number
}

/** A Nova `instance_actions` row. */
export interface NovaAction {
  id: number
  action: string
  instance_uuid: string
  request_id: string
  user_id: string
  project_id: string
  start_time: string
  finish_time: string | null
  message: string | null
  created_at: string
  updated_at: string | null
}

/** A Nova `instance_actions_events` row. */
export interface NovaEvent {
  id: number
  action_id: number
  event: string
  start_time: string
  finish_time: string | null
  result: string | null
  traceback: string | null
  host: string | null
  details: string | null
  created_at: string
  updated_at: string | null
}

/** Rows to put into a cell. */
export interface NovaRows {
  instances: NovaInstance[]
  actions: NovaAction[]
  events: NovaEvent[]
}

/** Runs one statement with `?` placeholders on a cell. */
export type NovaExec = (sql: string, params: unknown[]) => Promise<void>

/**
 * Inserts the rows in multi-row INSERTs of up to 200 rows. `deleted` is 0 for actions and events
 * (Nova never soft-deletes them: instance_destroy in nova/db/main/api.py); instances carry theirs.
 */
export async function insertNovaRows(exec: NovaExec, rows: NovaRows): Promise<void> {
  const put = async (table: string, list: readonly object[], constant: string) => {
    if (list.length === 0) return
    const columns = Object.keys(list[0]!)
    const extra = constant ? ', deleted' : ''
    const group = `(${columns.map(() => '?').join(', ')}${constant ? `, ${constant}` : ''})`
    for (let i = 0; i < list.length; i += 200) {
      const part = list.slice(i, i + 200) as Record<string, unknown>[]
      await exec(
        `INSERT INTO ${table} (${columns.join(', ')}${extra}) VALUES ` +
          new Array<string>(part.length).fill(group).join(', '),
        part.flatMap((r) => columns.map((c) => r[c])),
      )
    }
  }
  await put('instances', rows.instances, '')
  await put('instance_actions', rows.actions, '0')
  await put('instance_actions_events', rows.events, '0')
}

/** An exec on a writable SQLite cell (the test's own set-up; the importer opens it read-only). */
export function sqliteExec(path: string): { exec: NovaExec; close: () => void } {
  const db = new Database(path)
  const cache = new Map<string, Database.Statement>()
  return {
    exec: (sql, params) => {
      let stmt = cache.get(sql)
      if (!stmt) cache.set(sql, (stmt = db.prepare(sql)))
      stmt.run(params)
      return Promise.resolve()
    },
    close: () => db.close(),
  }
}

/** An exec on a MariaDB cell. */
export async function mysqlExec(
  url: string,
): Promise<{ exec: NovaExec; close: () => Promise<void> }> {
  const conn = await mysql.createConnection(url)
  return {
    exec: async (sql, params) => {
      await conn.query(sql, params)
    },
    close: () => conn.end(),
  }
}
