/**
 * For the backup tests (issue 13): a writer that keeps writing through the store's real write path
 * while a backup runs, the rows of a database read back, and the checks that a copy is one
 * consistent state of its source: no event without its action, no action without its instance,
 * change feed positions contiguous and ending at the head, every change the source's own.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { Kysely } from 'kysely'
import { fromEpochMicros } from '../../src/domain/timestamp.js'
import { openDatabase } from '../../src/store/open-store.js'
import type { Database } from '../../src/store/schema.js'
import type { TestStore } from './store-ops.js'

/** A temporary directory for one test, removed after it. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-backup-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A writer running in the background. */
export interface BackgroundWriter {
  /** Actions fully written so far. */
  written(): number
  /** Resolves once `n` actions are written (or rejects with the writer's failure). */
  reach(n: number): Promise<void>
  /** Stops after the write in flight; resolves with the actions written, rejects on a write failure. */
  stop(): Promise<number>
}

const BASE_MICROS = 1_767_261_600_000_000n // 2026-01-01T10:00:00Z
const uuidOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

/**
 * Writes actions without pause, each as five separate writes (its instance every tenth action,
 * action start, event start, event finish, action finish), yielding to the event loop between
 * writes so that work in the same process (a backup's steps) runs between them.
 */
export function startWriter(store: TestStore, { first = 0 } = {}): BackgroundWriter {
  let stopped = false
  let count = 0
  const waiters: { n: number; resolve: () => void }[] = []
  const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve))
  const run = (async () => {
    for (let i = first; !stopped; i++) {
      const at = fromEpochMicros(BASE_MICROS + BigInt(i) * 1_000_000n)
      const instanceUuid = uuidOf(Math.floor(i / 10))
      const requestId = `req-backup-${i}`
      if (i % 10 === 0 || i === first)
        await store.putInstance({
          uuid: instanceUuid,
          name: `vm${Math.floor(i / 10)}`,
          projectId: 'p',
          userId: 'u',
          now: at,
        })
      await yieldLoop()
      await store.startAction({
        instanceUuid,
        action: 'reboot',
        requestId,
        userId: 'u',
        projectId: 'p',
        startTime: at,
        createdAt: at,
      })
      await yieldLoop()
      const event = { instanceUuid, requestId, event: 'compute_reboot_instance' }
      await store.startEvent({ ...event, host: 'h1', startTime: at, createdAt: at })
      await yieldLoop()
      await store.finishEvent({
        ...event,
        finishTime: at,
        result: 'Success',
        traceback: null,
        details: null,
        updatedAt: at,
      })
      await yieldLoop()
      await store.finishAction({ instanceUuid, requestId, finishTime: at })
      count++
      for (const w of waiters.filter((w) => count >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
      await yieldLoop()
    }
    return count
  })()
  return {
    written: () => count,
    reach: (n) =>
      count >= n
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ n, resolve })),
            run.then(() => assert.fail(`the writer stopped before ${n} actions`)),
          ]),
    stop: () => {
      stopped = true
      return run
    },
  }
}

/** Every row of the audit trail's tables, in key order. */
export interface TrailRows {
  instances: unknown[]
  actions: { id: unknown; instance_uuid: string }[]
  events: { id: unknown; action_id: unknown }[]
  changes: { position: unknown }[]
  head: unknown
}

/** Reads every row of the audit trail's tables. */
export async function trailRows(db: Kysely<Database>): Promise<TrailRows> {
  const head = await db.selectFrom('change_head').select('last').executeTakeFirst()
  return {
    instances: await db.selectFrom('instances').selectAll().orderBy('uuid').execute(),
    actions: await db.selectFrom('instance_actions').selectAll().orderBy('id').execute(),
    events: await db.selectFrom('instance_actions_events').selectAll().orderBy('id').execute(),
    changes: await db.selectFrom('changes').selectAll().orderBy('position').execute(),
    head: head?.last ?? 0,
  }
}

/** {@link trailRows} of an SQLite store file, opened and closed for the read. */
export async function fileRows(file: string): Promise<TrailRows> {
  const { db } = openDatabase(file)
  try {
    return await trailRows(db)
  } finally {
    await db.destroy()
  }
}

/**
 * Asserts that `copy` is one committed state of the database whose rows are now `source` (read
 * after the writes stopped): each table no larger, no orphan, change positions contiguous up to
 * the head, and each change the very row the source holds at that position.
 */
export function assertConsistentPrefix(copy: TrailRows, source: TrailRows): void {
  assert.ok(copy.instances.length <= source.instances.length, 'instances: more than the source')
  assert.ok(copy.actions.length <= source.actions.length, 'actions: more than the source')
  assert.ok(copy.events.length <= source.events.length, 'events: more than the source')
  const actionIds = new Set(copy.actions.map((a) => Number(a.id)))
  assert.deepEqual(
    copy.events.filter((e) => !actionIds.has(Number(e.action_id))),
    [],
    'events without their action',
  )
  const uuids = new Set(copy.instances.map((i) => (i as { uuid: string }).uuid))
  assert.deepEqual(
    copy.actions.filter((a) => !uuids.has(a.instance_uuid)),
    [],
    'actions without their instance',
  )
  const positions = copy.changes.map((c) => Number(c.position))
  assert.deepEqual(
    positions,
    positions.map((_, i) => i + 1),
    'change positions are not 1..n',
  )
  assert.equal(Number(copy.head), positions.length, 'change head is not the last position')
  assert.deepEqual(copy.changes, source.changes.slice(0, copy.changes.length))
}
