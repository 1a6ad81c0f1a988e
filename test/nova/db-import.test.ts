/**
 * `actiontrail import --from-nova-db` against real Nova cell databases (schema by Nova's own
 * migrations: scripts/nova-cell-db.py), on SQLite and on the local MariaDB: ActionTrail's Nova
 * API then shows exactly what Nova's rows say (failure texts sanitized); an import run twice adds
 * nothing; an interrupted import resumes from its checkpoint without reading again what was done;
 * several cells import in one run; Nova's database is never written. `--offline` (SQLite store)
 * leaves the store exactly as an online import does, refuses a store another process has open,
 * and an interrupted offline import finishes (indexes rebuilt) when run again.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { fileCheckpoint, memoryCheckpoint } from '../../src/nova/db-import/import-checkpoint.js'
import { importNovaCells } from '../../src/nova/db-import/nova-db-import.js'
import { openNovaCell } from '../../src/nova/db-import/open-cell.js'
import { openSqliteCell } from '../../src/nova/db-import/sqlite-cell-source.js'
import { READ_AHEAD } from '../../src/nova/db-import/cell-reader-thread.js'
import { inThreadBatches } from '../../src/nova/db-import/import-batch-reader.js'
import { toImportBatch } from '../../src/nova/db-import/nova-records.js'
import type { ImportBatchWriter } from '../../src/store/import-batch-writer.js'
import { batchOwners, chainAhead, sameCursor } from '../../src/store/sqlite/offline-batch-layout.js'
import { sanitizeDetails, sanitizeTraceback } from '../../src/security/sanitize-traceback.js'
import { openOfflineStore } from '../../src/store/open-offline-store.js'
import { openStore } from '../../src/store/open-store.js'
import { REQUIRE_BACKENDS, serverProblem } from '../helpers/backends.js'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'
import {
  insertNovaRows,
  mysqlExec,
  novaMysqlCell,
  novaSkip,
  novaSqliteCell,
  sqliteExec,
  type NovaEvent,
  type NovaRows,
} from '../helpers/nova-cell.js'
import { runCli } from '../helpers/run-cli.js'
import { writerTag } from '../../src/security/writer-tag.js'

const skip = novaSkip()

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nova-import-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const two = (n: number) => String(n).padStart(2, '0')

/**
 * A cell's history: `instances` instances (the last one deleted), each with `perInstance` actions
 * of three events; every fourth action failed with a traceback that carries a password and a
 * home directory, and the last action of each instance is still running. Ids and uuids start
 * from `cell * 1000` so that cells do not collide. `fraction`: Nova on SQLite keeps microseconds,
 * on MySQL (DATETIME) whole seconds.
 */
function novaHistory(
  cell: number,
  instances: number,
  perInstance: number,
  fraction: boolean,
): NovaRows {
  const rows: NovaRows = { instances: [], actions: [], events: [] }
  const time = (s: number) =>
    `2024-03-0${1 + cell} ${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` +
    (fraction ? `.${String((s * 7919) % 1000000).padStart(6, '0')}` : '')
  let eventId = cell * 100000
  for (let i = 0; i < instances; i++) {
    const id = cell * 1000 + i + 1
    const uuid = `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`
    const deleted = i === instances - 1
    rows.instances.push({
      id,
      uuid,
      display_name: `vm-${id}`,
      project_id: `project-${i % 2}`,
      user_id: 'owner-user',
      created_at: time(0),
      updated_at: time(5000),
      deleted_at: deleted ? time(9000) : null,
      deleted: deleted ? id : 0,
    })
    for (let k = 0; k < perInstance; k++) {
      const actionId = cell * 10000 + i * perInstance + k + 1
      const t0 = 10 * (i * perInstance + k) + 1
      const failed = k % 4 === 3
      const running = k === perInstance - 1
      rows.actions.push({
        id: actionId,
        action: ['create', 'stop', 'start', 'reboot'][k % 4]!,
        instance_uuid: uuid,
        request_id: `req-${cell}-${i}-${k}`,
        user_id: `user-${k % 3}`,
        project_id: `initiator-${k % 2}`,
        start_time: time(t0),
        finish_time: null,
        message: failed ? 'Error' : null,
        created_at: time(t0),
        updated_at: time(t0 + 3),
      })
      for (let e = 0; e < 3; e++) {
        const last = e === 2
        const unfinished = running && last
        rows.events.push({
          id: ++eventId,
          action_id: actionId,
          event: `compute_step_${e}`,
          start_time: time(t0 + e),
          finish_time: unfinished ? null : time(t0 + e + 1),
          result: unfinished ? null : failed && last ? 'Error' : 'Success',
          traceback:
            failed && last
              ? 'Traceback (most recent call last):\n' +
                '  File "/home/stack/nova/nova/compute/manager.py", line 7, in f\n' +
                '    connect("mysql://nova:s3cretPW@db/nova")\nValueError: password=hunter2\n'
              : null,
          host: `compute-${e}`,
          details: failed && last ? 'ValueError: password=hunter2' : null,
          created_at: time(t0 + e),
          updated_at: unfinished ? null : time(t0 + e + 1),
        })
      }
    }
  }
  return rows
}

