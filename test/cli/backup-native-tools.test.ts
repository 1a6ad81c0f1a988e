/**
 * Backups of PostgreSQL and MariaDB stores with the native tools that docs/operations.md ("Backup")
 * tells operators to use (issue 13): `pg_dump -Fc` restored with `pg_restore`, and
 * `mariadb-dump --single-transaction` restored with `mariadb`. A dump taken while this process
 * keeps writing restores into a database that ActionTrail opens and writes to, holding one
 * consistent state; a dump taken with the writes stopped restores into exactly the source's rows.
 * A server or tool that is missing skips loudly, or fails with ACTIONTRAIL_REQUIRE_BACKENDS=1.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { openDatabase, openStores } from '../../src/store/open-store.js'
import {
  createServerDatabase,
  REQUIRE_BACKENDS,
  serverProblem,
  type ServerKind,
  type TestDatabase,
} from '../helpers/backends.js'
import { assertConsistentPrefix, startWriter, tempDir, trailRows } from '../helpers/backup-check.js'
import { TestStore } from '../helpers/store-ops.js'

/** The dump and restore commands of one server kind, as docs/operations.md gives them. */
interface NativeTools {
  /** Tools that must be installed. */
  tools: string[]
  /** Arguments that write a dump of the database at `url` to `file`. */
  dump(url: URL, file: string): [string, string[]]
  /** The restore command of `file` into the (empty) database at `url`, and whether it reads stdin. */
  restore(url: URL, file: string): [string, string[], 'stdin' | 'args']
}

const mysqlConnection = (url: URL) => [
  `--host=${url.hostname}`,
  `--port=${url.port || '3306'}`,
  `--user=${decodeURIComponent(url.username)}`,
  ...(url.password ? [`--password=${decodeURIComponent(url.password)}`] : []),
]

const TOOLS: Record<ServerKind, NativeTools> = {
  postgres: {
    tools: ['pg_dump', 'pg_restore'],
    dump: (url, file) => ['pg_dump', ['-Fc', '-f', file, '-d', url.toString()]],
    restore: (url, file) => [
      'pg_restore',
      ['--no-owner', '--exit-on-error', '-d', url.toString(), file],
      'args',
    ],
  },
  mysql: {
    tools: ['mariadb-dump', 'mariadb'],
    dump: (url, file) => [
      'mariadb-dump',
      [
        ...mysqlConnection(url),
        '--single-transaction',
        '--routines',
        `--result-file=${file}`,
        url.pathname.slice(1),
      ],
    ],
    restore: (url) => ['mariadb', [...mysqlConnection(url), url.pathname.slice(1)], 'stdin'],
  },
}

/** The test database's URL as the native tools take it: without ActionTrail's parameters. */
function toolUrl(database: TestDatabase): URL {
  const url = new URL(database.url.replace(/^mariadb:/i, 'mysql:'))
  url.search = ''
  return url
}

/** Runs a tool to its end (stdin from `input` when given); fails with its stderr. */
function run(command: string, args: string[], input?: string): Promise<void> {
  const stdin = input === undefined ? 'ignore' : openSync(input, 'r')
  const child = spawn(command, args, { stdio: [stdin, 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      if (typeof stdin === 'number') closeSync(stdin)
      if (code === 0) resolve()
      else reject(new Error(`${command} exited ${code}: ${stderr}`))
    })
  })
}

async function freshServerDatabase(t: TestContext, kind: ServerKind): Promise<TestDatabase> {
  const database = await createServerDatabase(kind)
  t.after(() => database.drop())
  return database
}

async function dump(kind: ServerKind, database: TestDatabase, file: string): Promise<void> {
  const [command, args] = TOOLS[kind].dump(toolUrl(database), file)
  await run(command, args)
}

/** Restores `file` into a new database, which is dropped after the test. */
async function restore(t: TestContext, kind: ServerKind, file: string): Promise<TestDatabase> {
  const target = await freshServerDatabase(t, kind)
  const [command, args, input] = TOOLS[kind].restore(toolUrl(target), file)
  await run(command, args, input === 'stdin' ? file : undefined)
  return target
}

async function rowsOf(database: TestDatabase) {
  const { db } = openDatabase(database.url)
  try {
    return await trailRows(db)
  } finally {
    await db.destroy()
  }
}

function toolProblem(kind: ServerKind): string | undefined {
  const missing = TOOLS[kind].tools.filter(
    (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0,
  )
  if (missing.length === 0) return undefined
  const problem = `${missing.join(', ')} not installed: the ${kind} backup test is SKIPPED`
  console.warn(`\n${'!'.repeat(100)}\n!! ${problem}\n${'!'.repeat(100)}\n`)
  return problem
}

for (const kind of ['postgres', 'mysql'] as const) {
  const problem = (await serverProblem(kind)) ?? toolProblem(kind)
  describe(
    `backup with the native tools: ${kind}`,
    { skip: (!REQUIRE_BACKENDS && problem) || false },
    () => {
      test('a dump taken under writes restores a consistent state; with writes stopped, every row', async (t) => {
        const dir = tempDir(t)
        const source = await freshServerDatabase(t, kind)
        const stores = await openStores(source.url)
        t.after(() => stores.close())
        const writer = startWriter(new TestStore(stores.actions))
        await writer.reach(200)
        const before = writer.written()
        await dump(kind, source, join(dir, 'during-writes.dump'))
        const total = await writer.stop()
        assert.ok(total > before, 'writes went on during the dump')
        await dump(kind, source, join(dir, 'stopped.dump'))
        const sourceRows = await rowsOf(source)

        // Taken with the writes stopped: the restore holds exactly the source's rows.
        const exact = await restore(t, kind, join(dir, 'stopped.dump'))
        assert.deepEqual(await rowsOf(exact), sourceRows)

        // Taken under writes: one consistent state, which ActionTrail opens without migrating and
        // goes on writing to (its sequences and auto-increment counters came along).
        const during = await restore(t, kind, join(dir, 'during-writes.dump'))
        const copy = await rowsOf(during)
        assertConsistentPrefix(copy, sourceRows)
        assert.ok(copy.actions.length >= before)
        const restored = await openStores(during.url, { migrate: false })
        t.after(() => restored.close())
        const more = startWriter(new TestStore(restored.actions), { first: 1_000_000 })
        await more.reach(3)
        await more.stop()
        const after = await rowsOf(during)
        assert.ok(after.actions.length > copy.actions.length)
        assertConsistentPrefix(copy, after)
      })
    },
  )
}
