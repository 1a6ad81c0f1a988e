/**
 * The store backends the suites run against, and fresh databases on the server backends: every
 * test (or harness) gets its own database, created here and dropped after it. On PostgreSQL, where
 * CREATE DATABASE copies a template (a few hundred milliseconds under load), that "database" is a
 * schema of its own in one shared test database, selected through the connection's search_path;
 * MariaDB/MySQL databases are cheap and are created outright.
 *
 * Connection settings: ACTIONTRAIL_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres)
 * and ACTIONTRAIL_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/mysql), each an account that
 * may create and drop databases. An unreachable server is reported loudly and its backend skipped;
 * with ACTIONTRAIL_REQUIRE_BACKENDS=1 that skip is a failure instead.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { describeDatabase, openStores, type Stores } from '../../src/store/open-store.js'
import { TestStore } from './store-ops.js'

/** Backends of the store contract suite. */
export type BackendName = 'sqlite-memory' | 'sqlite-file' | 'postgres' | 'mysql'

/** The server backends. */
export type ServerKind = 'postgres' | 'mysql'

/** Every backend, in the order the suites run them. */
export const BACKEND_NAMES: readonly BackendName[] = [
  'sqlite-memory',
  'sqlite-file',
  'postgres',
  'mysql',
]

/** Admin connection URLs of the test servers. */
export const ADMIN_URLS: Readonly<Record<ServerKind, string>> = {
  postgres: process.env.ACTIONTRAIL_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: process.env.ACTIONTRAIL_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/mysql',
}

/** True when an unreachable server must fail the run rather than skip (CI). */
export const REQUIRE_BACKENDS = process.env.ACTIONTRAIL_REQUIRE_BACKENDS === '1'

// Connections per store in tests: enough for reads beside the one write transaction, and small
// enough that two test processes with several stores open stay far below max_connections.
const TEST_POOL_MAX = 4

const reachable = new Map<ServerKind, Promise<string | undefined>>()

/**
 * Why the server does not answer, after a few attempts: one connect that times out on a machine
 * loaded by the parallel suites (3 s, ETIMEDOUT; seen in a full run) must not skip or fail every
 * test of a file that a second attempt would have run.
 */
async function probe(kind: ServerKind): Promise<string | undefined> {
  let problem: string | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    problem = await probeOnce(kind)
    if (problem === undefined) return undefined
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  return problem
}

async function probeOnce(kind: ServerKind): Promise<string | undefined> {
  try {
    if (kind === 'postgres') {
      const client = new pg.Client({
        connectionString: ADMIN_URLS.postgres,
        connectionTimeoutMillis: 5000,
      })
      client.on('error', () => undefined)
      await client.connect()
      try {
        await client.query('SELECT 1')
      } finally {
        await client.end()
      }
    } else {
      const conn = await createConnection({
        uri: ADMIN_URLS.mysql.replace(/^mariadb:/i, 'mysql:'),
        connectTimeout: 5000,
      })
      try {
        await conn.query('SELECT 1')
      } finally {
        await conn.end()
      }
    }
    return undefined
  } catch (err) {
    return (
      `${kind} is unreachable at ${describeDatabase(ADMIN_URLS[kind])}: ` +
      `${err instanceof Error ? err.message : String(err)}`
    )
  }
}

/**
 * Why the server cannot be used (undefined when it answers). Checked once per process; the first
 * failure prints a loud warning.
 */
export function serverProblem(kind: ServerKind): Promise<string | undefined> {
  let p = reachable.get(kind)
  if (!p) {
    p = probe(kind).then((problem) => {
      if (problem) {
        const bar = '!'.repeat(100)
        console.warn(
          `\n${bar}\n!! ${problem}\n!! The ${kind} backend is ` +
            (REQUIRE_BACKENDS ? 'REQUIRED (ACTIONTRAIL_REQUIRE_BACKENDS=1): failing' : 'SKIPPED') +
            `.\n${bar}\n`,
        )
      }
      return problem
    })
    reachable.set(kind, p)
  }
  return p
}

function serverOf(backend: BackendName): ServerKind | undefined {
  return backend === 'postgres' || backend === 'mysql' ? backend : undefined
}

/** Why the backend cannot run here, or undefined. */
export async function backendProblem(backend: BackendName): Promise<string | undefined> {
  const kind = serverOf(backend)
  return kind ? serverProblem(kind) : undefined
}

/** A database created for one test. */
export interface TestDatabase {
  /** The database setting for openStore (`ACTIONTRAIL_DB`). */
  url: string
  /** Drops the database (after every store on it is closed). */
  drop(): Promise<void>
  /**
   * Server backends: kills every connection that stores hold to this database, as a server
   * restart or a network failure would; resolves with how many were killed.
   */
  killConnections?: () => Promise<number>
}

// The PostgreSQL database that holds the per-test schemas. It is kept between runs; schemas that
// a crashed run left behind are dropped once they are a few hours old.
const SHARED_PG_DATABASE = 'actiontrail_test'
const STALE_SCHEMA_SECONDS = 6 * 3600
let sharedPg: Promise<void> | undefined

function ensureSharedPg(): Promise<void> {
  sharedPg ??= (async () => {
    await withAdmin('postgres', async (q) => {
      try {
        await q(`CREATE DATABASE "${SHARED_PG_DATABASE}"`)
      } catch (err) {
        // 42P04: it exists (maybe just created by a test process running beside this one).
        // 23505: the two CREATEs raced in the catalog.
        const code = (err as { code?: unknown }).code
        if (code !== '42P04' && code !== '23505') throw err
      }
    })
    await withAdmin(
      'postgres',
      async (q) => {
        const { rows } = (await q(
          "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'at\\_test\\_%'",
        )) as { rows: { name: string }[] }
        const now = Date.now() / 1000
        for (const { name } of rows) {
          const born = Number(name.split('_')[2])
          if (Number.isFinite(born) && now - born > STALE_SCHEMA_SECONDS)
            await q(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => undefined)
        }
      },
      SHARED_PG_DATABASE,
    )
  })()
  return sharedPg
}

