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
 *
 * The reads go through a {@link ChainReader} (chain-reader.ts): Kysely's on every backend, and on
 * SQLite raw arrays and SQLite-built JSON on the native handle (sqlite-chain-scan.ts), which made
 * verify several times cheaper there (docs/benchmarks.md, issue 13). Where the reader counts rows
 * cheaply, the walk of the live tables is skipped when the counts show no row is uncovered.
 */
import type { Kysely } from 'kysely'
import { GENESIS_LINK, isHexLink, nextLink } from '../../security/chain/chain-link.js'
import { sha256 } from '../../security/chain/sha256.js'
import { kyselyChainReader, type ChainReader } from './chain-reader.js'
import { IdBitset } from './id-bitset.js'

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
  /** How the database is read (default: Kysely's reader; SQLite offers a faster one, StoreDatabase.chainReader). */
  reader?: ChainReader
}

type RecordRef = { kind: 'action' | 'event'; actionId: number; eventId: number | null }

const recordName = ({ kind, actionId, eventId }: RecordRef) =>
  kind === 'action' ? `action ${actionId}` : `event ${eventId} (action ${actionId})`

/** Verifies the chain and the records it covers; never throws for what it finds. */
export async function verifyChain(
  database: Kysely<unknown>,
  options: VerifyChainOptions = {},
): Promise<ChainReport> {
  const maxProblems = options.maxProblems ?? 100
  const reader = options.reader ?? kyselyChainReader(database)
  const page = options.pageSize ?? reader.pageSize ?? 5000
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
  const headRow = await reader.head()
  report.head = {
    position: Number(headRow?.last ?? 0),
    link: isHexLink(headRow?.link) ? headRow.link : null,
  }

  // One backward scan of `changes` checks both the links and the records. A link is checked
  // against the stored link before it: while every check passes, that is the same as recomputing
  // the chain from its start, and after a failure it goes on finding later, independent ones.
  const linkProblems: ChainProblem[] = []
  const seenActions = new IdBitset()
  const seenEvents = new IdBitset()
  const removedActions = new IdBitset()
  // Archived actions (their latest entry is `archive`), and those whose archived row was checked.
  const archivedActions = new IdBitset()
  const shadowChecked = new IdBitset()
  const fromPosition = options.from?.position ?? 0
  /** The entry met just before (one position higher), whose link is checked against this one. */
  let later: { position: number; entry: ChainEntryFields; link: string } | undefined
  /** The lowest linked entry met so far (the chain's start once the scan ends). */
  let laterLinked: { position: number; entry: ChainEntryFields; link: string } | undefined
  /** Unlinked positions met since the last linked entry (pre-chain unless a linked one follows). */
  const unlinked: number[] = []
  let top: { position: number; link: string | null } | undefined
  let before = Number.MAX_SAFE_INTEGER
  // Live rows that some entry covers (each looked up once, as ids are met once).
  let presentActions = 0
  let presentEvents = 0
  for (;;) {
    const rows = await reader.changesBelow(before, page)
    if (rows.length === 0) break
    before = Number(rows[rows.length - 1]![0])
    const liveActions: { position: number; id: number; digest: string }[] = []
    const liveEvents: { position: number; id: number; actionId: number; digest: string }[] = []
    const removed: { position: number; id: number; kind: string }[] = []
    const removedEvents: { position: number; id: number; actionId: number }[] = []
    // Records of archived actions: their rows must be in the shadow tables, as their latest
    // action/event entry has them.
    const shadowActions: { position: number; id: number; digest: string }[] = []
    const shadowEvents: { position: number; id: number; actionId: number; digest: string }[] = []
    for (const r of rows) {
      const position = Number(r[0])
      const actionId = Number(r[2])
      const eventId = r[3] === null || r[3] === undefined ? null : Number(r[3])
      const kind = String(r[1])
      const digest = typeof r[4] === 'string' ? r[4] : ''
      const link = typeof r[5] === 'string' ? r[5] : null
      top ??= { position, link }
      const json = typeof r[6] === 'string' ? r[6] : undefined
      const entry: ChainEntryFields = { position, kind, actionId, eventId, digest, json }
      // The links.
      if (position > fromPosition) {
        if (later && later.position !== position + 1) {
          linkProblems.push({
            problem: 'position_missing',
            position: position + 1,
            message:
              `chain entries missing at positions ${position + 1}..${later.position - 1} ` +
              `(deleted change rows); the next entry covers ${recordName(refOf(later.entry))}`,
          })
        } else if (later && link !== null) checkLink(linkProblems, link, later.entry, later.link)
        if (link === null) unlinked.push(position)
        else {
          for (const u of unlinked.splice(0))
            linkProblems.push({
              problem: 'unlinked_entry',
              position: u,
              message: `chain entry at position ${u} has no link, after the chain began`,
            })
        }
        later = link === null ? undefined : { position, entry, link }
        if (link === null && laterLinked) {
          // The entry above began the chain (or this one lost its link): it follows 32 zero bytes.
          checkLink(linkProblems, null, laterLinked.entry, laterLinked.link)
        }
        laterLinked = later
        if (link !== null) report.entries += 1
      }
      // The records: the first entry met for a record is its latest.
      if (digest.length !== 64) continue
      if (kind === 'event') {
        const id = eventId ?? 0
        if (seenEvents.has(id)) continue
        seenEvents.add(id)
        if (removedActions.has(actionId)) removedEvents.push({ position, id, actionId })
        else liveEvents.push({ position, id, actionId, digest })
        if (archivedActions.has(actionId)) shadowEvents.push({ position, id, actionId, digest })
      } else {
        if (seenActions.has(actionId)) {
          // The action's latest state before its archive entry: its shadow row must have it.
          if (kind === 'action' && archivedActions.has(actionId) && !shadowChecked.has(actionId)) {
            shadowChecked.add(actionId)
            shadowActions.push({ position, id: actionId, digest })
          }
          continue
        }
        seenActions.add(actionId)
        if (kind === 'action') liveActions.push({ position, id: actionId, digest })
        else {
          removedActions.add(actionId)
          if (kind === 'archive') archivedActions.add(actionId)
          removed.push({ position, id: actionId, kind })
        }
      }
    }
    const actionDigests = await reader.digestsOf(
      'instance_actions',
      [...liveActions.map((a) => a.id), ...removed.map((a) => a.id)],
      [...liveActions.map((a) => a.digest), ...removed.map(() => '')],
    )
    const eventDigests = await reader.digestsOf(
      'instance_actions_events',
      [...liveEvents.map((e) => e.id), ...removedEvents.map((e) => e.id)],
      [...liveEvents.map((e) => e.digest), ...removedEvents.map(() => '')],
    )
    for (const d of actionDigests) if (d !== undefined) presentActions += 1
    for (const d of eventDigests) if (d !== undefined) presentEvents += 1
    liveActions.forEach((a, i) => {
      report.records += 1
      const record = { kind: 'action', actionId: a.id, eventId: null } as const
      checkRecord(found, a.position, record, a.digest, actionDigests[i])
    })
    liveEvents.forEach((e, i) => {
      report.records += 1
      const record = { kind: 'event', actionId: e.actionId, eventId: e.id } as const
      checkRecord(found, e.position, record, e.digest, eventDigests[i])
    })
    const shadowActionDigests = await reader.digestsOf(
      'shadow_instance_actions',
      shadowActions.map((a) => a.id),
      shadowActions.map((a) => a.digest),
    )
    const shadowEventDigests = await reader.digestsOf(
      'shadow_instance_actions_events',
      shadowEvents.map((e) => e.id),
      shadowEvents.map((e) => e.digest),
    )
    shadowActions.forEach((a, i) => {
      report.records += 1
      const record = { kind: 'action', actionId: a.id, eventId: null } as const
      checkRecord(found, a.position, record, a.digest, shadowActionDigests[i])
    })
    shadowEvents.forEach((e, i) => {
      report.records += 1
      const record = { kind: 'event', actionId: e.actionId, eventId: e.id } as const
      checkRecord(found, e.position, record, e.digest, shadowEventDigests[i])
    })
    removed.forEach((a, i) => {
      if (actionDigests[liveActions.length + i] !== undefined)
        found({
          problem: 'record_not_removed',
          position: a.position,
          record: { kind: 'action', actionId: a.id, eventId: null },
          message: `action ${a.id} is still live although the chain records its ${a.kind} at position ${a.position}`,
        })
    })
    removedEvents.forEach((e, i) => {
      if (eventDigests[liveEvents.length + i] !== undefined)
        found({
          problem: 'record_not_removed',
          position: e.position,
          record: { kind: 'event', actionId: e.actionId, eventId: e.id },
          message: `event ${e.id} (action ${e.actionId}) is still live although its action left the live tables`,
        })
    })
  }
  // The lowest linked entry follows the checkpoint's link, or begins the chain.
  if (laterLinked) {
    const start = options.from
    if (start && laterLinked.position === start.position + 1)
      checkLink(linkProblems, start.link, laterLinked.entry, laterLinked.link)
    else if (start)
      linkProblems.push({
        problem: 'position_missing',
        position: start.position + 1,
        message: `chain entries missing after the checkpoint's position ${start.position}`,
      })
    else checkLink(linkProblems, null, laterLinked.entry, laterLinked.link)
  }
  const last = top?.position ?? 0
  if (last !== report.head.position || (top?.link ?? null) !== report.head.link) {
    linkProblems.push({
      problem: 'head_mismatch',
      position: report.head.position,
      message:
        `the chain ends at position ${last} but the head says ${report.head.position}` +
        ((top?.link ?? null) !== report.head.link ? ' and its link differs' : '') +
        ': change rows were inserted or removed at the end, or the head row was altered',
    })
  }
  linkProblems.sort((x, y) => (x.position ?? 0) - (y.position ?? 0))
  report.firstBrokenLink = linkProblems.find((p) => p.problem !== 'head_mismatch')
  if (!report.firstBrokenLink) delete report.firstBrokenLink
  for (const p of linkProblems) found(p)

  // Live rows no entry covers.
  for (const t of [
    { table: 'instance_actions', kind: 'action', seen: seenActions, present: presentActions },
    { table: 'instance_actions_events', kind: 'event', seen: seenEvents, present: presentEvents },
  ] as const) {
    // Every live row an entry covers was looked up above and counted: when the table holds no
    // more rows than that, none is uncovered and listing its ids would find nothing.
    if (reader.countRows && (await reader.countRows(t.table)) === t.present) continue
    for (let from = 0; ;) {
      const rows = await reader.idsAbove(t.table, from, page)
      if (rows.length === 0) break
      for (const [id, actionId] of rows) {
        if (t.seen.has(id)) continue
        const record =
          t.kind === 'action'
            ? { kind: 'action' as const, actionId: id, eventId: null }
            : { kind: 'event' as const, actionId, eventId: id }
        found({
          problem: 'record_inserted',
          record,
          message: `${recordName(record)} has no chain entry: inserted behind ActionTrail's back`,
        })
      }
      from = rows[rows.length - 1]![0]
    }
  }
  return report
}

