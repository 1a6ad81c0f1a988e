/**
 * Verifying the hash chain against the database (`actiontrail verify`), in two streaming passes
 * whose memory stays flat for any history (pages of rows, bitsets over ids):
 *
 * 1. The chain itself: `changes` in position order, every link recomputed from the previous one
 *    and the entry's fields. Finds a change row edited (its link no longer follows), deleted (a
 *    gap in the positions), or inserted (past the head, or a link that does not follow), and a head
 *    row that does not match the last entry.
 * 2. The records: `changes` read backwards, so that the first entry met for a record is its latest;
 *    that entry decides where the record must be (`action`/`event`: in the live tables with this
 *    digest; `archive`: no longer live — the shadow tables of retention; `purge`: gone), and the
 *    record is looked up by primary key in batches. Then the live tables are walked by id: a row no
 *    entry covers was inserted behind ActionTrail's back.
 *
 * Why backwards rather than an index on (record, position): the index would cost every write one
 * more B-tree insert per change row, for a check that runs rarely; a backward scan of the primary
 * key and lookups by primary key need nothing new.
 */
import type { Kysely } from 'kysely'
import {
  ACTION_DIGEST_COLUMNS,
  actionDigest,
  EVENT_DIGEST_COLUMNS,
  eventDigest,
} from '../../security/chain/canonical-record.js'
import { isHexLink, nextLink } from '../../security/chain/chain-link.js'
import { rowsById } from '../write/change-feed.js'
import type { Row } from '../write/sql-step.js'
import { IdBitset } from './id-bitset.js'
import { queryRows, runPlainProgram } from './run-plain-program.js'

/** What went wrong, with the position and record it concerns. */
export interface ChainProblem {
  /** A stable name of the kind of problem. */
  problem:
    | 'link_broken'
    | 'position_missing'
    | 'unlinked_entry'
    | 'head_mismatch'
    | 'record_edited'
    | 'record_deleted'
    | 'record_inserted'
    | 'record_not_removed'
  /** The chain position concerned, when there is one. */
  position?: number
  /** The record concerned: 'action' or 'event' and its ids. */
  record?: { kind: 'action' | 'event'; actionId: number; eventId: number | null }
  /** A sentence for people. */
  message: string
}

/** The outcome of {@link verifyChain}. */
export interface ChainReport {
  ok: boolean
  /** Chained positions checked (pass 1). */
  entries: number
  /** Live records checked against their latest entry (pass 2). */
  records: number
  /** The head: last position and its link. */
  head: { position: number; link: string | null }
  /** The first broken link of pass 1, if any. */
  firstBrokenLink?: ChainProblem
  /** Every problem found, up to `maxProblems`. */
  problems: ChainProblem[]
  /** Problems found beyond `maxProblems` (counted, not listed). */
  moreProblems: number
}

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** Start pass 1 after this position, from this link (a verified checkpoint's). */
  from?: { position: number; link: string }
  /** Problems listed at most (default 100); the rest are counted. */
  maxProblems?: number
  /** Rows per page (default 5000). */
  pageSize?: number
}

type RecordRef = { kind: 'action' | 'event'; actionId: number; eventId: number | null }

const recordName = ({ kind, actionId, eventId }: RecordRef) =>
  kind === 'action' ? `action ${actionId}` : `event ${eventId} (action ${actionId})`

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