function databaseUrl(admin: string, name: string, params: Record<string, string> = {}): string {
  const url = new URL(admin)
  url.pathname = `/${name}`
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return url.toString()
}

async function withAdmin<T>(
  kind: ServerKind,
  fn: (query: (sql: string) => Promise<unknown>) => Promise<T>,
  database?: string,
): Promise<T> {
  if (kind === 'postgres') {
    const url = database ? databaseUrl(ADMIN_URLS.postgres, database) : ADMIN_URLS.postgres
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
    client.on('error', () => undefined)
    await client.connect()
    try {
      return await fn((sql) => client.query(sql))
    } finally {
      await client.end()
    }
  }
  const conn = await createConnection({
    uri: ADMIN_URLS.mysql.replace(/^mariadb:/i, 'mysql:'),
    connectTimeout: 10_000,
  })
  try {
    return await fn((sql) => conn.query(sql))
  } finally {
    await conn.end()
  }
}

/**
 * Creates an empty database with a random name on the server: a real database (`at_test_…`),
 * dropped by `drop()`. For a whole server process under test (CLI, multi-node).
 */
export async function createServerDatabase(kind: ServerKind): Promise<TestDatabase> {
  const problem = await serverProblem(kind)
  if (problem) throw new Error(problem)
  const name = `at_test_${randomBytes(6).toString('hex')}`
  await withAdmin(kind, (q) =>
    q(
      kind === 'postgres'
        ? `CREATE DATABASE "${name}"`
        : `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`,
    ),
  )
  return {
    url: databaseUrl(ADMIN_URLS[kind], name, {
      pool_max: String(TEST_POOL_MAX),
      ...(kind === 'postgres' ? { application_name: name } : {}),
    }),
    killConnections: () => killConnections(kind, name),
    drop: () =>
      withAdmin(kind, (q) =>
        // FORCE: a connection left open by a failed test must not keep the database alive.
        q(
          kind === 'postgres'
            ? `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`
            : `DROP DATABASE IF EXISTS \`${name}\``,
        ),
      ).then(() => undefined),
  }
}

/** Kills the connections of one test database: PostgreSQL by application name, MySQL by database. */
async function killConnections(kind: ServerKind, name: string): Promise<number> {
  return withAdmin(kind, async (q) => {
    if (kind === 'postgres') {
      const { rows } = (await q(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = '${name}'`,
      )) as { rows: unknown[] }
      return rows.length
    }
    const [rows] = (await q(
      `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = '${name}'`,
    )) as [{ id: number }[]]
    for (const { id } of rows) await q(`KILL CONNECTION ${Number(id)}`).catch(() => undefined)
    return rows.length
  })
}

/**
 * An empty database for one test: on MariaDB/MySQL a database of its own, on PostgreSQL a schema
 * of its own in the shared test database (the URL selects it with `search_path`).
 */
export async function createTestDatabase(kind: ServerKind): Promise<TestDatabase> {
  if (kind === 'mysql') return createServerDatabase(kind)
  const problem = await serverProblem(kind)
  if (problem) throw new Error(problem)
  await ensureSharedPg()
  const schema = `at_test_${Math.floor(Date.now() / 1000)}_${randomBytes(5).toString('hex')}`
  await withAdmin(kind, (q) => q(`CREATE SCHEMA "${schema}"`), SHARED_PG_DATABASE)
  return {
    // The application name tells this test's connections apart from the other schemas' ones.
    url: databaseUrl(ADMIN_URLS.postgres, SHARED_PG_DATABASE, {
      pool_max: String(TEST_POOL_MAX),
      options: `-c search_path=${schema}`,
      application_name: schema,
    }),
    killConnections: () => killConnections(kind, schema),
    drop: () =>
      withAdmin(
        kind,
        (q) => q(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
        SHARED_PG_DATABASE,
      ).then(() => undefined),
  }
}

/**
 * A fresh database for one test on `backend`, removed after the test: a private in-memory SQLite
 * database, a file in a temporary directory, or a new database on the server.
 */
export async function freshDatabase(backend: BackendName): Promise<TestDatabase> {
  const kind = serverOf(backend)
  if (kind) return createTestDatabase(kind)
  if (backend === 'sqlite-memory') return { url: ':memory:', drop: () => Promise.resolve() }
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-store-'))
  return {
    url: join(dir, 'db.sqlite'),
    drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  }
}

/**
 * Opens `count` sets of stores on one fresh, migrated database (several sets are several "nodes":
 * separate pools, separate group committers). All are closed and the database dropped after the
 * test. An in-memory SQLite database cannot be shared, so there every set is the same one.
 */
export async function openFreshStores(
  t: TestContext,
  backend: BackendName,
  count = 1,
): Promise<Stores[]> {
  const database = await freshDatabase(backend)
  const opened: Stores[] = []
  t.after(async () => {
    await Promise.all([...new Set(opened)].map((s) => s.close()))
    await database.drop()
  })
  opened.push(await openStores(database.url))
  for (let i = 1; i < count; i++) {
    // Migrated already: open the others as a second node would.
    opened.push(
      database.url === ':memory:' ? (opened[0] as Stores) : await openStores(database.url),
    )
  }
  return opened
}

/** Opens an ActionStore (with write helpers) on a fresh, migrated database; closed and dropped after the test. */
export async function openFreshStore(t: TestContext, backend: BackendName): Promise<TestStore> {
  return new TestStore(((await openFreshStores(t, backend))[0] as Stores).actions)
}