/** What a link covers of an entry, as read back. */
interface ChainEntryFields {
  position: number
  kind: string
  actionId: number
  eventId: number | null
  digest: string
  /** The entry's link JSON as the reader built it, if it did (ChangeTuple). */
  json: string | undefined
}

/** One buffer for a link's input: the previous link's 32 bytes, then the entry's JSON. */
let linkInput = Buffer.allocUnsafe(32 + 1024)

/** SHA-256 over `prev`'s 32 bytes and `json` (chain-link.ts's layout), in hex. */
function linkOfJson(prev: string | null, json: string): string {
  const size = 32 + Buffer.byteLength(json, 'utf8')
  if (size > linkInput.length) linkInput = Buffer.allocUnsafe(size * 2)
  linkInput.write(prev ?? GENESIS_LINK, 0, 32, 'hex')
  linkInput.write(json, 32, 'utf8')
  return sha256(linkInput.subarray(0, size))
}

const refOf = (e: ChainEntryFields): RecordRef => ({
  kind: e.kind === 'event' ? 'event' : 'action',
  actionId: e.actionId,
  eventId: e.eventId,
})

/** Checks that `entry`'s stored link follows `prev` (null: the chain's start). */
function checkLink(
  problems: ChainProblem[],
  prev: string | null,
  entry: ChainEntryFields,
  stored: string,
): void {
  // The reader's JSON is trusted only when its link matches: equal bytes under SHA-256 mean the
  // same entry. Otherwise the link is recomputed from the fields, the exact way, before a report.
  if (entry.json !== undefined && linkOfJson(prev, entry.json) === stored) return
  if (nextLink(prev, entry) === stored) return
  problems.push({
    problem: 'link_broken',
    position: entry.position,
    record: refOf(entry),
    message:
      `link broken at position ${entry.position} (${entry.kind} entry for ` +
      `${recordName(refOf(entry))}): the entry or the one before it was altered`,
  })
}

function checkRecord(
  found: (p: ChainProblem) => void,
  position: number,
  record: RecordRef,
  digest: string,
  /** The row's digest now (undefined: no row). */
  actual: string | undefined,
): void {
  const name = recordName(record)
  if (actual === undefined) {
    found({
      problem: 'record_deleted',
      position,
      record,
      message: `${name} is missing: its latest chain entry (position ${position}) says it exists`,
    })
  } else if (actual !== digest) {
    found({
      problem: 'record_edited',
      position,
      record,
      message: `${name} was altered: it no longer matches the digest of its latest chain entry (position ${position})`,
    })
  }
}
