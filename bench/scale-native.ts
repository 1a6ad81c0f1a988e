/**
 * Native-driver access for the scale benchmark (bench/scale.ts), one adapter per backend: creating
 * and dropping the benchmark database, the plain-SQL bulk loader, the database size, and the raw
 * floor — hand-written SQL on the bare driver (better-sqlite3 prepared statements, pg unnamed
 * statements, mysql2 server-side prepared statements) without Kysely or row mapping.
 * Statements are written with `?` placeholders; the PostgreSQL adapter numbers them.
 */
import { existsSync, statSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'

/** A result row. */
export type Row = Record<string, unknown>

/** One statement of a loader transaction. */
export interface Statement {
  sql: string
  params: readonly unknown[]
}

/** What the benchmark needs from a backend's native driver. */
export interface NativeDb {
  /** Server version, for the table header. */
  version: string
  /** Any statement (set-up, EXPLAIN, counts), on a pooled connection. */
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>
  /** The raw floor: the statement on one dedicated connection, prepared where that is safe. */
  floor(sql: string, params: readonly unknown[]): Promise<Row[]>
  /** Runs statements in one transaction (the SQL loader). */
  transaction(statements: readonly Statement[]): Promise<void>
  /** Placeholder list for a multi-row INSERT's column list (e.g. PostgreSQL needs OVERRIDING). */
  insertPrefix(table: string, columns: readonly string[]): string
  /** After the plain-SQL loader wrote explicit ids: move the id sequences past them. */
  resetSequences(): Promise<void>
  /** Brings planner statistics up to date, as the server's background maintenance would. */
  analyze(): Promise<void>
  /**
   * Waits until the load's dirty pages are written out (a checkpoint), so that the reads are not
   * measured against the server's own background writing.
   */
  settle(): Promise<void>
  /**
   * The plan of a statement as text: EXPLAIN QUERY PLAN on SQLite; EXPLAIN (ANALYZE, BUFFERS) on
   * PostgreSQL and ANALYZE on MariaDB (EXPLAIN on MySQL), inside a transaction that is rolled
   * back, so explaining a write changes nothing.
   */
  explain(sql: string, params: readonly unknown[]): Promise<string>
  /** Size on disk, human readable with its parts. */
  size(): Promise<{ bytes: number; detail: string }>
  /** The columns of a table, in order. */
  columns(table: string): Promise<string[]>
  /**
   * Drops the secondary indexes of `tables` that no constraint needs (primary keys, unique
   * constraints and the indexes of foreign keys stay) and returns the statements that rebuild
   * them: a bulk load into tables without them, then one sorted build per index, is many times
   * faster than inserting random-looking keys into a dozen B-trees.
   */
  dropSecondaryIndexes(tables: readonly string[]): Promise<string[]>
  close(): Promise<void>
}

const MiB = 1024 * 1024

/** Formats bytes as MiB. */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toLocaleString('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} MiB`
}

/** SQLite: a second connection to the store's file, with ActionTrail's pragmas. */
export function sqliteNative(file: string): NativeDb {
  const db = new BetterSqlite3(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  const statements = new Map<string, BetterSqlite3.Statement>()
  const prepared = (sql: string) => {
    let s = statements.get(sql)
    if (!s) {
      s = db.prepare(sql)
      statements.set(sql, s)
    }
    return s
  }
  const run = db.transaction((list: readonly Statement[]) => {
    for (const s of list) prepared(s.sql).run(...s.params)
  })
  return {
    version: `SQLite ${(db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v}`,
    query: (sql, params = []) => {
      const s = prepared(sql)
      return Promise.resolve(s.reader ? (s.all(...params) as Row[]) : (s.run(...params), []))
    },
    floor: (sql, params) => Promise.resolve(prepared(sql).all(...params) as Row[]),
    transaction: (list) => Promise.resolve(run.immediate(list)),
    insertPrefix: (table, columns) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES `,
    resetSequences: () => Promise.resolve(),
    explain: (sql, params) => {
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as {
        id: number
        parent: number
        detail: string
      }[]
      const depth = new Map<number, number>([[0, 0]])
      return Promise.resolve(
        rows
          .map((r) => {
            const d = (depth.get(r.parent) ?? 0) + 1
            depth.set(r.id, d)
            return `${'  '.repeat(d - 1)}${r.detail}`
          })
          .join('\n'),
      )
    },
    // ActionTrail never runs ANALYZE on SQLite, so neither does the benchmark: the planner
    // works from the schema alone, as in production.
    analyze: () => Promise.resolve(),
    settle: () => {
      db.pragma('wal_checkpoint(PASSIVE)')
      return Promise.resolve()
    },
    columns: (table) =>
      Promise.resolve(
        (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name),
      ),
    dropSecondaryIndexes: (tables) => {
      // Indexes of UNIQUE constraints have no SQL (sqlite_autoindex_…): they stay.
      const rows = db
        .prepare(
          `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ` +
            `AND tbl_name IN (${tables.map(() => '?').join(', ')})`,
        )
        .all(...tables) as { name: string; sql: string }[]
      for (const r of rows) db.exec(`DROP INDEX ${r.name}`)
      return Promise.resolve(rows.map((r) => r.sql))
    },
    size: () => {
      const main = statSync(file).size
      const wal = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0
      return Promise.resolve({ bytes: main + wal, detail: `file ${mib(main)} + WAL ${mib(wal)}` })
    },
    close: () => {
      db.close()
      return Promise.resolve()
    },
  }
}

function numbered(sql: string): string {
  let i = 0
  return sql.replace(/\?/g, () => `$${++i}`)
}

// Timestamps come back as the server's text: a JS Date would drop the microseconds that keyset
// markers compare on.
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 1114 || oid === 1184
      ? (v: string) => v
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
}

/** A URL naming database `name` on the server of `url`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** Creates database `name` on a PostgreSQL server. */
export async function createPgDatabase(adminUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`)
    await c.query(`CREATE DATABASE ${name}`)
  } finally {
    await c.end()
  }
}

/** Drops database `name` on a PostgreSQL server. */
export async function dropPgDatabase(adminUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  } finally {
    await c.end()
  }
}

