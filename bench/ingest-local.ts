/**
 * Ingest benchmark, local part: (a) the raw floor — the same final rows inserted with plain
 * prepared better-sqlite3 statements in batched transactions, WAL + synchronous=FULL; (b) the
 * recorder (ActionRecorder → ActionService → store, group commit) on a local SQLite file.
 * Exported for bench/ingest.ts, which prints the table.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { createActionService } from '../src/local-service.js'
import { ActionRecorder } from '../src/recorder/action-recorder.js'
import { openStore } from '../src/store/open-store.js'
import { migrateToLatest } from '../src/store/migrate.js'
import { openSqliteDatabase } from '../src/store/sqlite/sqlite-database.js'

/** Shape of the workload: per action, EVENTS_PER_ACTION events, each started and finished. */
export const EVENTS_PER_ACTION = 2

/** One measured line of the table. */
export interface Measurement {
  name: string
  seconds: number
  /** Rows (actions + events) in the database at the end. */
  rows: number
  /** Event operations (event starts + finishes) performed. */
  eventOps: number
  /** All write operations performed (action starts + event starts + finishes). */
  writeOps: number
}

function uuid(i: number): string {
  const hex = i.toString(16).padStart(12, '0')
  return `00000000-0000-4000-8000-${hex}`
}

function tempDb(): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-'))
  return {
    file: join(dir, 'bench.db'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

async function schemaOnly(file: string): Promise<void> {
  const { db } = openSqliteDatabase({ filename: file })
  await migrateToLatest(db)
  await db.destroy()
}

const INSTANCES = 100
const ts = (n: number) =>
  new Date(Date.UTC(2026, 0, 1) + n).toISOString().replace('Z', '000').slice(0, 26)

/**
 * A fresh database file with the schema, the benchmark's instances, and the durability settings
 * ActionTrail uses (WAL, synchronous=FULL, foreign keys), opened as a plain better-sqlite3 handle.
 */
async function rawDatabase(file: string): Promise<BetterSqlite3.Database> {
  await schemaOnly(file)
  const db = new BetterSqlite3(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = ON')
  const insInstance = db.prepare(
    'INSERT INTO instances (uuid, name, project_id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
  )
  db.transaction(() => {
    for (let i = 0; i < INSTANCES; i++) insInstance.run(uuid(i), `vm-${i}`, 'p', 'u', ts(0), ts(0))
  })()
  return db
}

const INSERT_ACTION =
  'INSERT INTO instance_actions (instance_uuid, action, request_id, user_id, project_id, ' +
  'start_time, finish_time, message, created_at, updated_at) ' +
  'VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)'

/** (a) Raw floor: the final rows, prepared statements, 1000 actions per transaction. */
export async function rawFloor(actions: number): Promise<Measurement> {
  const { file, cleanup } = tempDb()
  try {
    const db = await rawDatabase(file)
    const insAction = db.prepare(INSERT_ACTION)
    const insEvent = db.prepare(
      'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result, ' +
        'traceback, host, details, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?)',
    )
    const started = process.hrtime.bigint()
    const chunk = db.transaction((from: number, to: number) => {
      for (let n = from; n < to; n++) {
        const t = ts(n)
        const id = Number(
          insAction.run(uuid(n % INSTANCES), 'reboot', `req-${n}`, 'u', 'p', t, t, t)
            .lastInsertRowid,
        )
        for (let e = 0; e < EVENTS_PER_ACTION; e++)
          insEvent.run(id, `compute_step_${e}`, t, t, 'Success', 'compute-1', t, t)
      }
    })
    for (let n = 0; n < actions; n += 1000) chunk(n, Math.min(actions, n + 1000))
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    db.close()
    return {
      name: '(a) raw floor: prepared INSERTs, 1000 actions/txn',
      seconds,
      rows: actions * (1 + EVENTS_PER_ACTION),
      eventOps: actions * EVENTS_PER_ACTION * 2,
      writeOps: actions * (1 + EVENTS_PER_ACTION * 2),
    }
  } finally {
    cleanup()
  }
}

/**
 * (a') The same write sequence the recorder causes (start an action, start each event, finish it,
 * bump the action), as plain prepared statements in batched transactions: the SQL-level ceiling
 * of start-then-finish recording, without ActionTrail's code.
 */
export async function rawSequence(actions: number): Promise<Measurement> {
  const { file, cleanup } = tempDb()
  try {
    const db = await rawDatabase(file)
    const insAction = db.prepare(INSERT_ACTION)
    const insEvent = db.prepare(
      'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result, ' +
        'traceback, host, details, created_at, updated_at) ' +
        'VALUES (?, ?, ?, NULL, NULL, NULL, ?, NULL, ?, NULL)',
    )
    const finishEvent = db.prepare(
      'UPDATE instance_actions_events SET finish_time = ?, result = ?, updated_at = ? WHERE id = ?',
    )
    const bump = db.prepare('UPDATE instance_actions SET updated_at = ? WHERE id = ?')
    const started = process.hrtime.bigint()
    const chunk = db.transaction((from: number, to: number) => {
      for (let n = from; n < to; n++) {
        const t = ts(n)
        const id = Number(
          insAction.run(uuid(n % INSTANCES), 'reboot', `req-${n}`, 'u', 'p', t, t, t)
            .lastInsertRowid,
        )
        for (let e = 0; e < EVENTS_PER_ACTION; e++) {
          const eventId = Number(
            insEvent.run(id, `compute_step_${e}`, t, 'compute-1', t).lastInsertRowid,
          )
          bump.run(t, id)
          finishEvent.run(t, 'Success', t, eventId)
          bump.run(t, id)
        }
      }
    })
    for (let n = 0; n < actions; n += 200) chunk(n, Math.min(actions, n + 200))
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    db.close()
    return {
      name: "(a') raw SQL of the same write sequence (start, then finish), 1000 ops/txn",
      seconds,
      rows: actions * (1 + EVENTS_PER_ACTION),
      eventOps: actions * EVENTS_PER_ACTION * 2,
      writeOps: actions * (1 + EVENTS_PER_ACTION * 2),
    }
  } finally {
    cleanup()
  }
}

/** (b) The recorder on a local store, `concurrency` workers recording actions in parallel. */
export async function recorderLocal(actions: number, concurrency: number): Promise<Measurement> {
  const { file, cleanup } = tempDb()
  try {
    const store = await openStore(file)
    const service = createActionService(store)
    for (let i = 0; i < INSTANCES; i++)
      await service.putInstance({ uuid: uuid(i), name: `vm-${i}`, projectId: 'p', userId: 'u' })
    const recorder = new ActionRecorder({ writer: service, host: 'compute-1' })
    let next = 0
    const started = process.hrtime.bigint()
    const worker = async () => {
      for (let n = next++; n < actions; n = next++) {
        const ctx = { requestId: `req-${n}`, userId: 'u', projectId: 'p' }
        const instance = uuid(n % INSTANCES)
        await recorder.actionStart(ctx, instance, 'reboot')
        for (let e = 0; e < EVENTS_PER_ACTION; e++) {
          await recorder.withInstanceEvent(
            ctx,
            instance,
            `compute_step_${e}`,
            async () => undefined,
          )
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    await store.close()
    return {
      name: `(b) recorder, local SQLite store, ${concurrency} concurrent`,
      seconds,
      rows: actions * (1 + EVENTS_PER_ACTION),
      eventOps: actions * EVENTS_PER_ACTION * 2,
      writeOps: actions * (1 + EVENTS_PER_ACTION * 2),
    }
  } finally {
    cleanup()
  }
}
