/**
 * The bulk import's path for an action that exists already (import-program.ts): the live
 * follower, the other importer or an earlier batch recorded it first. The imported action and each
 * of its events are merged in with the merge programs (merge-programs.ts), the same lattice the
 * follower writes through, so the three Nova sources give one record whatever their order: events
 * the store lacks (the conductor's and the API's, which no notification reports) are added, one
 * event per (action, event, host) is kept, times move outward, a failure sticks, created_at keeps
 * the earliest. Rare in practice (only the overlap of the sources), so per-record statements are
 * fine here; absent actions keep the multi-row path.
 */
import type { Timestamp } from '../../domain/timestamp.js'
import type { ImportedAction } from '../action-store.js'
import { actionMerge, eventMerge } from './merge-programs.js'
import { touch, type WriteProgram } from './sql-step.js'
import { actionChange, findAction, type ActionIdCache } from './write-programs.js'

/** Merges `a` and its events into the existing action of (instance, request id). */
export function* mergeImportedAction(
  a: ImportedAction,
  writer: string | undefined,
  cache: ActionIdCache,
): WriteProgram<void> {
  const key = { instanceUuid: a.instanceUuid, requestId: a.requestId }
  const tag = writer === undefined ? {} : { writer }
  // The change rows are stamped with the source's own time, as the multi-row path does.
  const at = a.updatedAt ?? a.createdAt
  yield* actionMerge(
    {
      ...key,
      action: a.action,
      userId: a.userId,
      projectId: a.projectId,
      startTime: a.startTime,
      finishTime: a.finishTime,
      replaces: a.replaces ?? [],
      createdAt: at,
      sourceCreatedAt: a.createdAt,
      ...tag,
    },
    cache,
  )
  for (const e of a.events) {
    const failed = e.result === 'Error'
    yield* eventMerge(
      {
        ...key,
        event: e.event,
        host: e.host,
        startTime: e.startTime,
        finishTime: e.finishTime,
        result: e.finishTime === null && !failed ? null : (e.result ?? 'Success'),
        traceback: failed ? e.traceback : null,
        details: failed ? e.details : null,
        createdAt: e.updatedAt ?? e.createdAt,
        sourceCreatedAt: e.createdAt,
        ...tag,
      },
      cache,
    )
  }
  // Nova's own updated_at and "Error" message, as the multi-row path copies them: the merges
  // above only move updated_at to the latest start or finish time they saw.
  const merged = yield* findAction(a.instanceUuid, a.requestId)
  if (!merged) return
  const updatedAt = latest(merged.updatedAt, a.updatedAt)
  const failed = a.message !== null && merged.message === null
  if (updatedAt !== null && (failed || updatedAt !== merged.updatedAt)) {
    yield touch(merged.id, updatedAt, failed)
    // Noted even when the merges above noted nothing: the hash chain covers updated_at and
    // message, and a change without its note would read as tampering to verify.
    yield actionChange(merged.id, a.instanceUuid, at)
  }
}

function latest(a: Timestamp | null, b: Timestamp | null): Timestamp | null {
  return a === null || (b !== null && b > a) ? b : a
}
