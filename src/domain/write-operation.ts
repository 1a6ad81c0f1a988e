/**
 * One write of the write path, as a value: what the write API's single endpoints and `/v1/batch`
 * carry, and what the group committer coalesces. Each operation succeeds or fails on its own.
 */
import type {
  ActionFinishInput,
  ActionStartInput,
  EventFinishInput,
  EventStartInput,
  InstanceInput,
} from './action-writer.js'
import { AppError } from './errors.js'
import type { ActionEvent, Instance, InstanceAction } from './instance-action.js'

/** The operation names of the write API (`op` in a batch). */
export const WRITE_OPS = [
  'instance_put',
  'instance_delete',
  'action_start',
  'action_finish',
  'event_start',
  'event_finish',
] as const

/** A write operation name. */
export type WriteOpName = (typeof WRITE_OPS)[number]

/** A write operation with its (not yet validated) input. */
export type WriteOperation =
  | { op: 'instance_put'; input: InstanceInput }
  | { op: 'instance_delete'; input: { uuid: string } }
  | { op: 'action_start'; input: ActionStartInput }
  | { op: 'action_finish'; input: ActionFinishInput }
  | { op: 'event_start'; input: EventStartInput }
  | { op: 'event_finish'; input: EventFinishInput }

/** What a bulk import write did with its records (store/write/import-program.ts). */
export interface ImportCounts {
  /** Records written. */
  created: number
  /** Records that were already there (left as they were, or only marked deleted). */
  existing: number
  /** Records that could not be imported (an action of an unknown instance). */
  skipped: number
}

/** The record a successful operation leaves, by kind. */
export type WriteRecord =
  | { kind: 'import'; counts: ImportCounts }
  | { kind: 'instance'; instance: Instance }
  | { kind: 'action'; action: InstanceAction }
  | { kind: 'event'; event: ActionEvent }
  /** A message id recorded as applied (`created: false`: it had been seen before). */
  | { kind: 'receipt'; messageId: string }
  /** A request fault kept (`created: false`: already known); `failedEvents` events it failed now. */
  | { kind: 'fault'; failedEvents: number }
  /** Rows a retention write (archive, purge, prune) moved or deleted, by table (issue 13). */
  | { kind: 'retention'; counts: Record<string, number> }

/**
 * What became of one operation: applied (`created` tells a new record from an existing or updated
 * one, so a retried start reports 200 rather than 201), or failed with a typed error.
 */
export type WriteOutcome =
  { ok: true; created: boolean; record: WriteRecord } | { ok: false; error: AppError }

/**
 * The record a single write left, when it is of `kind`. A failed write throws its own typed error
 * (so a caller of one write sees the same error as the API reports); no outcome, or a record of
 * another kind, is a bug and throws `internal`.
 */
export function recordOf<K extends WriteRecord['kind']>(
  outcome: WriteOutcome | undefined,
  kind: K,
): Extract<WriteRecord, { kind: K }> {
  if (!outcome) throw new AppError('internal', 'write produced no outcome')
  if (!outcome.ok) throw outcome.error
  if (outcome.record.kind !== kind)
    throw new AppError('internal', `write produced a ${outcome.record.kind}, not a ${kind}`)
  return outcome.record as Extract<WriteRecord, { kind: K }>
}