/** Nova's time text as the API shows it. */
function apiTime(value: string | null): string | null {
  if (value === null) return null
  const [date, clock] = value.split(' ')
  const [hms, frac = ''] = clock!.split('.')
  return `${date}T${hms}.${frac.padEnd(6, '0')}`
}

/**
 * ActionTrail's Nova API (2.84, as an admin) answers for every instance of `rows` what Nova's rows
 * say: each action once, newest first, with its events and sanitized failure texts.
 */
async function assertApiShows(t: TestContext, database: string, rows: NovaRows): Promise<void> {
  const h = await buildHarness(t, database)
  for (const instance of rows.instances) {
    const res = await h.app.inject({
      method: 'GET',
      url: `/v2.1/servers/${instance.uuid}/os-instance-actions`,
      headers: headers(TOKENS.admin, '2.84'),
    })
    assert.equal(res.statusCode, 200, res.body)
    const listed = (res.json() as { instanceActions: Record<string, unknown>[] }).instanceActions
    const expected = rows.actions
      .filter((a) => a.instance_uuid === instance.uuid)
      .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id)
    assert.deepEqual(
      listed,
      expected.map((a) => ({
        action: a.action,
        instance_uuid: a.instance_uuid,
        message: a.message,
        project_id: a.project_id,
        request_id: a.request_id,
        start_time: apiTime(a.start_time),
        updated_at: apiTime(a.updated_at),
        user_id: a.user_id,
      })),
    )
    for (const a of expected) {
      const shown = await h.app.inject({
        method: 'GET',
        url: `/v2.1/servers/${instance.uuid}/os-instance-actions/${a.request_id}`,
        headers: headers(TOKENS.admin, '2.84'),
      })
      assert.equal(shown.statusCode, 200, shown.body)
      const events = (shown.json() as { instanceAction: { events: Record<string, unknown>[] } })
        .instanceAction.events
      const novaEvents = rows.events
        .filter((e) => e.action_id === a.id)
        .sort((x, y) => y.created_at.localeCompare(x.created_at) || y.id - x.id)
      assert.deepEqual(
        events.map((e) => [
          e.event,
          e.start_time,
          e.finish_time,
          e.result,
          e.traceback,
          e.host,
          e.details,
        ]),
        novaEvents.map((e) => [
          e.event,
          apiTime(e.start_time),
          apiTime(e.finish_time),
          e.result,
          e.traceback === null ? null : sanitizeTraceback(e.traceback),
          e.host,
          e.details === null ? null : sanitizeDetails(e.details),
        ]),
      )
      for (const e of events) {
        assert.doesNotMatch(String(e.traceback), /hunter2|s3cretPW|\/home\/stack/)
        assert.doesNotMatch(String(e.details), /hunter2/)
      }
    }
  }
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')

