/**
 * The change feed's write side: every transaction that changes actions or events appends one row
 * per changed record to `changes`, at positions from the one-row counter `change_head`.
 *
 * Why a counter and not a sequence or an auto-increment: those hand a number out when a row is
 * inserted, but transactions commit in another order, so a reader could see position 11 before
 * 10 commits, move past it, and miss 10 forever. Here positions are taken at the END of each write
 * transaction (`advance`, an UPDATE of the counter row, then the inserts of the change rows, then
 * COMMIT). The counter row's lock serializes that last stretch: a transaction can only take
 * positions after every transaction holding smaller ones has released the lock, which happens
 * when it commits, and a committed transaction is visible before its locks are released:
 * - PostgreSQL's CommitTransaction marks the transaction committed in the proc array
 *   (ProcArrayEndTransaction: new snapshots see it) before ResourceOwnerRelease releases its
 *   locks, and a waiter on a row lock waits for the holder's transaction id to end;
 * - InnoDB's trx_commit_in_memory deregisters the transaction from the read views' active list
 *   (trx_sys.deregister_rw) before lock_release.
 * So the positions visible to any new statement (READ COMMITTED, one snapshot per statement) are
 * always every position up to some value, never a set with a hole that a later commit fills: a
 * reader that has read up to p never misses a later commit. A rolled-back transaction rolls its
 * counter update back too, so positions have no holes either (until issue 13 prunes old ones).
 * SQLite has a single writer, so its order is trivially the commit order.
 *
 * The lock is held only from the counter update to the commit, after every other statement of
 * the transaction. It is taken after the action row locks (sql-step.ts getLocked), always in that
 * order, so it adds no deadlock between writers on one database; on Galera a certification
 * conflict on the counter row comes back as a deadlock (1213), which the executor retries with the
 * whole transaction (async-write-executor.ts), as any other race.
 */
import {
  ACTION_DIGEST_COLUMNS,
  actionDigest,
  EVENT_DIGEST_COLUMNS,
  eventDigest,
  retentionDigest,
} from '../../security/chain/canonical-record.js'
import { isHexLink, nextLink } from '../../security/chain/chain-link.js'
import { isWellFormed } from '../../domain/validation.js'
import { canonicalTime } from '../rows.js'
import { advance, getAll, run, type ChangeNote, type Row, type WriteProgram } from './sql-step.js'

/** The change notes of one transaction, one per record (the last time a record changed wins). */
export class PendingChanges {
  readonly #byRecord = new Map<string, ChangeNote>()

  /** Notes a change. A record changed twice in a transaction is one change, at its first place. */
  add(note: ChangeNote): void {
    // An archive or purge note has a key of its own: it must not merge into an earlier change of
    // the same action in the transaction (group commit), whose kind would then hide it.
    const key =
      note.kind === 'action'
        ? `a${note.actionId}`
        : note.kind === 'event'
          ? `e${note.eventId}`
          : `${note.kind}${note.actionId}`
    const prev = this.#byRecord.get(key)
    // Re-setting an existing key keeps its place in the Map's insertion order. The stored values
    // are the latest note's (or none): an earlier note's values would digest an earlier state.
    this.#byRecord.set(key, prev ? { ...prev, at: note.at, stored: note.stored } : note)
  }

  /** Takes the notes (in the order the records first changed) and clears them. */
  drain(): ChangeNote[] {
    const notes = [...this.#byRecord.values()]
    this.#byRecord.clear()
    return notes
  }

  /** Drops the notes (after a rollback). */
  clear(): void {
    this.#byRecord.clear()
  }
}

/** Largest number of rows or keys in one statement: few distinct statements, few round trips. */
const MAX_CHUNK = 256

/**
 * Splits n into chunk sizes that are powers of two (at most MAX_CHUNK): a batch of any size is
 * written with at most log2(MAX_CHUNK) + n / MAX_CHUNK statements drawn from nine distinct
 * texts, which keeps the prepared-statement caches small.
 */
export function chunkSizes(n: number): number[] {
  const sizes: number[] = []
  let left = n
  while (left >= MAX_CHUNK) {
    sizes.push(MAX_CHUNK)
    left -= MAX_CHUNK
  }
  for (let size = MAX_CHUNK / 2; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size)
      left -= size
    }
  }
  return sizes
}

