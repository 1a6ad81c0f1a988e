/**
 * `/readyz` and the schema (issue 14 item 1): a server is ready only while the database's schema
 * is exactly the one it was built for. When another binary migrates the shared database under it —
 * a newer one (a migration this build does not know) or, after a restore, an older one (a
 * migration missing) — the node answers 503 until the schema is its own again; `/healthz` stays 200
 * (a restart would not help) and the answer says nothing about why. On SQLite (a file), PostgreSQL
 * and MariaDB; a server that does not answer is skipped loudly (scripts/run-tests.sh).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'kysely'
import { openDatabase } from '../../src/store/open-store.js'
import { backendProblem, freshDatabase, type BackendName } from '../helpers/backends.js'
import { buildHarness } from '../helpers/build-app.js'

const BACKENDS: readonly BackendName[] = ['sqlite-file', 'postgres', 'mysql']

for (const backend of BACKENDS) {
  const problem = await backendProblem(backend)
  describe(`/readyz and the schema on ${backend}`, { skip: problem ?? false }, () => {
    test('a newer or an older schema makes the node not ready, and its own schema ready again', async (t) => {
      const database = await freshDatabase(backend)
      t.after(() => database.drop())
      const h = await buildHarness(t, database.url)
      // Another node's connection, as a newer or older binary's `actiontrail migrate` would use.
      const other = openDatabase(database.url).db
      t.after(() => other.destroy())
      const probe = async () => {
        const res = await h.app.inject('/readyz')
        return { status: res.statusCode, body: res.json<unknown>() }
      }
      const ready = { status: 200, body: { status: 'ok' } }
      const notReady = { status: 503, body: { status: 'unavailable' } }
      assert.deepEqual(await probe(), ready)

      // Migrated by a newer ActionTrail.
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-from-the-future', 'x')`.execute(
        other,
      )
      assert.deepEqual(await probe(), notReady)
      assert.equal((await h.app.inject('/healthz')).statusCode, 200)
      assert.match(h.logs(), /readiness probe failed/)
      assert.match(h.logs(), /schema is newer than this ActionTrail/)
      await sql`DELETE FROM kysely_migration WHERE name = '9999-from-the-future'`.execute(other)
      assert.deepEqual(await probe(), ready)

      // An older schema: this build's last migration is not applied (a restore of an old backup).
      const { rows } = await sql<{
        name: string
        timestamp: string
      }>`SELECT name, timestamp FROM kysely_migration ORDER BY name DESC`.execute(other)
      const last = rows[0]
      assert.ok(last)
      await sql`DELETE FROM kysely_migration WHERE name = ${last.name}`.execute(other)
      assert.deepEqual(await probe(), notReady)
      assert.match(h.logs(), /schema is older than this ActionTrail/)
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES (${last.name}, ${last.timestamp})`.execute(
        other,
      )
      assert.deepEqual(await probe(), ready)
    })
  })
}