describe('import --from-nova-db: SQLite cells', { skip }, () => {
  test('the Nova API shows what Nova recorded; a second run adds nothing; Nova is not written', async (t) => {
    const dir = tempDir(t)
    const cell = novaSqliteCell(dir)
    const rows = novaHistory(1, 3, 8, true)
    const w = sqliteExec(cell)
    await insertNovaRows(w.exec, rows)
    w.close()
    const before = sha(cell)
    const db = join(dir, 'trail.db')
    const first = await runCli(['import', '--from-nova-db', `sqlite:${cell}`, '--db', db])
    assert.equal(first.code, 0, first.stderr)
    assert.match(
      first.stdout,
      /imported: 24 actions new, 0 already there, 0 skipped; 3 instances new/,
    )
    const again = await runCli(['import', '--from-nova-db', `sqlite:///${cell}`, '--db', db])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /imported: 0 actions new, 24 already there/)
    assert.equal(sha(cell), before, "Nova's database is unchanged")
    await assertApiShows(t, db, rows)
    // The deleted instance is kept as deleted (its actions stay readable, as at 2.21+).
    const store = await openStore(db)
    t.after(() => store.close())
    const gone = await store.getInstance(rows.instances[2]!.uuid)
    assert.equal(gone?.deletedAt, apiTime(rows.instances[2]!.deleted_at))
    const [one] = await store.listActions(rows.instances[0]!.uuid, { limit: 1 })
    // The same tag as the API importer's records: one source, one writer (src/nova/nova-writers.ts).
    const key = await store.writerTagKey?.()
    assert.ok(key)
    assert.equal(one?.writtenBy, writerTag(key, 'nova-import'))
  })

  test('an interrupted import resumes from its checkpoint', async (t) => {
    const dir = tempDir(t)
    const cell = novaSqliteCell(dir)
    const rows = novaHistory(2, 2, 10, true)
    const w = sqliteExec(cell)
    await insertNovaRows(w.exec, rows)
    w.close()
    const db = join(dir, 'trail.db')
    const checkpointPath = join(dir, 'checkpoint.json')
    const store = await openStore(db)
    t.after(() => store.close())

    // First run: stopped after its second batch of 3 actions.
    const controller = new AbortController()
    let batches = 0
    const source = await openNovaCell(`sqlite:${cell}`)
    const first = await importNovaCells({
      store,
      cells: [source],
      checkpoint: await fileCheckpoint(checkpointPath),
      batchSize: 3,
      signal: controller.signal,
      onProgress: () => {
        if (++batches === 2) controller.abort()
      },
    })
    await source.close()
    assert.equal(first.actions.created, 6)
    const saved = JSON.parse(readFileSync(checkpointPath, 'utf8')) as {
      cells: Record<string, { actionsAfter: number }>
    }
    assert.equal(saved.cells[cell]?.actionsAfter, rows.actions[5]!.id)

    // Second run from the file: reads only what is left.
    const again = await openNovaCell(`sqlite:${cell}`)
    const second = await importNovaCells({
      store,
      cells: [again],
      checkpoint: await fileCheckpoint(checkpointPath),
      batchSize: 3,
    })
    await again.close()
    assert.deepEqual(second.actions, { created: 14, existing: 0, skipped: 0 })
    await store.close()
    await assertApiShows(t, db, rows)
  })

  test('two cells in one run', async (t) => {
    const dir = tempDir(t)
    const cells = [novaSqliteCell(dir, 'cell1.sqlite'), novaSqliteCell(dir, 'cell2.sqlite')]
    const histories = [novaHistory(3, 2, 5, true), novaHistory(4, 3, 4, true)]
    for (const [i, path] of cells.entries()) {
      const w = sqliteExec(path)
      await insertNovaRows(w.exec, histories[i]!)
      w.close()
    }
    const db = join(dir, 'trail.db')
    const checkpoint = join(dir, 'cp.json')
    const args = ['import', '--from-nova-db', ...cells.map((c) => `sqlite:${c}`), '--db', db]
    const r = await runCli([...args, '--checkpoint', checkpoint])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /imported: 22 actions new, 0 already there, 0 skipped; 5 instances new/)
    // Both cells are in the checkpoint: a resumed run has nothing left to read.
    const again = await runCli([...args, '--checkpoint', checkpoint])
    assert.match(
      again.stdout,
      /imported: 0 actions new, 0 already there, 0 skipped; 0 instances new/,
    )
    await assertApiShows(t, db, {
      instances: histories.flatMap((h) => h.instances),
      actions: histories.flatMap((h) => h.actions),
      events: histories.flatMap((h) => h.events),
    })
  })

  test('bad URLs are one-line usage errors, and create nothing', async (t) => {
    const db = join(tempDir(t), 'trail.db')
    const r = await runCli(['import', '--from-nova-db', 'http://nova/db', '--db', db])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^actiontrail: a Nova database URL is mysql:\/\//)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
    const missing = await runCli([
      'import',
      '--from-nova-db',
      'sqlite:/nonexistent/nova.sqlite',
      '--db',
      db,
    ])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /^actiontrail: cannot open the Nova database/)
    assert.equal(existsSync(db), false, "ActionTrail's database is not created")
  })
})

