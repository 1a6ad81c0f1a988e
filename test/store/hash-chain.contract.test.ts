/**
 * The hash chain on every backend that can be opened twice (issue 13, tamper evidence): a clean
 * history verifies; rows edited, deleted or inserted behind ActionTrail's back with plain SQL —
 * in the record tables and in the chain itself — are each caught, naming the record or position;
 * writers on several nodes sharing PostgreSQL or MariaDB produce one valid chain.
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { Migrator, sql as rawSql, type Kysely } from 'kysely'
import { EVENT_DIGEST_COLUMNS, eventDigest } from '../../src/security/chain/canonical-record.js'
import type { StoreWrite } from '../../src/store/action-store.js'
import { MIGRATIONS } from '../../src/store/migrate.js'
import { queryRows } from '../../src/store/chain/run-plain-program.js'
import { verifyChain, type ChainReport } from '../../src/store/chain/verify-chain.js'
import { openDatabase, openStores, type Stores } from '../../src/store/open-store.js'
import {
  backendProblem,
  freshDatabase,
  REQUIRE_BACKENDS,
  type BackendName,
} from '../helpers/backends.js'
import { chainAt, chainVm, seedChainHistory, type ChainSeed } from '../helpers/chain-seed.js'
import { TestStore } from '../helpers/store-ops.js'

const BACKENDS: readonly BackendName[] = ['sqlite-file', 'postgres', 'mysql']

interface Rig {
  stores: Stores
  db: Kysely<unknown>
  seed: ChainSeed
  sql: (text: string, ...params: unknown[]) => Promise<Record<string, unknown>[]>
}

/** A fresh database with the seed history, a store on it and a raw connection beside it. */
async function rig(
  t: TestContext,
  backend: BackendName,
  nodes = 1,
): Promise<Rig & { more: Stores[] }> {
  const database = await freshDatabase(backend)
  const stores = await openStores(database.url)
  const more: Stores[] = []
  for (let i = 1; i < nodes; i++) more.push(await openStores(database.url))
  const raw = openDatabase(database.url)
  t.after(async () => {
    await Promise.all([stores.close(), ...more.map((s) => s.close()), raw.db.destroy()])
    await database.drop()
  })
  const db = raw.db as unknown as Kysely<unknown>
  const seed = await seedChainHistory(stores.actions)
  return { stores, more, db, seed, sql: (text, ...params) => queryRows(db, text, params) }
}

function only(report: ChainReport, problem: string) {
  assert.equal(report.ok, false, 'the alteration is caught')
  const found = report.problems.filter((p) => p.problem === problem)
  assert.ok(found.length > 0, `expected ${problem}, got ${JSON.stringify(report.problems)}`)
  return found
}