/** Verifies the chain and the records it covers; never throws for what it finds. */
export async function verifyChain(
  database: Kysely<unknown>,
  options: VerifyChainOptions = {},
): Promise<ChainReport> {
  const maxProblems = options.maxProblems ?? 100
  const page = options.pageSize ?? 5000
  const report: ChainReport = {
    ok: true,
    entries: 0,
    records: 0,
    head: { position: 0, link: null },
    problems: [],
    moreProblems: 0,
  }
  const found = (p: ChainProblem) => {
    report.ok = false
    if (report.problems.length < maxProblems) report.problems.push(p)
    else report.moreProblems += 1
  }
  const headRow = (await queryRows(database, 'SELECT last, link FROM change_head WHERE id = 1'))[0]
  report.head = {
    position: Number(headRow?.last ?? 0),
    link: isHexLink(headRow?.link) ? headRow.link : null,
  }

  // Pass 1: the links, forwards.
  let after = options.from?.position ?? 0
  let link: string | null = options.from?.link ?? null
  let started = options.from !== undefined
  let expected = started ? after + 1 : undefined
  let lastPosition = after
  for (;;) {
    const rows = await queryRows(
      database,
      'SELECT position, kind, action_id, event_id, digest, link FROM changes ' +
        `WHERE position > ? ORDER BY position LIMIT ${page}`,
      [after],
    )
    if (rows.length === 0) break
    for (const r of rows) {
      const position = Number(r.position)
      const stored = isHexLink(r.link) ? r.link : null
      const kind = String(r.kind)
      const entryKind = kind === 'event' ? 'event' : 'action'
      const record = {
        kind: entryKind,
        actionId: Number(r.action_id),
        eventId: num(r.event_id),
      } as const
      lastPosition = position
      if (!started) {
        // Positions written before the chain existed (migration 0013) carry no link.
        if (stored === null) continue
        started = true
      } else if (expected !== undefined && position !== expected) {
        const problem: ChainProblem = {
          problem: 'position_missing',
          position: expected,
          message:
            `chain entries missing at positions ${expected}..${position - 1} ` +
            `(deleted change rows); the next entry covers ${recordName(record)}`,
        }
        report.firstBrokenLink ??= problem
        found(problem)
      }
      expected = position + 1
      report.entries += 1
      if (stored === null) {
        const problem: ChainProblem = {
          problem: 'unlinked_entry',
          position,
          record,
          message: `chain entry at position ${position} has no link (${recordName(record)})`,
        }
        report.firstBrokenLink ??= problem
        found(problem)
        link = null
        continue
      }
      const computed = nextLink(link, {
        position,
        kind,
        actionId: record.actionId,
        eventId: record.eventId,
        digest: String(r.digest ?? ''),
      })
      if (computed !== stored) {
        const problem: ChainProblem = {
          problem: 'link_broken',
          position,
          record,
          message:
            `link broken at position ${position} (${kind} entry for ` +
            `${recordName(record)}): the entry or the one before it was altered`,
        }
        report.firstBrokenLink ??= problem
        found(problem)
      }
      // Continue from the stored link: a later, independent alteration is reported too.
      link = stored
    }
    after = Number(rows[rows.length - 1]!.position)
  }
  if (lastPosition !== report.head.position || (started && link !== report.head.link)) {
    found({
      problem: 'head_mismatch',
      position: report.head.position,
      message:
        `the chain ends at position ${lastPosition} but the head says ${report.head.position}` +
        (link !== report.head.link ? ' and its link differs' : '') +
        ': change rows were inserted or removed at the end, or the head row was altered',
    })
  }

  // Pass 2: the records, against their latest entries (backwards).
  const seenActions = new IdBitset()
  const seenEvents = new IdBitset()
  const removedActions = new IdBitset()
  let before = Number.MAX_SAFE_INTEGER
  for (;;) {
    const rows = await queryRows(
      database,
      'SELECT position, kind, action_id, event_id, digest FROM changes ' +
        `WHERE position < ? ORDER BY position DESC LIMIT ${page}`,
      [before],
    )
    if (rows.length === 0) break
    before = Number(rows[rows.length - 1]!.position)
    const liveActions: { position: number; id: number; digest: string }[] = []
    const liveEvents: { position: number; id: number; actionId: number; digest: string }[] = []
    const removed: { position: number; id: number; kind: string }[] = []
    const removedEvents: { position: number; id: number; actionId: number }[] = []
    for (const r of rows) {
      // Pre-chain rows: the migration gave every record a later, chained entry.
      if (!isHexLink(r.digest)) continue
      const position = Number(r.position)
      const actionId = Number(r.action_id)
      const kind = String(r.kind)
      if (kind === 'event') {
        const id = Number(r.event_id)
        if (seenEvents.has(id)) continue
        seenEvents.add(id)
        if (removedActions.has(actionId)) removedEvents.push({ position, id, actionId })
        else liveEvents.push({ position, id, actionId, digest: r.digest })
      } else {
        if (seenActions.has(actionId)) continue
        seenActions.add(actionId)
        if (kind === 'action') liveActions.push({ position, id: actionId, digest: r.digest })
        else {
          removedActions.add(actionId)
          removed.push({ position, id: actionId, kind })
        }
      }
    }
    const actionRows = await runPlainProgram(
      database,
      rowsById('instance_actions', ACTION_DIGEST_COLUMNS, [
        ...liveActions.map((a) => a.id),
        ...removed.map((a) => a.id),
      ]),
    )
    const eventRows = await runPlainProgram(
      database,
      rowsById('instance_actions_events', EVENT_DIGEST_COLUMNS, [
        ...liveEvents.map((e) => e.id),
        ...removedEvents.map((e) => e.id),
      ]),
    )
    for (const a of liveActions) {
      report.records += 1
      checkRecord(
        found,
        a.position,
        { kind: 'action', actionId: a.id, eventId: null },
        a.digest,
        actionRows.get(a.id),
        actionDigest,
      )
    }
    for (const e of liveEvents) {
      report.records += 1
      checkRecord(
        found,
        e.position,
        { kind: 'event', actionId: e.actionId, eventId: e.id },
        e.digest,
        eventRows.get(e.id),
        eventDigest,
      )
    }
    for (const a of removed)
      if (actionRows.has(a.id))
        found({
          problem: 'record_not_removed',
          position: a.position,
          record: { kind: 'action', actionId: a.id, eventId: null },
          message: `action ${a.id} is still live although the chain records its ${a.kind} at position ${a.position}`,
        })
    for (const e of removedEvents)
      if (eventRows.has(e.id))
        found({
          problem: 'record_not_removed',
          position: e.position,
          record: { kind: 'event', actionId: e.actionId, eventId: e.id },
          message: `event ${e.id} (action ${e.actionId}) is still live although its action left the live tables`,
        })
  }
  // Live rows no entry covers.
  for (const t of [
    { table: 'instance_actions', kind: 'action', seen: seenActions, columns: 'id' },
    { table: 'instance_actions_events', kind: 'event', seen: seenEvents, columns: 'id, action_id' },
  ] as const) {
    for (let from = 0; ;) {
      const rows = await queryRows(
        database,
        `SELECT ${t.columns} FROM ${t.table} WHERE id > ? ORDER BY id LIMIT ${page}`,
        [from],
      )
      if (rows.length === 0) break
      for (const r of rows) {
        const id = Number(r.id)
        if (t.seen.has(id)) continue
        const record =
          t.kind === 'action'
            ? { kind: 'action' as const, actionId: id, eventId: null }
            : { kind: 'event' as const, actionId: Number(r.action_id), eventId: id }
        found({
          problem: 'record_inserted',
          record,
          message: `${recordName(record)} has no chain entry: inserted behind ActionTrail's back`,
        })
      }
      from = Number(rows[rows.length - 1]!.id)
    }
  }
  return report
}

function checkRecord(
  found: (p: ChainProblem) => void,
  position: number,
  record: { kind: 'action' | 'event'; actionId: number; eventId: number | null },
  digest: string,
  row: Row | undefined,
  digestOf: (row: Row) => string,
): void {
  const name = recordName(record)
  if (!row) {
    found({
      problem: 'record_deleted',
      position,
      record,
      message: `${name} is missing: its latest chain entry (position ${position}) says it exists`,
    })
  } else if (safeDigest(digestOf, row) !== digest) {
    found({
      problem: 'record_edited',
      position,
      record,
      message: `${name} was altered: it no longer matches the digest of its latest chain entry (position ${position})`,
    })
  }
}

/** The row's digest; '' when a column no longer holds what ActionTrail writes (a mangled time). */
function safeDigest(digestOf: (row: Row) => string, row: Row): string {
  try {
    return digestOf(row)
  } catch {
    return ''
  }
}