describe('import --from-nova-db: the reader thread of an SQLite cell', { skip }, () => {
  test('imports exactly what the in-thread reader does', async (t) => {
    const dir = tempDir(t)
    const rows = novaHistory(5, 3, 7, true)
    const cell = await sqliteCellWith(dir, rows)
    const stores = { thread: join(dir, 'thread.db'), inThread: join(dir, 'in-thread.db') }
    for (const [name, readerThread] of [
      ['thread', true],
      ['inThread', false],
    ] as const) {
      const store = await openStore(stores[name])
      const source = openSqliteCell(cell, { readerThread })
      assert.equal(source.batches !== undefined, readerThread)
      // Batches of 2: many batches, read ahead past the ones written.
      const summary = await importNovaCells({
        store,
        cells: [source],
        checkpoint: memoryCheckpoint(),
        batchSize: 2,
      })
      await source.close()
      await store.close()
      assert.deepEqual(summary.actions, { created: 21, existing: 0, skipped: 0 })
    }
    assert.deepEqual(storeContents(stores.thread), storeContents(stores.inThread))
    await assertApiShows(t, stores.thread, rows)
  })

  test('each instance goes to the writer once, with the first batch that names it', async (t) => {
    const dir = tempDir(t)
    // 3 instances with 7 actions each, interleaved by id: every batch of 2 names two of them.
    const rows = novaHistory(6, 3, 7, true)
    const cell = await sqliteCellWith(dir, rows)
    for (const readerThread of [true, false]) {
      const source = openSqliteCell(cell, { readerThread })
      t.after(() => source.close())
      const reader = source.batches?.(0, 2) ?? inThreadBatches(source, 0, 2)
      const carried: string[] = []
      const named = new Set<string>()
      for (let batch = await reader.next(); batch; batch = await reader.next()) {
        const uuids = batch.instances.map((i) => i.uuid)
        carried.push(...uuids)
        for (const a of batch.actions)
          if (!named.has(a.instanceUuid)) {
            named.add(a.instanceUuid)
            assert.ok(
              uuids.includes(a.instanceUuid),
              `${a.instanceUuid} comes with its first batch`,
            )
          }
      }
      await reader.close()
      assert.equal(named.size, 3)
      assert.deepEqual([...carried].sort(), [...named].sort(), `readerThread ${readerThread}`)
    }
  })

  test('a thread that cannot open the cell fails the import with the reason', async (t) => {
    const dir = tempDir(t)
    const cell = await sqliteCellWith(dir, novaHistory(7, 2, 3, true))
    const store = await openStore(join(dir, 'trail.db'))
    t.after(() => store.close())
    // Opened here, then gone: this thread's connection still reads it, the reader's cannot open it.
    const source = await openNovaCell(`sqlite:${cell}`)
    rmSync(cell)
    await assert.rejects(
      importNovaCells({ store, cells: [source], checkpoint: memoryCheckpoint() }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'invalid_input')
        assert.match(err.message, /cannot open the Nova database/)
        return true
      },
    )
    await source.close()
  })
})