/** `n` copies of `group`, comma-separated: the VALUES or IN list of a multi-row statement. */
export const placeholders = (n: number, group: string) =>
  new Array<string>(n).fill(group).join(', ')

/**
 * The project owning each instance, read in this transaction: one multi-row lookup by primary key
 * per chunk of distinct instances (chunkSizes), not one per instance. A lifecycle batch names
 * about one distinct instance per action, and one statement per instance was a sixth of a
 * PostgreSQL write transaction's statements (measured with the counting executor, 2026-12-06).
 * Migration 0005 (issue 10, the query API) denormalizes the owner onto actions; this does not
 * depend on it.
 */
function* ownerProjects(uuids: readonly string[]): WriteProgram<Map<string, string>> {
  const owners = new Map<string, string>()
  yield* lookUpOwners('instances', uuids, owners)
  // An instance archived in this transaction (issue 13) is in the shadow table by now.
  const missing = uuids.filter((u) => !owners.has(u))
  if (missing.length > 0) yield* lookUpOwners('shadow_instances', missing, owners)
  return owners
}

function* lookUpOwners(
  table: 'instances' | 'shadow_instances',
  uuids: readonly string[],
  owners: Map<string, string>,
): WriteProgram<void> {
  let offset = 0
  for (const size of chunkSizes(uuids.length)) {
    const chunk = uuids.slice(offset, offset + size)
    offset += size
    const rows = (yield getAll(
      `SELECT uuid, project_id FROM ${table} WHERE uuid IN (${placeholders(size, '?')})`,
      ...chunk,
    )) as Row[]
    for (const row of rows) owners.set(String(row.uuid), String(row.project_id))
  }
}

/** The columns of a change row, as {@link changeRow}. */
export const CHANGE_COLUMNS = [
  'position',
  'kind',
  'action_id',
  'event_id',
  'instance_uuid',
  'owner_project',
  'created_at',
] as const

/** The values of the change row of `note` at `position`, in the order of {@link CHANGE_COLUMNS}. */
export function changeRow(position: number, note: ChangeNote, ownerProject: string): unknown[] {
  return [
    position,
    note.kind,
    note.actionId,
    note.eventId,
    note.instanceUuid,
    ownerProject,
    note.at,
  ]
}

/** The hash chain's columns of a change row (migration 0013), after {@link CHANGE_COLUMNS}. */
export const CHAIN_COLUMNS = ['digest', 'link'] as const

/** What a chain entry says about its record: enough to find the record and compute its digest. */
export interface EntryRecord {
  kind: string
  actionId: number
  eventId: number | null
  /** The record's digest columns as stored, when the writer holds them (ChangeNote.stored). */
  stored?: Readonly<Record<string, unknown>> | undefined
}

/**
 * `row` as a note's stored values (ChangeNote.stored), or undefined (the digest is then computed
 * from a read-back) when one of its texts has an unpaired UTF-16 surrogate: drivers store U+FFFD
 * for it, so the stored row would not be these values. The domain already rejects such texts;
 * this keeps a store caller that skipped it from writing a digest that later reads as tampering.
 * Likewise a time that is not in a form the databases give back (canonical-record.ts would throw
 * on it at commit, where the read-back has the database's own form).
 */
export function storedValues(row: Readonly<Record<string, unknown>>): typeof row | undefined {
  for (const key in row) {
    const value = row[key]
    if (typeof value !== 'string') continue
    if (!isWellFormed(value)) return undefined
    if (key.endsWith('_time') || key.endsWith('_at')) {
      try {
        canonicalTime(value)
      } catch {
        return undefined
      }
    }
  }
  return row
}

/**
 * The digest of each entry's record as it is stored now: from the values the writer stored
 * (EntryRecord.stored) where it holds them, otherwise from the row read back, one multi-row lookup
 * by primary key per chunk, as {@link ownerProjects}. In a write transaction this runs after every
 * other statement (the touches are applied by then), and BEFORE the counter is advanced, so that
 * the counter's row lock is held no longer than without the chain.
 */