for (const name of BACKENDS) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`hash chain: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`hash chain: ${name}`, { skip: problem ?? false }, () => {
    test('a clean history verifies, every record covered', async (t) => {
      const { db } = await rig(t, name)
      const report = await verifyChain(db)
      assert.deepEqual(report.problems, [])
      assert.equal(report.ok, true)
      // 5 actions and 4 events, each checked once against its latest entry.
      assert.equal(report.records, 9)
      assert.ok(report.entries >= 9)
      assert.equal(report.head.link?.length, 64)
    })

    test("an event's result edited with plain SQL is caught, naming the event", async (t) => {
      const { db, seed, sql } = await rig(t, name)
      await sql("UPDATE instance_actions_events SET result = 'Error' WHERE id = ?", seed.eventId)
      const [p] = only(await verifyChain(db), 'record_edited')
      assert.deepEqual(p!.record, { kind: 'event', actionId: seed.actionId, eventId: seed.eventId })
      assert.match(p!.message, new RegExp(`event ${seed.eventId} \\(action ${seed.actionId}\\)`))
    })

    test('archive and purge keep the chain verifiable; an archived row edited is caught', async (t) => {
      const { db, seed, sql, stores } = await rig(t, name)
      const store = new TestStore(stores.actions)
      for (const n of [1, 2]) await store.deleteInstance(chainVm(n), chainAt(100))
      const moved = await stores.retention.archive({ before: chainAt(200) })
      assert.equal(moved.actions, 5, JSON.stringify(moved))
      const archived = await verifyChain(db)
      assert.deepEqual(archived.problems, [])
      // The archived records are checked in the shadow tables, against their latest entries.
      assert.equal(archived.records, 9)
      await sql(
        "UPDATE shadow_instance_actions_events SET result = 'Error' WHERE id = ?",
        seed.eventId,
      )
      const [p] = only(await verifyChain(db), 'record_edited')
      assert.deepEqual(p!.record, { kind: 'event', actionId: seed.actionId, eventId: seed.eventId })
      await sql(
        "UPDATE shadow_instance_actions_events SET result = 'Success' WHERE id = ?",
        seed.eventId,
      )
      await stores.retention.purge({ before: null })
      const purged = await verifyChain(db)
      assert.deepEqual(purged.problems, [])
      assert.equal(purged.records, 0, 'nothing left to check, and nothing missing')
    })

    test('event digests taken from the written values equal digests of the stored rows', async (t) => {
      // Event starts and finishes give the chain the values they wrote (ChangeNote.stored) instead
      // of a read-back: each entry's digest must still be the digest of the row as stored, with
      // writer tags, texts beyond ASCII, a start and a finish of one event in one transaction, and
      // a finish in a later transaction than its start.
      const { db, stores, sql } = await rig(t, name)
      const vm = chainVm(1)
      const at = (s: number) => chainAt(300 + s)
      const start = (rid: string, event: string, s: number, writer?: string): StoreWrite => ({
        op: 'event_start',
        values: {
          instanceUuid: vm,
          requestId: rid,
          event,
          host: 'hôte-1 ☃',
          startTime: at(s),
          createdAt: at(s),
          ...(writer ? { writer } : {}),
        },
      })
      const finish = (rid: string, event: string, s: number, writer?: string): StoreWrite => ({
        op: 'event_finish',
        values: {
          instanceUuid: vm,
          requestId: rid,
          event,
          finishTime: at(s),
          result: 'Error',
          traceback: 'Traceback:\n  ☃ "quoted" \\ 𝄞',
          details: '{"b": 1, "a": [2]}',
          updatedAt: at(s),
          ...(writer ? { writer } : {}),
        },
      })
      const outcomes = await stores.actions.write([
        {
          op: 'action_start',
          values: {
            instanceUuid: vm,
            action: 'resize',
            requestId: 'req-held',
            userId: 'u',
            projectId: 'p1',
            startTime: at(0),
            createdAt: at(0),
            writer: 'svc:one',
          },
        },
        start('req-held', 'compute_a', 1, 'svc:one'),
        finish('req-held', 'compute_a', 2, 'svc:two'),
        start('req-held', 'compute_b', 3),
      ])
      assert.ok(
        outcomes.every((o) => o.ok),
        JSON.stringify(outcomes),
      )
      const later = await stores.actions.write([
        finish('req-held', 'compute_b', 4, 'svc:three'),
        start('req-held', 'compute_c', 5, 'svc:one'),
      ])
      assert.ok(
        later.every((o) => o.ok),
        JSON.stringify(later),
      )
      // Every event's latest entry against the row as stored now.
      const events = await sql(
        `SELECT ${EVENT_DIGEST_COLUMNS.join(', ')} FROM instance_actions_events WHERE event IN ` +
          "('compute_a', 'compute_b', 'compute_c')",
      )
      assert.equal(events.length, 3)
      for (const row of events) {
        const [entry] = await sql(
          "SELECT digest FROM changes WHERE kind = 'event' AND event_id = ? " +
            'ORDER BY position DESC',
          Number(row.id),
        )
        assert.equal(entry!.digest, eventDigest(row), `event ${String(row.event)}`)
      }
      const report = await verifyChain(db)
      assert.deepEqual(report.problems, [])
    })

    test('an action deleted with plain SQL is caught, naming the action', async (t) => {
      const { db, seed, sql } = await rig(t, name)
      await sql('DELETE FROM instance_actions WHERE id = ?', seed.lonelyActionId)
      const [p] = only(await verifyChain(db), 'record_deleted')
      assert.deepEqual(p!.record, { kind: 'action', actionId: seed.lonelyActionId, eventId: null })
    })

    test('an event inserted with plain SQL is caught, naming the new event', async (t) => {
      const { db, seed, sql } = await rig(t, name)
      await sql(
        'INSERT INTO instance_actions_events (action_id, event, start_time, created_at, ' +
          'instance_uuid, owner_project_id, action_name, changed_at) ' +
          "VALUES (?, 'compute_forged', '2026-01-01 11:00:00', '2026-01-01 11:00:00', ?, 'p1', " +
          "'reboot', '2026-01-01 11:00:00')",
        seed.lonelyActionId,
        chainVm(1),
      )
      const [row] = await sql('SELECT max(id) AS id FROM instance_actions_events')
      const forged = Number(row!.id)
      const [p] = only(await verifyChain(db), 'record_inserted')
      assert.deepEqual(p!.record, { kind: 'event', actionId: seed.lonelyActionId, eventId: forged })
    })

    test("a change row's digest edited is caught as the first broken link, at its position", async (t) => {
      const { db, sql } = await rig(t, name)
      const [entry] = await sql(
        'SELECT position, kind, action_id, event_id FROM changes WHERE position = 5',
      )
      await sql(`UPDATE changes SET digest = '${'0'.repeat(64)}' WHERE position = 5`)
      const report = await verifyChain(db)
      assert.equal(report.ok, false)
      assert.equal(report.firstBrokenLink?.problem, 'link_broken')
      assert.equal(report.firstBrokenLink?.position, 5)
      assert.equal(report.firstBrokenLink?.record?.actionId, Number(entry!.action_id))
    })

    test('a change row deleted is caught as missing positions', async (t) => {
      const { db, sql } = await rig(t, name)
      await sql('DELETE FROM changes WHERE position = 5')
      const report = await verifyChain(db)
      assert.equal(report.firstBrokenLink?.problem, 'position_missing')
      assert.equal(report.firstBrokenLink?.position, 5)
    })

    test('the last change row deleted (and the head left) is caught', async (t) => {
      const { db, sql } = await rig(t, name)
      const [head] = await sql('SELECT last FROM change_head WHERE id = 1')
      await sql('DELETE FROM changes WHERE position = ?', Number(head!.last))
      only(await verifyChain(db), 'head_mismatch')
    })

    test('an upgraded database (history written before migration 0013) is sealed and verifies', async (t) => {
      const database = await freshDatabase(name)
      const raw = openDatabase(database.url)
      const db = raw.db as unknown as Kysely<unknown>
      t.after(async () => {
        await raw.db.destroy()
        await database.drop()
      })
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([k]) => k < '0013'))
      const { rows } = await rawSql<{ schema: string | null }>`SELECT current_schema() AS schema`
        .execute(db)
        .catch(() => ({ rows: [] as { schema: string | null }[] }))
      const schema = name === 'postgres' ? (rows[0]?.schema ?? undefined) : undefined
      const migrator = new Migrator({
        db,
        provider: { getMigrations: () => Promise.resolve(before) },
        ...(schema ? { migrationTableSchema: schema } : {}),
      })
      assert.equal((await migrator.migrateToLatest()).error, undefined)
      const q = (text: string, ...params: unknown[]) => queryRows(db, text, params)
      await q(
        'INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at) ' +
          "VALUES (?, 'old', 'p1', 'u', '2025-01-01 00:00:00', '2025-01-01 00:00:00')",
        chainVm(9),
      )
      await q(
        'INSERT INTO instance_actions (instance_uuid, action, request_id, start_time, created_at, ' +
          "updated_at, owner_project_id) VALUES (?, 'create', 'req-old', '2025-01-01 00:00:01', " +
          "'2025-01-01 00:00:01', '2025-01-01 00:00:02', 'p1')",
        chainVm(9),
      )
      const [action] = await q('SELECT id FROM instance_actions')
      await q(
        'INSERT INTO instance_actions_events (action_id, event, start_time, created_at, ' +
          'instance_uuid, owner_project_id, action_name, changed_at) ' +
          "VALUES (?, 'compute_build', '2025-01-01 00:00:02', '2025-01-01 00:00:02', ?, 'p1', " +
          "'create', '2025-01-01 00:00:02')",
        Number(action!.id),
        chainVm(9),
      )
      const stores = await openStores(database.url)
      try {
        const first = await verifyChain(db)
        assert.deepEqual(first.problems, [])
        assert.equal(first.records, 2)
        // Written after the upgrade: the chain continues.
        await seedChainHistory(stores.actions)
        const second = await verifyChain(db)
        assert.deepEqual(second.problems, [])
        assert.equal(second.records, 11)
      } finally {
        await stores.close()
      }
    })

    if (name !== 'sqlite-file')
      test('writers on three nodes committing concurrently extend one valid chain', async (t) => {
        const { stores, more, db } = await rig(t, name, 3)
        const nodes = [stores, ...more].map((s) => new TestStore(s.actions))
        await Promise.all(
          nodes.map(async (node, n) => {
            for (let i = 0; i < 15; i++) {
              const requestId = `node${n}-req-${i}`
              const instanceUuid = chainVm(1 + (i % 2))
              await node.write([
                {
                  op: 'action_start',
                  values: {
                    instanceUuid,
                    action: 'migrate',
                    requestId,
                    userId: 'u',
                    projectId: 'p1',
                    startTime: chainAt(100 + i),
                    createdAt: chainAt(100 + i),
                  },
                },
                {
                  op: 'event_start',
                  values: {
                    instanceUuid,
                    requestId,
                    event: 'compute_live_migration',
                    host: `h${n}`,
                    startTime: chainAt(100 + i),
                    createdAt: chainAt(100 + i),
                  },
                },
              ])
            }
          }),
        )
        const report = await verifyChain(db)
        assert.deepEqual(report.problems, [])
        // The seed's 9 records and 45 actions with one event each.
        assert.equal(report.records, 9 + 90)
      })
  })
}