/** A cell with `rows` in it, in `dir`. */
async function sqliteCellWith(dir: string, rows: NovaRows, name?: string): Promise<string> {
  const cell = novaSqliteCell(dir, name)
  const w = sqliteExec(cell)
  await insertNovaRows(w.exec, rows)
  w.close()
  return cell
}

/**
 * What an import leaves in an SQLite store: the schema (every table and index as sqlite_master
 * has it) and every row of the tables it writes, in key order. `written_by`/`finished_by` are
 * left out: each store keys its writer tags with its own random key.
 */
function storeContents(path: string): unknown {
  const db = new Database(path, { readonly: true })
  try {
    // Writer tags are keyed per store, and the hash chain's digests and links cover them: those
    // differ between two stores by design (each store's own chain is checked by verify).
    const rows = (table: string, order: string) =>
      (
        db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all() as Record<string, unknown>[]
      ).map(({ written_by: _w, finished_by: _f, digest: _d, link: _l, ...rest }) => rest)
    return {
      schema: db
        .prepare(
          "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name",
        )
        .all(),
      journal: db.pragma('journal_mode', { simple: true }),
      instances: rows('instances', 'uuid'),
      actions: rows('instance_actions', 'id'),
      events: rows('instance_actions_events', 'id'),
      changes: rows('changes', 'position'),
      head: rows('change_head', 'id'),
    }
  } finally {
    db.close()
  }
}

/** The indexes of an SQLite store, by name. */
function indexNames(path: string): string[] {
  const db = new Database(path, { readonly: true })
  try {
    return db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
      .pluck()
      .all() as string[]
  } finally {
    db.close()
  }
}

