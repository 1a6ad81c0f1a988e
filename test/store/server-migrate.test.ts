/**
 * `actiontrail migrate` on the server backends, run as a user runs it, and the schema it builds:
 * native microsecond time columns, byte-exact id and name columns, generated 64-bit keys.
 * Skipped loudly when a server does not answer (a failure under ACTIONTRAIL_REQUIRE_BACKENDS=1).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'kysely'
import pg from 'pg'
import { openDatabase } from '../../src/store/open-store.js'
import {
  createTestDatabase,
  REQUIRE_BACKENDS,
  serverProblem,
  type ServerKind,
} from '../helpers/backends.js'
import { runCli } from '../helpers/run-cli.js'

// What each server reports for the columns that matter: a time, an id, a key. (A `\` at the end
// of a line joins the next line to it: the query has no line break there.)
const COLUMN_QUERY: Record<
  ServerKind,
  ReturnType<typeof sql<{ column: string; type: string; collation: string | null }>>
> = {
  postgres: sql`
    SELECT column_name AS column, data_type || coalesce('(' || datetime_precision || ')', '') AS type, \
collation_name AS collation
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'instance_actions' \
AND column_name IN ('id', 'request_id', 'created_at')
    ORDER BY column_name`,
  mysql: sql`
    SELECT COLUMN_NAME AS \`column\`, COLUMN_TYPE AS type, COLLATION_NAME AS collation
    FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'instance_actions' \
AND COLUMN_NAME IN ('id', 'request_id', 'created_at')
    ORDER BY COLUMN_NAME`,
}

const EXPECTED_COLUMNS: Record<
  ServerKind,
  { column: string; type: string; collation: string | null }[]
> = {
  postgres: [
    { column: 'created_at', type: 'timestamp without time zone(6)', collation: null },
    { column: 'id', type: 'bigint', collation: null },
    { column: 'request_id', type: 'character varying', collation: 'C' },
  ],
  mysql: [
    { column: 'created_at', type: 'datetime(6)', collation: null },
    { column: 'id', type: 'bigint(20)', collation: null },
    { column: 'request_id', type: 'varchar(255)', collation: 'utf8mb4_nopad_bin' },
  ],
}

for (const kind of ['postgres', 'mysql'] as const) {
  const problem = await serverProblem(kind)
  if (problem && REQUIRE_BACKENDS) {
    test(`actiontrail migrate on ${kind} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`actiontrail migrate on ${kind}`, { skip: problem ?? false }, () => {
    test('applies the schema once, --check reports it, a newer schema is refused by every command', async (t) => {
      const database = await createTestDatabase(kind)
      t.after(() => database.drop())
      const check = await runCli(['migrate', '--check', '--db', database.url])
      assert.equal(check.code, 1, check.stderr)
      assert.match(check.stdout, /pending migrations: 0001-init, 0002-idempotency/)
      const first = await runCli(['migrate', '--db', database.url])
      assert.equal(first.code, 0, first.stderr)
      assert.match(first.stdout, /applied: 0001-init, 0002-idempotency/)
      assert.match((await runCli(['migrate', '--db', database.url])).stdout, /schema is up to date/)
      assert.equal((await runCli(['migrate', '--check', '--db', database.url])).code, 0)

      const { db } = openDatabase(database.url)
      try {
        const { rows } = await COLUMN_QUERY[kind].execute(db)
        const columns = rows.map((r) => ({
          column: r.column,
          type: r.type,
          collation: r.collation,
        }))
        if (kind === 'mysql') {
          // MySQL 8 names its no-pad binary collation differently; older servers pad.
          const c = columns.find((r) => r.column === 'request_id')
          if (c && /^utf8mb4_(0900_)?bin$/.test(c.collation ?? ''))
            c.collation = 'utf8mb4_nopad_bin'
          const id = columns.find((r) => r.column === 'id')
          if (id) id.type = id.type.replace(/^bigint$/, 'bigint(20)')
        }
        assert.deepEqual(columns, EXPECTED_COLUMNS[kind])
        await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-from-the-future', 'x')`.execute(
          db,
        )
      } finally {
        await db.destroy()
      }
      for (const args of [['migrate'], ['migrate', '--check'], ['demo']]) {
        const refused = await runCli([...args, '--db', database.url])
        assert.notEqual(refused.code, 0, args.join(' '))
        assert.match(
          refused.stderr,
          /schema is newer than this ActionTrail.*9999-from-the-future/,
          args.join(' '),
        )
      }
    })

    test("times come back as text with every microsecond, without touching the driver's global parsers", async (t) => {
      const database = await createTestDatabase(kind)
      // The stores' own pool, with its type parsers.
      const { db } = openDatabase(database.url)
      t.after(async () => {
        await db.destroy()
        await database.drop()
      })
      const { rows: typed } = await (
        kind === 'postgres'
          ? sql<{ t: unknown }>`SELECT CAST('2026-01-02 03:04:05.000123' AS timestamp(6)) AS t`
          : sql<{ t: unknown }>`SELECT CAST('2026-01-02 03:04:05.000123' AS datetime(6)) AS t`
      ).execute(db)
      assert.equal(typed[0]?.t, '2026-01-02 03:04:05.000123')
      // pg's global parser still makes Dates for every other pool in the process.
      assert.ok(pg.types.getTypeParser(1114, 'text')('2026-01-02 03:04:05') instanceof Date)
    })
  })
}
