/**
 * The server write executor's transaction handling, made deterministic: it runs here over a
 * SQLite Kysely instance whose trigger fails inserts on demand, standing in for the deadlocks and
 * lost races of a server database.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { isAppError } from '../../src/domain/errors.js'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { StoreWrite } from '../../src/store/action-store.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import type { Database } from '../../src/store/schema.js'
import { AsyncWriteExecutor, type ServerSql } from '../../src/store/write/async-write-executor.js'
import { expectRecord } from '../helpers/store-ops.js'

const UUID = '11111111-2222-4333-8444-555555555555'
const ts = (s: string) => `2026-01-01T00:00:${s}` as Timestamp

interface Rig {
  executor: AsyncWriteExecutor
  /** Failures still to inject, by request id. */
  failures: Map<string, number>
  /** Insert attempts seen, by request id. */
  attempts: Map<string, number>
}

async function rig(t: TestContext, retryable = true): Promise<Rig> {
  const native = new BetterSqlite3(':memory:')
  const failures = new Map<string, number>()
  const attempts = new Map<string, number>()
  native.function('inject_failure', (requestId: unknown) => {
    const id = String(requestId)
    attempts.set(id, (attempts.get(id) ?? 0) + 1)
    const left = failures.get(id) ?? 0
    if (left > 0) failures.set(id, left - 1)
    return left > 0 ? 1 : 0
  })
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) })
  t.after(() => db.destroy())
  await migrateToLatest(db as unknown as Kysely<unknown>)
  native.exec(`CREATE TRIGGER inject BEFORE INSERT ON instance_actions WHEN inject_failure(NEW.request_id) = 1
    BEGIN SELECT RAISE(ABORT, 'injected transient failure'); END`)
  const sql: ServerSql = {
    name: 'test database',
    translate: (s) => s,
    lockActionSql: 'SELECT id FROM instance_actions WHERE id = ?',
    advanceHeadSql: ['UPDATE change_head SET last = last + ? WHERE id = 1 RETURNING last, link'],
    insertId: (r) => Number(r.insertId ?? 0n),
    isRetryable: (err) => retryable && err instanceof Error && err.message.includes('injected'),
  }
  const executor = new AsyncWriteExecutor(db, sql, { maxAttempts: 4, backoffMs: 1 })
  await executor.execute([
    {
      op: 'instance_put',
      values: { uuid: UUID, name: 'vm', projectId: 'p', userId: 'u', now: ts('00.000000') },
    },
  ])
  return { executor, failures, attempts }
}

function startOp(requestId: string): StoreWrite {
  return {
    op: 'action_start',
    values: {
      instanceUuid: UUID,
      action: 'reboot',
      requestId,
      userId: 'u',
      projectId: 'p',
      startTime: ts('01.000000'),
      createdAt: ts('01.000000'),
    },
  }
}

test('a transient failure retries the whole transaction, which then commits', async (t) => {
  const { executor, failures, attempts } = await rig(t)
  failures.set('req-2', 2)
  const outcomes = await executor.execute([startOp('req-1'), startOp('req-2')])
  assert.deepEqual(
    outcomes.map((o) => expectRecord(o, 'action').created),
    [true, true],
  )
  assert.equal(attempts.get('req-2'), 3)
  // req-1 was inserted in each attempt but committed once.
  const again = await executor.execute([startOp('req-1')])
  assert.equal(expectRecord(again[0], 'action').created, false)
})

test('after the bound the write fails with store_unavailable, and nothing of it remains', async (t) => {
  const { executor, failures, attempts } = await rig(t)
  failures.set('boom', 100)
  await assert.rejects(
    executor.execute([startOp('req-1'), startOp('boom')]),
    (e) => isAppError(e, 'store_unavailable') && e.cause instanceof Error,
  )
  assert.equal(attempts.get('boom'), 4)
  // The id cached for req-1 in the rolled-back attempts is forgotten: its event has no parent.
  const [outcome] = await executor.execute([
    {
      op: 'event_start',
      values: {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'e',
        host: null,
        startTime: ts('02.000000'),
        createdAt: ts('02.000000'),
      },
    },
  ])
  assert.ok(outcome && !outcome.ok && outcome.error.code === 'action_not_found')
})

test('a failure that is not transient rejects at once, as it is', async (t) => {
  const { executor, failures, attempts } = await rig(t, false)
  failures.set('boom', 1)
  await assert.rejects(
    executor.execute([startOp('boom')]),
    (e) => !isAppError(e) && /injected/.test((e as Error).message),
  )
  assert.equal(attempts.get('boom'), 1)
})

test("an expected failure before a write is that write's outcome; the others commit", async (t) => {
  const { executor } = await rig(t)
  const outcomes = await executor.execute([
    startOp('req-1'),
    {
      op: 'action_finish',
      values: { instanceUuid: UUID, requestId: 'nope', finishTime: ts('02.000000') },
    },
    {
      op: 'event_start',
      values: {
        instanceUuid: UUID,
        requestId: 'req-1',
        event: 'e',
        host: null,
        startTime: ts('02.000000'),
        createdAt: ts('02.000000'),
      },
    },
  ])
  assert.deepEqual(
    outcomes.map((o) => (o.ok ? 'ok' : o.error.code)),
    ['ok', 'action_not_found', 'ok'],
  )
})