describe('import --from-nova-db --offline: an SQLite store', { skip }, () => {
  test('leaves the store exactly as an online import does; a second run adds nothing', async (t) => {
    const dir = tempDir(t)
    const rows = novaHistory(6, 3, 8, true)
    const cell = await sqliteCellWith(dir, rows)
    const online = join(dir, 'online.db')
    const offline = join(dir, 'offline.db')
    const a = await runCli(['import', '--from-nova-db', `sqlite:${cell}`, '--db', online])
    assert.equal(a.code, 0, a.stderr)
    const b = await runCli([
      'import',
      '--from-nova-db',
      `sqlite:${cell}`,
      '--db',
      offline,
      '--offline',
    ])
    assert.equal(b.code, 0, b.stderr)
    assert.equal(b.stdout, a.stdout)
    assert.match(b.stderr, /search indexes rebuilt/)
    assert.deepEqual(storeContents(offline), storeContents(online))
    const again = await runCli([
      'import',
      '--from-nova-db',
      `sqlite:${cell}`,
      '--db',
      offline,
      '--offline',
    ])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /imported: 0 actions new, 24 already there/)
    await assertApiShows(t, offline, rows)
    // The offline load sealed what it wrote: the hash chain verifies (issue 13).
    const verified = await runCli(['verify', '--db', offline])
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
  })

  test('into a store with history: ids and change positions go on exactly as online', async (t) => {
    const dir = tempDir(t)
    const earlier = novaHistory(5, 2, 3, true)
    // The second cell repeats some of the first's actions (already there) and has more than one
    // part of 256 actions in a batch (a part's actions, then its events, take the positions).
    const later = novaHistory(6, 3, 100, true)
    const repeated = earlier.actions.slice(0, 4)
    // One repeated action has a step the first cell lacked: it is merged into the stored one.
    const extra = {
      ...(earlier.events.find((e) => e.action_id === repeated[0]!.id) as NovaEvent),
      id: 1_000_000,
      event: 'conductor_migrate_server',
      host: null,
    }
    const second: NovaRows = {
      instances: [...earlier.instances, ...later.instances],
      actions: [...repeated, ...later.actions],
      events: [
        ...earlier.events.filter((e) => repeated.some((a) => a.id === e.action_id)),
        extra,
        ...later.events,
      ],
    }
    const cells = [
      await sqliteCellWith(dir, earlier, 'cell1.sqlite'),
      await sqliteCellWith(dir, second, 'cell2.sqlite'),
    ]
    const stores = [join(dir, 'online.db'), join(dir, 'offline.db')]
    const outputs: string[] = []
    for (const db of stores) {
      const first = await runCli(['import', '--from-nova-db', `sqlite:${cells[0]}`, '--db', db])
      assert.equal(first.code, 0, first.stderr)
      // The newest action deleted (as by a purge): AUTOINCREMENT never hands its id out again.
      const w = new Database(db)
      w.exec(
        'DELETE FROM changes WHERE action_id = (SELECT max(id) FROM instance_actions); ' +
          'DELETE FROM instance_actions_events WHERE action_id = ' +
          '(SELECT max(id) FROM instance_actions); ' +
          'DELETE FROM instance_actions WHERE id = (SELECT max(id) FROM instance_actions)',
      )
      w.close()
      const args = ['import', '--from-nova-db', `sqlite:${cells[1]}`, '--db', db]
      const r = await runCli(db === stores[1] ? [...args, '--offline'] : args)
      assert.equal(r.code, 0, r.stderr)
      outputs.push(r.stdout)
    }
    assert.match(outputs[0]!, /imported: 300 actions new, 4 already there, 0 skipped/)
    assert.equal(outputs[1], outputs[0])
    assert.deepEqual(storeContents(stores[1]!), storeContents(stores[0]!))
    const merged = new Database(stores[1]!, { readonly: true })
    t.after(() => merged.close())
    assert.equal(
      (
        merged
          .prepare('SELECT count(*) AS n FROM instance_actions_events WHERE event = ?')
          .get('conductor_migrate_server') as { n: number }
      ).n,
      1,
      'the step only the second cell has is merged into the action already imported',
    )
  })

  test('is refused while another process has the store open, which is left as it was', async (t) => {
    const dir = tempDir(t)
    const cell = await sqliteCellWith(dir, novaHistory(7, 1, 2, true))
    const db = join(dir, 'trail.db')
    // As a running server holds it.
    const server = await openStore(db)
    t.after(() => server.close())
    const indexes = indexNames(db)
    const r = await runCli(
      ['import', '--from-nova-db', `sqlite:${cell}`, '--db', db, '--offline'],
      {
        ACTIONTRAIL_SQLITE_LOCK_WAIT_MS: '100',
      },
    )
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^actiontrail: the store is open in another process .*needs it alone\n$/)
    assert.deepEqual(indexNames(db), indexes)
    // The store still takes an online import beside the server.
    const online = await runCli(['import', '--from-nova-db', `sqlite:${cell}`, '--db', db])
    assert.match(online.stdout, /imported: 2 actions new/)
  })

  test('interrupted (in the load, then in the rebuild), it finishes when run again', async (t) => {
    const dir = tempDir(t)
    const rows = novaHistory(8, 2, 10, true)
    const cell = await sqliteCellWith(dir, rows)
    const db = join(dir, 'trail.db')
    const checkpointPath = join(dir, 'checkpoint.json')
    const online = join(dir, 'online.db')
    // The same batches online: change positions follow the batches (a batch's actions, then
    // their events).
    const reference = await runCli([
      'import',
      '--from-nova-db',
      `sqlite:${cell}`,
      '--db',
      online,
      '--batch-size',
      '3',
    ])
    assert.equal(reference.code, 0, reference.stderr)
    const allIndexes = indexNames(online)

    // 1. Stopped after two batches of 3 actions: the indexes stay dropped, their definitions kept.
    const first = await openOfflineStore(db)
    const controller = new AbortController()
    let batches = 0
    const source = await openNovaCell(`sqlite:${cell}`)
    const done = await importNovaCells({
      store: first.store,
      importer: first.importer,
      cells: [source],
      checkpoint: await fileCheckpoint(checkpointPath),
      batchSize: 3,
      signal: controller.signal,
      onProgress: () => {
        if (++batches === 2) controller.abort()
      },
    })
    await source.close()
    await first.close()
    assert.equal(done.actions.created, 6)
    const missing = first.missingIndexes
    assert.ok(missing > 20, `${missing} indexes dropped`)
    assert.equal(indexNames(db).length, allIndexes.length - missing)

    // 2. The rest loaded, and the rebuild stopped after three indexes.
    const second = await openOfflineStore(db)
    assert.equal(second.missingIndexes, missing, 'nothing dropped twice, nothing forgotten')
    const again = await openNovaCell(`sqlite:${cell}`)
    const rest = await importNovaCells({
      store: second.store,
      importer: second.importer,
      cells: [again],
      checkpoint: await fileCheckpoint(checkpointPath),
      batchSize: 3,
    })
    await again.close()
    assert.deepEqual(rest.actions, { created: 14, existing: 0, skipped: 0 })
    await assert.rejects(
      second.finish((_name, built) => {
        if (built === 3) throw new Error('interrupted')
      }),
      /interrupted/,
    )
    await second.close()
    assert.equal(indexNames(db).length, allIndexes.length - missing + 3)

    // 3. The same command again: nothing left to load, every index rebuilt, nothing left over.
    const last = await runCli([
      'import',
      '--from-nova-db',
      `sqlite:${cell}`,
      '--db',
      db,
      '--offline',
      '--checkpoint',
      checkpointPath,
      '--batch-size',
      '3',
    ])
    assert.equal(last.code, 0, last.stderr)
    assert.match(last.stdout, /imported: 0 actions new, 0 already there/)
    assert.deepEqual(indexNames(db), allIndexes)
    assert.deepEqual(storeContents(db), storeContents(online))
    await assertApiShows(t, db, rows)
  })

  test('the writer stores a plan that fits the batch, and computes the chain itself when none fits', async (t) => {
    const dir = tempDir(t)
    const rows = novaHistory(3, 2, 6, true)
    const cell = openSqliteCell(await sqliteCellWith(dir, rows), { readerThread: false })
    t.after(() => cell.close())
    const first = toImportBatch(await cell.actions(0, 4))
    const second = toImportBatch(await cell.actions(first.lastId, 4))
    const third = toImportBatch(await cell.actions(second.lastId, 4))
    const db = join(dir, 'trail.db')
    const offline = await openOfflineStore(db)
    const tag = 'nova-import-test'

    // 1. A plan from where the store stands, with its first digest changed: the writer stores the
    // plan as it is (it does not compute what it was given).
    const start = await offline.importer.chainCursor!()
    const planned = chainAhead(batchOwners(first.instances), first.actions, tag, start)!
    const forged = { ...planned.ahead, hex: 'f'.repeat(64) + planned.ahead.hex.slice(64) }
    const one = await offline.importer.importBatch(first.instances, first.actions, tag, forged)
    assert.deepEqual(one.cursor, planned.after, 'it ends where the plan said')

    // 2. A plan made from one position further on does not fit: the writer computes the chain
    // itself, which is the plan from the right place.
    const right = chainAhead(batchOwners(second.instances), second.actions, tag, one.cursor!)!
    const wrong = chainAhead(batchOwners(second.instances), second.actions, tag, {
      ...one.cursor!,
      position: one.cursor!.position + 1,
    })!
    assert.notEqual(wrong.ahead.hex, right.ahead.hex)
    const two = await offline.importer.importBatch(
      second.instances,
      second.actions,
      tag,
      wrong.ahead,
    )
    assert.deepEqual(two.cursor, right.after)

    // 3. A plan from the right place that skips an action the writer does not (its instance
    // unknown to the planner), with the same number of change rows and its first digest forged:
    // refused, the writer's own chain is stored.
    const fits = chainAhead(batchOwners(third.instances), third.actions, tag, two.cursor!)!
    assert.deepEqual(fits.ahead.skips, [])
    const skipping = {
      ...fits.ahead,
      skips: [0],
      hex: 'f'.repeat(64) + fits.ahead.hex.slice(64),
    }
    const three = await offline.importer.importBatch(third.instances, third.actions, tag, skipping)
    assert.deepEqual(three.cursor, fits.after)
    await offline.close()

    const hexOf = (ahead: { changes: number; hex: string }) =>
      Array.from({ length: ahead.changes }, (_, k) => [
        ahead.hex.slice(k * 128, k * 128 + 64),
        ahead.hex.slice(k * 128 + 64, k * 128 + 128),
      ])
    const read = new Database(db, { readonly: true })
    t.after(() => read.close())
    const stored = read
      .prepare('SELECT digest, link FROM changes WHERE position >= ? ORDER BY position')
      .raw()
      .all(start.position) as string[][]
    assert.deepEqual(stored, [
      ['f'.repeat(64), planned.ahead.hex.slice(64, 128)],
      ...hexOf(planned.ahead).slice(1),
      ...hexOf(right.ahead),
      ...hexOf(fits.ahead),
    ])
  })

  test('the reader thread plans each batch’s chain, and again from the writer’s place after a misfit', async (t) => {
    const dir = tempDir(t)
    const rows = novaHistory(4, 6, 20, true)
    const cell = await sqliteCellWith(dir, rows)
    const db = join(dir, 'trail.db')
    const offline = await openOfflineStore(db)
    // Whether each action batch came with a plan made from where the writer stood before it.
    const fits: boolean[] = []
    const importer: ImportBatchWriter = {
      chainCursor: () => offline.importer.chainCursor!(),
      async importBatch(instances, actions, writer, ahead) {
        if (actions.length === 0) return offline.importer.importBatch(instances, actions, writer)
        const before = await offline.importer.chainCursor!()
        // The third batch is written under another writer tag than its plan was made for.
        const tag = fits.length === 2 ? 'another-writer' : writer
        fits.push(ahead !== undefined && ahead.tag === tag && sameCursor(ahead.from, before))
        return offline.importer.importBatch(instances, actions, tag, ahead)
      },
    }
    const source = await openNovaCell(`sqlite:${cell}`)
    const summary = await importNovaCells({
      store: offline.store,
      importer,
      cells: [source],
      checkpoint: memoryCheckpoint(),
      batchSize: 10,
    })
    await source.close()
    await offline.finish()
    await offline.close()
    assert.deepEqual(summary.actions, { created: 120, existing: 0, skipped: 0 })
    assert.equal(fits.length, 12)
    assert.deepEqual(fits.slice(0, 3), [true, true, false])
    // The batches planned before the writer's word came back do not fit either; then all do.
    assert.ok(fits.filter((f) => !f).length <= 1 + READ_AHEAD + 1, fits.join())
    assert.deepEqual(fits.slice(-5), [true, true, true, true, true], fits.join())
    const verified = await runCli(['verify', '--db', db])
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
  })
})

