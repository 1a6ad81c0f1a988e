/**
 * SQLite's raw-array reader for verify must find exactly what the Kysely reader finds: its digests
 * are the canonical encoding's (canonical-record.ts) for any cell values, and on a real SQLite
 * store altered in ways its fast paths do not expect (times in another text form, BLOB cells,
 * mangled times, rows inserted and deleted together) the two readers give the same report.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import type { Kysely } from 'kysely'
import {
  ACTION_DIGEST_COLUMNS,
  actionDigest,
  EVENT_DIGEST_COLUMNS,
  eventDigest,
} from '../../security/chain/canonical-record.js'
import { chainVm, seedChainHistory, type ChainSeed } from '../../../test/helpers/chain-seed.js'
import { kyselyChainReader } from '../chain/chain-reader.js'
import { verifyChain } from '../chain/verify-chain.js'
import { openDatabase, openStores } from '../open-store.js'
import { rawActionDigest, rawEventDigest, sqliteChainReader } from './sqlite-chain-scan.js'

const action = {
  id: 7,
  instance_uuid: 'u-1',
  action: 'reboot',
  request_id: 'req-1',
  user_id: 'u',
  project_id: 'p',
  start_time: '2026-01-01T10:00:00.000000',
  finish_time: null,
  message: 'a\nb "q" \u0001 é 😀',
  created_at: '2026-01-01T10:00:00.000000',
  updated_at: '2026-01-01 10:00:09.5',
  written_by: null,
}
const event = {
  id: 9,
  action_id: 7,
  event: 'compute_x',
  start_time: '2026-01-01 10:00:01.000000',
  finish_time: '2026-01-01T10:00:02.000000',
  result: 42,
  traceback: Buffer.from('Traceback\n  x'),
  host: 'h',
  details: null,
  created_at: '2026-01-01T10:00:01.000000',
  updated_at: null,
  written_by: 'w',
  finished_by: null,
}
const rawOf = (kind: string, columns: readonly string[], row: Record<string, unknown>) => [
  kind,
  ...columns.map((c) => row[c]),
]

describe('SQLite chain scan: digests from raw rows', () => {
  test('a raw row gives the canonical digest, whatever its cells hold', () => {
    assert.equal(
      rawActionDigest(rawOf('action', ACTION_DIGEST_COLUMNS, action)),
      actionDigest(action),
    )
    assert.equal(rawEventDigest(rawOf('event', EVENT_DIGEST_COLUMNS, event)), eventDigest(event))
    const id = { ...action, id: '7' }
    assert.equal(rawActionDigest(rawOf('action', ACTION_DIGEST_COLUMNS, id)), actionDigest(id))
  })

  test('a time that is not a time gives no digest (it matches no entry)', () => {
    const mangled = { ...action, start_time: 'yesterday' }
    assert.throws(() => actionDigest(mangled))
    assert.equal(rawActionDigest(rawOf('action', ACTION_DIGEST_COLUMNS, mangled)), '')
  })
})

interface Rig {
  file: string
  seed: ChainSeed
  native: BetterSqlite3.Database
}

async function rig(t: TestContext): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-chain-scan-'))
  const file = join(dir, 'store.sqlite')
  const stores = await openStores(file)
  const seed = await seedChainHistory(stores.actions)
  await stores.close()
  const native = new BetterSqlite3(file)
  t.after(() => {
    native.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { file, seed, native }
}

/** verifyChain with SQLite's reader and with Kysely's, on the same file: the same report. */
async function bothReports(rig: Rig) {
  const { db, chainReader } = openDatabase(rig.file)
  try {
    const kysely = db as unknown as Kysely<unknown>
    const viaKysely = await verifyChain(kysely, { reader: kyselyChainReader(kysely) })
    const viaSqlite = await verifyChain(kysely, { reader: sqliteChainReader(rig.native) })
    // And the reader the opened SQLite database offers (what `actiontrail verify` uses).
    assert.ok(chainReader, 'SQLite offers its chain reader')
    const picked = await verifyChain(kysely, { reader: chainReader() })
    assert.deepEqual(viaSqlite, viaKysely)
    assert.deepEqual(picked, viaKysely)
    return viaSqlite
  } finally {
    await db.destroy()
  }
}

describe('SQLite chain scan: the same report as the Kysely reader', () => {
  test('a clean history', async (t) => {
    const r = await rig(t)
    const report = await bothReports(r)
    assert.equal(report.ok, true)
    assert.ok(report.records > 0)
  })

  test("times in MariaDB's text form are the same times: not an alteration", async (t) => {
    const r = await rig(t)
    r.native
      .prepare("UPDATE instance_actions_events SET start_time = replace(start_time, 'T', ' ')")
      .run()
    assert.equal((await bothReports(r)).ok, true)
  })

  test('a BLOB cell holding the same text is the same record; a different one is caught', async (t) => {
    const r = await rig(t)
    r.native
      .prepare('UPDATE instance_actions_events SET event = CAST(event AS BLOB) WHERE id = ?')
      .run(r.seed.eventId)
    assert.equal((await bothReports(r)).ok, true)
    r.native
      .prepare("UPDATE instance_actions_events SET host = CAST('h2' AS BLOB) WHERE id = ?")
      .run(r.seed.eventId)
    const report = await bothReports(r)
    assert.deepEqual(
      report.problems.map((p) => [p.problem, p.record?.eventId]),
      [['record_edited', r.seed.eventId]],
    )
  })

  test("a change row's kind as a BLOB of the same text keeps its link", async (t) => {
    const r = await rig(t)
    r.native.prepare('UPDATE changes SET kind = CAST(kind AS BLOB) WHERE position = 3').run()
    assert.equal((await bothReports(r)).ok, true)
  })

  test('a mangled time is an alteration', async (t) => {
    const r = await rig(t)
    r.native
      .prepare("UPDATE instance_actions SET created_at = 'yesterday' WHERE id = ?")
      .run(r.seed.actionId)
    const report = await bothReports(r)
    assert.deepEqual(
      report.problems.map((p) => [p.problem, p.record?.actionId]),
      [['record_edited', r.seed.actionId]],
    )
  })

  test('a row deleted and another inserted are both named (the row counts match)', async (t) => {
    const r = await rig(t)
    const events = r.native.prepare('SELECT count(*) FROM instance_actions_events').pluck()
    const before = events.get()
    r.native.prepare('DELETE FROM instance_actions_events WHERE id = ?').run(r.seed.eventId)
    const inserted = r.native
      .prepare(
        'INSERT INTO instance_actions_events (action_id, event, start_time, created_at, ' +
          'instance_uuid, owner_project_id, action_name, changed_at) ' +
          "VALUES (?, 'compute_forged', '2026-01-01 11:00:00', '2026-01-01 11:00:00', ?, 'p1', " +
          "'reboot', '2026-01-01 11:00:00')",
      )
      .run(r.seed.lonelyActionId, chainVm(1)).lastInsertRowid
    assert.equal(events.get(), before)
    const report = await bothReports(r)
    assert.deepEqual(
      report.problems.map((p) => [p.problem, p.record?.eventId]).sort(),
      [
        ['record_deleted', r.seed.eventId],
        ['record_inserted', Number(inserted)],
      ].sort(),
    )
  })
})