/**
 * PostgreSQL: a pool for set-up and loading, one client for the floor. The floor sends unnamed
 * statements (planned for their parameters each time), as Kysely does: a named prepared statement
 * switches to a generic plan after five executions, and the generic plan, made for an average
 * instance of ~100 actions, sorts all 100k actions of the hot instance (measured: 106 ms for a
 * 1000-row page, against 4 ms with a custom plan).
 */
export async function pgNative(url: string, poolSize: number): Promise<NativeDb> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes })
  const client = new pg.Client({ connectionString: url, types: pgTypes })
  await client.connect()
  const version =
    (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
      ?.v ?? '?'
  return {
    version: `PostgreSQL ${version.split(' ')[0] ?? version}`,
    query: async (sql, params = []) => (await pool.query(numbered(sql), [...params])).rows as Row[],
    floor: async (sql, params) => (await client.query(numbered(sql), [...params])).rows as Row[],
    transaction: async (list) => {
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        for (const s of list) await c.query(numbered(s.sql), [...s.params])
        await c.query('COMMIT')
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined)
        throw err
      } finally {
        c.release()
      }
    },
    explain: async (sql, params) => {
      const c = await pool.connect()
      try {
        await c.query('BEGIN')
        const rows = (await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${numbered(sql)}`, [...params]))
          .rows as Row[]
        return rows.map((r) => String(r['QUERY PLAN'])).join('\n')
      } finally {
        await c.query('ROLLBACK').catch(() => undefined)
        c.release()
      }
    },
    // Explicit ids also work when the id is an identity column GENERATED ALWAYS.
    insertPrefix: (table, columns) =>
      `INSERT INTO ${table} (${columns.join(', ')}) OVERRIDING SYSTEM VALUE VALUES `,
    resetSequences: async () => {
      for (const table of ['instance_actions', 'instance_actions_events']) {
        await pool.query(
          `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT max(id) FROM ${table}))`,
        )
      }
    },
    // Autovacuum would do this shortly after a bulk load (insert-triggered vacuum, PG ≥ 13); the
    // visibility map it sets lets index-only scans skip the heap.
    analyze: async () => {
      await pool.query('VACUUM (ANALYZE)')
    },
    settle: async () => {
      await pool.query('CHECKPOINT')
    },
    dropSecondaryIndexes: async (tables) => {
      const rows = (
        await pool.query<{ name: string; def: string }>(
          `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_class t ON t.oid = x.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
            WHERE t.relname = ANY($1)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`,
          [[...tables]],
        )
      ).rows
      for (const r of rows) await pool.query(`DROP INDEX ${r.name}`)
      return rows.map((r) => r.def)
    },
    columns: async (table) =>
      (
        await pool.query<{ c: string }>(
          `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ` +
            `current_schema() AND table_name = $1 ORDER BY ordinal_position`,
          [table],
        )
      ).rows.map((r) => r.c),
    size: async () => {
      const rows = (
        await pool.query<{ db: string; t: string; i: string }>(
          `SELECT pg_database_size(current_database())::text AS db,
                sum(pg_table_size(c.oid))::text AS t, sum(pg_indexes_size(c.oid))::text AS i
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
        )
      ).rows[0]
      const db = Number(rows?.db ?? 0)
      return {
        bytes: db,
        detail: `pg_database_size; tables ${mib(Number(rows?.t ?? 0))} + indexes ${mib(Number(rows?.i ?? 0))}`,
      }
    },
    close: async () => {
      await client.end()
      await pool.end()
    },
  }
}