const mysqlProblem = skip || (await serverProblem('mysql'))
if (mysqlProblem && REQUIRE_BACKENDS)
  test('import --from-nova-db: a MariaDB cell (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)', () =>
    assert.fail(mysqlProblem))

describe('import --from-nova-db: a MariaDB cell', { skip: mysqlProblem ?? false }, () => {
  test('the Nova API shows what Nova recorded, and a second run adds nothing', async (t) => {
    const url = await novaMysqlCell(t)
    const rows = novaHistory(5, 3, 6, false)
    const w = await mysqlExec(url)
    await insertNovaRows(w.exec, rows)
    await w.close()
    const dir = tempDir(t)
    const db = join(dir, 'trail.db')
    const nova = url.replace(/^mysql:/, 'mysql+pymysql:') + '?charset=utf8'
    const first = await runCli(['import', '--from-nova-db', nova, '--db', db])
    assert.equal(first.code, 0, first.stderr)
    assert.match(
      first.stdout,
      /imported: 18 actions new, 0 already there, 0 skipped; 3 instances new/,
    )
    const again = await runCli([
      'import',
      '--from-nova-db',
      url.replace(/^mysql:/, 'mariadb:'),
      '--db',
      db,
    ])
    assert.match(again.stdout, /imported: 0 actions new, 18 already there/)
    await assertApiShows(t, db, rows)
  })
})
