/**
 * `actiontrail export` and `import --from-export` (issue 13) against PostgreSQL and MariaDB, through
 * the command: a server database's export imported into another database of the same kind exports
 * the same records, a second import adds nothing, and an export taken from SQLite imports into the
 * server database with the same records — the format does not depend on the backend. (SQLite alone:
 * export-import.test.ts; GET /v1/export runs on every backend with the API suites.)
 * A server that does not answer skips loudly, or fails with ACTIONTRAIL_REQUIRE_BACKENDS=1.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from '../helpers/backup-check.js'
import { createServerDatabase, REQUIRE_BACKENDS, serverProblem } from '../helpers/backends.js'
import { exportBody, seeded } from '../helpers/export-seed.js'
import { runCli } from '../helpers/run-cli.js'

/** The records of a database's export (the header, with its time, left out). */
async function exported(db: string): Promise<unknown[]> {
  const run = await runCli(['export', '--db', db])
  assert.equal(run.code, 0, run.stderr)
  return exportBody(run.stdout).slice(1)
}

for (const kind of ['postgres', 'mysql'] as const) {
  const problem = await serverProblem(kind)
  test(
    `${kind}: export → import round trip, idempotent, and across backends`,
    {
      skip: (!REQUIRE_BACKENDS && problem) || false,
    },
    async (t) => {
      const source = await createServerDatabase(kind)
      const target = await createServerDatabase(kind)
      const fromSqlite = await createServerDatabase(kind)
      t.after(async () => {
        for (const db of [source, target, fromSqlite]) await db.drop()
      })
      await seeded(t, source.url)
      const migrated = await runCli(['migrate', '--db', target.url])
      assert.equal(migrated.code, 0, migrated.stderr)
      const file = join(tempDir(t), 'trail.ndjson.gz')
      const out = await runCli(['export', '--db', source.url, '--gzip', '--output', file])
      assert.equal(out.code, 0, out.stderr)

      const first = await runCli(['import', '--from-export', file, '--db', target.url])
      assert.equal(first.code, 0, first.stderr)
      assert.equal(first.stdout, 'imported: 5 actions new, 0 already there, 0 skipped\n')
      const want = await exported(source.url)
      assert.equal(want.length, 5)
      assert.deepEqual(await exported(target.url), want)
      const again = await runCli(['import', '--from-export', file, '--db', target.url])
      assert.equal(again.stdout, 'imported: 0 actions new, 5 already there, 0 skipped\n')
      assert.deepEqual(await exported(target.url), want)

      // The same history exported from SQLite imports into the server with the same records.
      const sqlite = await seeded(t)
      const sqliteFile = join(tempDir(t), 'sqlite.ndjson')
      assert.equal((await runCli(['export', '--db', sqlite, '--output', sqliteFile])).code, 0)
      assert.equal((await runCli(['migrate', '--db', fromSqlite.url])).code, 0)
      const cross = await runCli(['import', '--from-export', sqliteFile, '--db', fromSqlite.url])
      assert.equal(cross.code, 0, cross.stderr)
      assert.deepEqual(await exported(fromSqlite.url), want)
    },
  )
}