/** Rows as an aligned text table (MariaDB's ANALYZE / EXPLAIN output). */
function textTable(rows: readonly Row[]): string {
  const first = rows[0]
  if (!first) return '(no rows)'
  const columns = Object.keys(first)
  const cells = [
    columns,
    ...rows.map((r) =>
      columns.map((c) => (r[c] === null || r[c] === undefined ? 'NULL' : String(r[c]))),
    ),
  ]
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join(' | ')
        .trimEnd(),
    )
    .join('\n')
}

/** Creates database `name` on a MariaDB/MySQL server. */
export async function createMysqlDatabase(adminUrl: string, name: string): Promise<void> {
  const c = await mysql.createConnection({ uri: adminUrl })
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`)
    await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  } finally {
    await c.end()
  }
}

/** Drops database `name` on a MariaDB/MySQL server. */
export async function dropMysqlDatabase(adminUrl: string, name: string): Promise<void> {
  const c = await mysql.createConnection({ uri: adminUrl })
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`)
  } finally {
    await c.end()
  }
}

/** MariaDB/MySQL: a pool for set-up and loading, one connection for server-side prepared statements. */
export async function mysqlNative(url: string, poolSize: number): Promise<NativeDb> {
  const options = {
    uri: url,
    dateStrings: true as const,
    supportBigNumbers: true,
    bigNumberStrings: false,
  }
  const pool = mysql.createPool({ ...options, connectionLimit: poolSize })
  const conn = await mysql.createConnection(options)
  const [versionRows] = await conn.query('SELECT VERSION() AS v')
  const version = String((versionRows as Row[])[0]?.v ?? '?')
  return {
    version: /mariadb/i.test(version)
      ? `MariaDB ${version.split('-')[0] ?? version}`
      : `MySQL ${version}`,
    query: async (sql, params = []) => {
      const [rows] = await pool.query(sql, [...params])
      return Array.isArray(rows) ? (rows as Row[]) : []
    },
    floor: async (sql, params) => {
      const [rows] = await conn.execute(sql, [...params] as (string | number | null)[])
      return rows as Row[]
    },
    transaction: async (list) => {
      const c = await pool.getConnection()
      try {
        await c.beginTransaction()
        for (const s of list) await c.query(s.sql, [...s.params])
        await c.commit()
      } catch (err) {
        await c.rollback().catch(() => undefined)
        throw err
      } finally {
        c.release()
      }
    },
    insertPrefix: (table, columns) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES `,
    resetSequences: () => Promise.resolve(),
    explain: async (sql, params) => {
      const c = await pool.getConnection()
      try {
        await c.beginTransaction()
        // MariaDB's ANALYZE runs the statement and reports the rows each step really read.
        const [rows] = await c.query(`${/mariadb/i.test(version) ? 'ANALYZE' : 'EXPLAIN'} ${sql}`, [
          ...params,
        ])
        return textTable(rows as Row[])
      } finally {
        await c.rollback().catch(() => undefined)
        c.release()
      }
    },
    analyze: async () => {
      await pool.query('ANALYZE TABLE instances, instance_actions, instance_actions_events')
    },
    // InnoDB flushes dirty pages in the background after a load; wait (at most two minutes) until
    // fewer than 1 % of the buffer pool is dirty.
    settle: async () => {
      for (let i = 0; i < 120; i++) {
        const [rows] = await pool.query(
          'SHOW GLOBAL STATUS ' +
            "WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', " +
            "'Innodb_buffer_pool_pages_total')",
        )
        const status = new Map(
          (rows as Row[]).map((r) => [String(r.Variable_name), Number(r.Value)]),
        )
        if (
          (status.get('Innodb_buffer_pool_pages_dirty') ?? 0) <
          (status.get('Innodb_buffer_pool_pages_total') ?? 0) / 100
        )
          return
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    },
    dropSecondaryIndexes: async (tables) => {
      const [rows] = await pool.query(
        `SELECT table_name AS t, index_name AS i, column_name AS c, sub_part AS sp,
                seq_in_index AS q
           FROM information_schema.statistics
          WHERE table_schema = DATABASE() AND table_name IN (?) AND index_name <> 'PRIMARY'
            AND non_unique = 1
          ORDER BY table_name, index_name, seq_in_index`,
        [[...tables]],
      )
      // InnoDB needs an index on a foreign key's column: indexes that start with one stay.
      const [fks] = await pool.query(
        `SELECT table_name AS t, column_name AS c FROM information_schema.key_column_usage
          WHERE table_schema = DATABASE() AND referenced_table_name IS NOT NULL`,
      )
      const fkColumns = new Set((fks as Row[]).map((r) => `${String(r.t)}.${String(r.c)}`))
      const keep = new Set(
        (rows as Row[])
          .filter((r) => Number(r.q) === 1 && fkColumns.has(`${String(r.t)}.${String(r.c)}`))
          .map((r) => `${String(r.t)}.${String(r.i)}`),
      )
      const byIndex = new Map<string, { table: string; name: string; columns: string[] }>()
      for (const r of rows as Row[]) {
        const key = `${String(r.t)}.${String(r.i)}`
        if (keep.has(key)) continue
        const entry = byIndex.get(key) ?? { table: String(r.t), name: String(r.i), columns: [] }
        entry.columns.push(`\`${String(r.c)}\`${r.sp === null ? '' : `(${String(r.sp)})`}`)
        byIndex.set(key, entry)
      }
      const byTable = new Map<string, { name: string; columns: string[] }[]>()
      for (const e of byIndex.values()) byTable.set(e.table, [...(byTable.get(e.table) ?? []), e])
      const rebuild: string[] = []
      for (const [table, indexes] of byTable) {
        await pool.query(
          `ALTER TABLE ${table} ${indexes.map((x) => `DROP INDEX \`${x.name}\``).join(', ')}`,
        )
        // One ALTER per table: InnoDB builds all its indexes in one pass over the rows.
        rebuild.push(
          `ALTER TABLE ${table} ` +
            indexes.map((x) => `ADD INDEX \`${x.name}\` (${x.columns.join(', ')})`).join(', '),
        )
      }
      return rebuild
    },
    columns: async (table) => {
      const [rows] = await pool.query(
        'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() ' +
          'AND table_name = ? ORDER BY ordinal_position',
        [table],
      )
      return (rows as Row[]).map((r) => String(r.c))
    },
    size: async () => {
      await pool.query('ANALYZE TABLE instances, instance_actions, instance_actions_events')
      const [rows] = await pool.query(
        'SELECT SUM(data_length) AS d, SUM(index_length) AS i FROM information_schema.tables ' +
          'WHERE table_schema = DATABASE()',
      )
      const r = (rows as Row[])[0] ?? {}
      const d = Number(r.d ?? 0)
      const i = Number(r.i ?? 0)
      return { bytes: d + i, detail: `InnoDB data ${mib(d)} + indexes ${mib(i)}` }
    },
    close: async () => {
      await conn.end()
      await pool.end()
    },
  }
}
