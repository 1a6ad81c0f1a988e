/**
 * One batch of an offline import as the offline writer (sqlite-offline-import.ts) writes it: its
 * rows with the ids handed out from a {@link ChainCursor}, in the online programs' order, and the
 * hash chain of their change rows. Pure functions, shared by the writer and by whoever plans a
 * batch's chain ahead of it ({@link chainAhead}): an SQLite cell's reader thread
 * (nova/db-import/cell-reader-worker.ts) does, on the other core, so that the writer's thread only
 * checks the plan and binds it.
 *
 * Why: the chain (a digest of each row's canonical encoding and a link, two SHA-256 each) was the
 * largest part of the writing thread's work after binding: 3.5–4 µs of its CPU per change row, 6M
 * change rows at 1M actions (docs/benchmarks.md, session 13). A digest covers the row's id, so
 * planning it ahead means predicting the ids; the offline load is the store's only writer, so the
 * ids and positions follow from where the previous batch ended, and the writer takes a plan only
 * when the batch starts where the plan did and lays out exactly as planned (else it computes the
 * chain itself, as before, and the planner starts again from where the writer says it stands).
 */
import type { ImportedAction, ImportedInstance } from '../action-store.js'
import { actionDigest, eventDigest } from '../../security/chain/canonical-record.js'
import { nextLink } from '../../security/chain/chain-link.js'
import { storedValues } from '../write/change-feed.js'
import { IMPORT_PART, importedActionRow, importedEventRow } from '../write/import-program.js'
import { actionDigestRecord, eventDigestRecord } from './offline-digest-record.js'

/**
 * Where an offline load stands: the next action id, event id and change position it hands out,
 * and the chain's last link (null: no chained position yet).
 */
export interface ChainCursor {
  action: number
  event: number
  position: number
  link: string | null
}

/** True when two cursors stand at the same place. */
export function sameCursor(a: ChainCursor, b: ChainCursor): boolean {
  return (
    a.action === b.action && a.event === b.event && a.position === b.position && a.link === b.link
  )
}

/** A part of {@link IMPORT_PART} actions: its new actions' rows, then their events' rows. */
export interface LayoutPart {
  actions: unknown[][]
  events: unknown[][]
}

/** A batch's rows, ids assigned (see {@link layoutBatch}). */
export interface BatchLayout {
  parts: LayoutPart[]
  /** Actions written (of an instance the store has). */
  created: number
  /** Actions skipped: their instance is unknown. */
  skipped: number
  /** Which: their indexes in the batch's actions. */
  skips: number[]
  /** Change rows: one per action and per event written. */
  changes: number
}

/** The owner (project) of each instance the store knows; undefined: unknown. */
export interface Owners {
  get(instanceUuid: string): unknown
}

/**
 * Lays out `actions` from `next` (its action and event ids are advanced): per part of
 * {@link IMPORT_PART}, each action whose instance has an owner in `owners` gets the next action
 * id, then their events the next event ids, as the online `import_actions` program inserts them.
 * An action of an instance without owner is skipped.
 */
export function layoutBatch(
  actions: readonly ImportedAction[],
  owners: Owners,
  tag: string | null,
  next: ChainCursor,
): BatchLayout {
  const layout: BatchLayout = { parts: [], created: 0, skipped: 0, skips: [], changes: 0 }
  for (let i = 0; i < actions.length; i += IMPORT_PART) {
    const part: LayoutPart = { actions: [], events: [] }
    const fresh: { a: ImportedAction; id: number; owner: unknown }[] = []
    const end = Math.min(actions.length, i + IMPORT_PART)
    for (let at = i; at < end; at++) {
      const a = actions[at]!
      const owner = owners.get(a.instanceUuid)
      if (owner === undefined) {
        layout.skipped += 1
        layout.skips.push(at)
        continue
      }
      const id = next.action++
      fresh.push({ a, id, owner })
      part.actions.push([id, ...importedActionRow(a, owner, tag)])
    }
    if (fresh.length === 0) continue
    for (const { a, id, owner } of fresh)
      for (const e of a.events)
        part.events.push([next.event++, ...importedEventRow(id, a, e, owner, tag)])
    layout.parts.push(part)
    layout.created += fresh.length
    layout.changes += part.actions.length + part.events.length
  }
  return layout
}

/** A change row's place in the chain. */
export interface ChainValues {
  digest: string
  link: string
}

/**
 * The digest and link of the change row of an action or event row (in the offline writer's
 * column order: offline-digest-record.ts) at `position` after `prev`; undefined when a text of the
 * row would not be stored as given (change-feed.ts storedValues), whose digest must then be taken
 * from the row as the database stored it.
 */
export function chainValues(
  kind: 'action' | 'event',
  row: readonly unknown[],
  position: number,
  prev: string | null,
): ChainValues | undefined {
  const event = kind === 'event'
  const record = storedValues(event ? eventDigestRecord(row) : actionDigestRecord(row))
  if (!record) return undefined
  const digest = event ? eventDigest(record) : actionDigest(record)
  return { digest, link: chainLink(kind, row, position, prev, digest) }
}

/** The link of the change row of `row` at `position` after `prev`, whose record has `digest`. */
export function chainLink(
  kind: 'action' | 'event',
  row: readonly unknown[],
  position: number,
  prev: string | null,
  digest: string,
): string {
  const event = kind === 'event'
  return nextLink(prev, {
    position,
    kind,
    actionId: Number(event ? row[1] : row[0]),
    eventId: event ? Number(row[0]) : null,
    digest,
  })
}

/**
 * The chain of one batch planned ahead of its write: where it starts, with which writer tag,
 * which actions it skips (their instance unknown to the store), and each change row's digest and
 * link (64 hex digits each, one after the other, in change order:
 * per part, the actions then the events). One string, because what crosses to the writer's thread
 * is copied, and a copy costs per string (cell-reader-thread.ts).
 */
export interface ChainAhead {
  from: ChainCursor
  tag: string | null
  /** The indexes of the batch's actions skipped (BatchLayout.skips). */
  skips: number[]
  changes: number
  hex: string
}

/** The owners an import batch's own instances give its actions (what the writer will find). */
export function batchOwners(instances: readonly ImportedInstance[]): Map<string, string> {
  return new Map(instances.map((i) => [i.uuid, i.projectId]))
}

/**
 * Plans the chain of a batch (`actions` as the writer will get them) from `from`, assuming the
 * store will know exactly the instances of `owners` then: the plan and the cursor after it, or
 * undefined when a row's digest can only be read back from the store (see {@link chainValues}).
 */
export function chainAhead(
  owners: Owners,
  actions: readonly ImportedAction[],
  tag: string | null,
  from: ChainCursor,
): { ahead: ChainAhead; after: ChainCursor } | undefined {
  const next = { ...from }
  const layout = layoutBatch(actions, owners, tag, next)
  const hex: string[] = []
  for (const part of layout.parts)
    for (const [kind, rows] of [
      ['action', part.actions],
      ['event', part.events],
    ] as const)
      for (const row of rows) {
        const values = chainValues(kind, row, next.position++, next.link)
        if (!values) return undefined
        hex.push(values.digest, values.link)
        next.link = values.link
      }
  return {
    ahead: {
      from: { ...from },
      tag,
      skips: layout.skips,
      changes: layout.changes,
      hex: hex.join(''),
    },
    after: next,
  }
}