export function* recordDigests(notes: readonly EntryRecord[]): WriteProgram<string[]> {
  const actions = yield* rowsById(
    'instance_actions',
    ACTION_DIGEST_COLUMNS,
    notes.filter((n) => n.kind === 'action' && !n.stored).map((n) => n.actionId),
  )
  const events = yield* rowsById(
    'instance_actions_events',
    EVENT_DIGEST_COLUMNS,
    notes.filter((n) => n.kind === 'event' && !n.stored).map((n) => n.eventId ?? 0),
  )
  return notes.map((n) => {
    const kind = n.kind as string
    if (n.stored && kind === 'action') return actionDigest(n.stored)
    if (n.stored && kind === 'event') return eventDigest(n.stored)
    if (kind === 'action' || kind === 'event') {
      const row = (kind === 'action' ? actions : events).get(
        kind === 'action' ? n.actionId : (n.eventId ?? 0),
      )
      // A noted record always exists in its own transaction: anything else is a bug, and writing
      // a wrong digest would turn it into a false tamper report later.
      if (!row) throw new Error(`chain: noted ${kind} row not found`)
      return kind === 'action' ? actionDigest(row) : eventDigest(row)
    }
    // Retention entries (archive, purge) stand for the action leaving the live tables.
    return retentionDigest(kind as 'archive' | 'purge', n.actionId)
  })
}

/** The rows of `table` with the given ids, by id (chunked like ownerProjects). */
export function* rowsById(
  table: string,
  columns: readonly string[],
  ids: readonly number[],
): WriteProgram<Map<number, Row>> {
  const rows = new Map<number, Row>()
  const distinct = [...new Set(ids)]
  let offset = 0
  for (const size of chunkSizes(distinct.length)) {
    const chunk = distinct.slice(offset, offset + size)
    offset += size
    const found = (yield getAll(
      `SELECT ${columns.join(', ')} FROM ${table} WHERE id IN (${placeholders(size, '?')})`,
      ...chunk,
    )) as Row[]
    for (const row of found) rows.set(Number(row.id), row)
  }
  return rows
}

/**
 * The program run last in every write transaction: gives the transaction's change notes their
 * positions and inserts the change rows. Nothing when no visible row changed (an idempotent
 * repeat), so a repeat takes no lock on the counter either.
 *
 * With the hash chain (`chain`, the default; off only for benchmarks' comparisons), each change
 * row also gets its record's digest and its link (security/chain/chain-link.ts), and the head
 * row keeps the last link. The links are computed in JS between the counter's UPDATE, which
 * returns the previous head link under the counter's row lock, and the inserts: the lock that
 * already orders the positions orders the links too, so writers on several nodes extend one
 * chain without any other lock.
 */
export function* commitChanges(notes: readonly ChangeNote[], chain = true): WriteProgram<void> {
  if (notes.length === 0) return
  const owners = yield* ownerProjects([
    ...new Set(notes.filter((n) => n.ownerProject === undefined).map((n) => n.instanceUuid)),
  ])
  const digests = chain ? yield* recordDigests(notes) : undefined
  const head = (yield advance(notes.length)) as Row
  let position = Number(head.last) - notes.length
  let link = isHexLink(head.link) ? head.link : null
  const width = CHANGE_COLUMNS.length + CHAIN_COLUMNS.length
  const group = `(${new Array<string>(width).fill('?').join(', ')})`
  let offset = 0
  for (const size of chunkSizes(notes.length)) {
    const params: unknown[] = []
    for (let i = offset; i < offset + size; i++) {
      const n = notes[i]!
      position += 1
      params.push(...changeRow(position, n, n.ownerProject ?? owners.get(n.instanceUuid) ?? ''))
      if (digests) {
        const digest = digests[i]!
        link = nextLink(link, {
          position,
          kind: n.kind,
          actionId: n.actionId,
          eventId: n.eventId,
          digest,
        })
        params.push(digest, link)
      } else params.push(null, null)
    }
    offset += size
    yield run(
      `INSERT INTO changes (${CHANGE_COLUMNS.join(', ')}, ${CHAIN_COLUMNS.join(', ')}) ` +
        `VALUES ${placeholders(size, group)}`,
      ...params,
    )
  }
  if (digests) yield run('UPDATE change_head SET link = ? WHERE id = 1', link)
}
