/**
 * Offline verification of an export with a proof (export-proof.ts), with only the checkpoint's
 * public key: `actiontrail verify --export FILE --public-key KEY`. It checks that
 *
 * 1. the chain entries follow each other from the chain's start (32 zero bytes): every link is
 *    recomputed, positions have no gap;
 * 2. the checkpoint is signed by the key, and the recomputed link at its position is the signed
 *    one — which fixes every entry before it;
 * 3. every exported action and event, encoded canonically from the file, has the digest of an
 *    entry of that record, and of its latest entry unless the record changed while the export ran
 *    (after the head the header names): an edited, invented or stale record is named with its line;
 * 4. for an export of everything (no filters), no record is missing: each record alive when the
 *    export began (an entry at or before that head, its action never archived or purged) is there.
 *
 * The entries and record digests go to a temporary SQLite file rather than memory, so that a
 * verification's memory stays flat for any size of history; the file is removed at the end.
 */
import type { KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import Database from 'better-sqlite3'
import { actionDigest, eventDigest } from '../security/chain/canonical-record.js'
import { isHexLink, nextLink } from '../security/chain/chain-link.js'
import { checkCheckpointSignature, type Checkpoint } from '../store/chain/checkpoints.js'
import type { ExportRecord } from './export-records.js'
import type { ProofChainLine, ProofCheckpointLine, ProofEntry } from './export-proof.js'

/** A problem found in an export. */
export interface ExportProblem {
  problem:
    | 'not_a_proof'
    | 'malformed_line'
    | 'link_broken'
    | 'position_missing'
    | 'checkpoint_invalid'
    | 'checkpoint_mismatch'
    | 'record_not_in_chain'
    | 'record_stale'
    | 'record_missing'
    | 'count_mismatch'
  /** The file's line (1-based) concerned, when there is one. */
  line?: number
  message: string
}

/** The outcome of {@link verifyExport}. */
export interface ExportProofReport {
  ok: boolean
  /** Actions and events checked against the chain. */
  records: { actions: number; events: number }
  /** Chain entries recomputed. */
  entries: number
  /** The checkpoint the proof ends with, when it was found. */
  checkpoint?: { id: number; position: number; createdAt: string; keyId: string }
  /** Whether completeness was checked: only for an export of everything. */
  completeness: 'checked' | 'not checked: the export is filtered'
  problems: ExportProblem[]
  /** Problems beyond `maxProblems`, counted only. */
  moreProblems: number
}

/** Options of {@link verifyExport}. */
export interface VerifyExportOptions {
  /** Problems listed at most (default 100). */
  maxProblems?: number
}

type Json = Record<string, unknown>

function isEntry(v: unknown): v is ProofEntry {
  return (
    Array.isArray(v) &&
    v.length === 6 &&
    Number.isSafeInteger(v[0]) &&
    typeof v[1] === 'string' &&
    Number.isSafeInteger(v[2]) &&
    (v[3] === null || Number.isSafeInteger(v[3])) &&
    isHexLink(v[4]) &&
    isHexLink(v[5])
  )
}

function isCheckpoint(v: unknown): v is ProofCheckpointLine['actiontrail_checkpoint'] {
  const c = v as Json | null
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isSafeInteger(c.id) &&
    Number.isSafeInteger(c.position) &&
    isHexLink(c.link) &&
    typeof c.created_at === 'string' &&
    typeof c.reason === 'string' &&
    typeof c.summary === 'string' &&
    typeof c.key_id === 'string' &&
    typeof c.signature === 'string'
  )
}

function hasIds(r: ExportRecord): r is ExportRecord & { ids: NonNullable<ExportRecord['ids']> } {
  const ids = r.ids as Json | undefined
  return (
    typeof ids === 'object' &&
    ids !== null &&
    Number.isSafeInteger(ids.action) &&
    Array.isArray(ids.events) &&
    ids.events.length === r.events.length &&
    ids.events.every((id) => Number.isSafeInteger(id))
  )
}

/** The digests of a record's action and events, recomputed from the file's values. */
function recordDigests(r: ExportRecord & { ids: NonNullable<ExportRecord['ids']> }) {
  const a = r.action
  const action = actionDigest({ ...a, id: r.ids.action })
  const events = r.events.map((e, n) => ({
    id: r.ids.events[n]!,
    digest: eventDigest({ ...e, id: r.ids.events[n], action_id: r.ids.action }),
  }))
  return { action, events }
}

/** Verifies the export read from `input` against `publicKey`; never throws for what it finds. */
export async function verifyExport(
  input: Readable,
  publicKey: KeyObject,
  options: VerifyExportOptions = {},
): Promise<ExportProofReport> {
  const maxProblems = options.maxProblems ?? 100
  const report: ExportProofReport = {
    ok: true,
    records: { actions: 0, events: 0 },
    entries: 0,
    completeness: 'checked',
    problems: [],
    moreProblems: 0,
  }
  const found = (p: ExportProblem) => {
    report.ok = false
    if (report.problems.length < maxProblems) report.problems.push(p)
    else report.moreProblems += 1
  }
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-verify-'))
  const db = new Database(join(dir, 'proof.db'))
  try {
    db.pragma('journal_mode = OFF')
    db.pragma('synchronous = OFF')
    db.exec(
      'CREATE TABLE ent (position INTEGER PRIMARY KEY, kind TEXT NOT NULL, ' +
        'action_id INTEGER NOT NULL, event_id INTEGER, digest TEXT NOT NULL);' +
        'CREATE INDEX ent_record ON ent (kind, action_id, event_id, position);' +
        'CREATE TABLE rec (kind TEXT NOT NULL, action_id INTEGER NOT NULL, event_id INTEGER, ' +
        'digest TEXT NOT NULL, line INTEGER NOT NULL);',
    )
    await readExport(input, db, publicKey, report, found)
    if (report.problems.some((p) => p.problem === 'not_a_proof')) return report
    checkRecords(db, report, found)
    return report
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Pass 1: the file, line by line, into the temporary tables; links and signature checked. */
async function readExport(
  input: Readable,
  db: Database.Database,
  publicKey: KeyObject,
  report: ExportProofReport,
  found: (p: ExportProblem) => void,
): Promise<void> {
  const addEntry = db.prepare('INSERT INTO ent VALUES (?, ?, ?, ?, ?)')
  const addRecord = db.prepare('INSERT INTO rec VALUES (?, ?, ?, ?, ?)')
  let line = 0
  let headAtStart: number | undefined
  let prev: { position: number; link: string } | undefined
  let linksOk = true
  let records = 0
  let ended = false
  let pending: (() => void)[] = []
  // Inserts are batched in transactions: one per line would cost a commit each.
  const flush = db.transaction((work: (() => void)[]) => work.forEach((w) => w()))
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++
    if (text === '') continue
    let value: Json
    try {
      value = JSON.parse(text) as Json
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error()
    } catch {
      found({ problem: 'malformed_line', line, message: `line ${line} is not a JSON object` })
      continue
    }
    if (line === 1) {
      const proof = value.proof as Json | undefined
      if (value.actiontrail_export === undefined || !Number.isSafeInteger(proof?.head_at_start)) {
        found({
          problem: 'not_a_proof',
          line,
          message: 'not an export with a proof (write one with `actiontrail export --proof`)',
        })
        return
      }
      headAtStart = proof!.head_at_start as number
      const filters = value.filters as Json | undefined
      if (filters && Object.keys(filters).length > 0)
        report.completeness = 'not checked: the export is filtered'
      continue
    }
    if ('actiontrail_chain' in value) {
      const entries = (value as unknown as ProofChainLine).actiontrail_chain
      if (!Array.isArray(entries) || !entries.every(isEntry)) {
        found({ problem: 'malformed_line', line, message: `line ${line}: malformed chain entries` })
        linksOk = false
        continue
      }
      for (const [position, kind, actionId, eventId, digest, link] of entries) {
        if (prev && position !== prev.position + 1) {
          found({
            problem: 'position_missing',
            line,
            message: `chain entries missing at positions ${prev.position + 1}..${position - 1}`,
          })
          linksOk = false
        }
        const expected = nextLink(prev ? prev.link : null, {
          position,
          kind,
          actionId,
          eventId,
          digest,
        })
        if (expected !== link && linksOk) {
          found({
            problem: 'link_broken',
            line,
            message:
              `the link at position ${position} does not follow from the entries before it ` +
              `(the entry covers ${kind} ${kind === 'event' ? `${eventId} of action ` : ''}${actionId})`,
          })
          linksOk = false
        }
        // Recomputed, not the file's: a later entry is checked against what the chain must be.
        prev = { position, link: expected }
        report.entries++
        pending.push(() => addEntry.run(position, kind, actionId, eventId, digest))
      }
    } else if ('actiontrail_checkpoint' in value) {
      checkCheckpoint(value as unknown as ProofCheckpointLine, prev, line, publicKey, report, found)
    } else if ('actiontrail_export_end' in value) {
      const end = value.actiontrail_export_end as Json | undefined
      if (end?.actions !== records)
        found({
          problem: 'count_mismatch',
          line,
          message: `the end line counts ${String(end?.actions)} records, the file has ${records}`,
        })
      ended = true
    } else if ('actiontrail_export_error' in value) {
      found({ problem: 'count_mismatch', line, message: 'the export was cut short by its writer' })
    } else {
      records++
      const r = value as unknown as ExportRecord
      if (typeof r.action !== 'object' || !Array.isArray(r.events) || !hasIds(r)) {
        found({
          problem: 'malformed_line',
          line,
          message: `line ${line}: a record without its stored ids (not written with --proof)`,
        })
        continue
      }
      const digests = recordDigests(r)
      const at = line
      pending.push(() => {
        addRecord.run('action', r.ids.action, null, digests.action, at)
        for (const e of digests.events) addRecord.run('event', r.ids.action, e.id, e.digest, at)
      })
      report.records.actions += 1
      report.records.events += r.events.length
    }
    if (pending.length >= 1000) {
      flush(pending)
      pending = []
    }
  }
  flush(pending)
  if (!ended) found({ problem: 'count_mismatch', message: 'no end line: the export is incomplete' })
  if (!report.checkpoint)
    found({ problem: 'checkpoint_invalid', message: 'the proof has no checkpoint line' })
  if (!linksOk) report.ok = false
  db.prepare('CREATE TABLE meta (head_at_start INTEGER)').run()
  db.prepare('INSERT INTO meta VALUES (?)').run(headAtStart ?? 0)
}

function checkCheckpoint(
  value: ProofCheckpointLine,
  prev: { position: number; link: string } | undefined,
  line: number,
  publicKey: KeyObject,
  report: ExportProofReport,
  found: (p: ExportProblem) => void,
): void {
  const c = value.actiontrail_checkpoint
  if (!isCheckpoint(c)) {
    found({ problem: 'malformed_line', line, message: `line ${line}: malformed checkpoint` })
    return
  }
  const checkpoint: Checkpoint = {
    id: c.id,
    position: c.position,
    link: c.link,
    createdAt: c.created_at,
    reason: c.reason,
    summary: c.summary,
    keyId: c.key_id,
    signature: c.signature,
  }
  report.checkpoint = {
    id: c.id,
    position: c.position,
    createdAt: c.created_at,
    keyId: c.key_id,
  }
  const bad = checkCheckpointSignature(publicKey, checkpoint)
  if (bad) {
    found({ problem: 'checkpoint_invalid', line, message: bad.message })
    return
  }
  if (!prev || prev.position !== c.position || prev.link !== c.link)
    found({
      problem: 'checkpoint_mismatch',
      line,
      message:
        `the chain in the file does not end at the signed head (position ${c.position}): ` +
        'entries were changed, removed or added',
    })
}

/** Pass 2: every record against the chain's entries, then completeness. */
function checkRecords(
  db: Database.Database,
  report: ExportProofReport,
  found: (p: ExportProblem) => void,
): void {
  // Records with no entry of that record and digest: edited in the file, or never written.
  const unknown = db.prepare(
    'SELECT r.kind, r.action_id, r.event_id, r.line FROM rec r WHERE NOT EXISTS (' +
      'SELECT 1 FROM ent e WHERE e.kind = r.kind AND e.action_id = r.action_id ' +
      'AND e.event_id IS r.event_id AND e.digest = r.digest) ORDER BY r.line',
  )
  for (const r of unknown.iterate() as Iterable<Json>)
    found({
      problem: 'record_not_in_chain',
      line: Number(r.line),
      message: `line ${String(r.line)}: ${describe(r)} is not as the chain recorded it (altered)`,
    })
  // Records that match an older entry while a newer one was written before the export began: a
  // stale copy (changes after the start may or may not have been read, so they are allowed).
  const stale = db.prepare(
    'SELECT r.kind, r.action_id, r.event_id, r.line FROM rec r ' +
      'JOIN ent m ON m.kind = r.kind AND m.action_id = r.action_id ' +
      'AND m.event_id IS r.event_id AND m.digest = r.digest ' +
      'WHERE NOT EXISTS (SELECT 1 FROM ent m2 WHERE m2.kind = r.kind AND m2.action_id = r.action_id ' +
      'AND m2.event_id IS r.event_id AND m2.digest = r.digest AND m2.position > m.position) ' +
      'AND EXISTS (SELECT 1 FROM ent n, meta WHERE n.kind = r.kind AND n.action_id = r.action_id ' +
      'AND n.event_id IS r.event_id AND n.position > m.position AND n.position <= meta.head_at_start ' +
      'AND n.digest <> r.digest) ORDER BY r.line',
  )
  for (const r of stale.iterate() as Iterable<Json>)
    found({
      problem: 'record_stale',
      line: Number(r.line),
      message: `line ${String(r.line)}: ${describe(r)} is an older version than the chain's`,
    })
  if (report.completeness !== 'checked') return
  // Records alive when the export began, whose action was never archived or purged, not exported.
  const missing = db.prepare(
    'SELECT DISTINCT e.kind, e.action_id, e.event_id FROM ent e, meta ' +
      "WHERE e.position <= meta.head_at_start AND e.kind IN ('action', 'event') " +
      "AND NOT EXISTS (SELECT 1 FROM ent x WHERE x.kind IN ('archive', 'purge') " +
      'AND x.action_id = e.action_id) ' +
      'AND NOT EXISTS (SELECT 1 FROM rec r WHERE r.kind = e.kind AND r.action_id = e.action_id ' +
      'AND r.event_id IS e.event_id) ORDER BY e.action_id, e.event_id',
  )
  for (const r of missing.iterate() as Iterable<Json>)
    found({
      problem: 'record_missing',
      message: `${describe(r)} was in the history when the export began but is not in the file`,
    })
}

function describe(r: Json): string {
  return r.kind === 'event'
    ? `event ${String(r.event_id)} of action ${String(r.action_id)}`
    : `action ${String(r.action_id)}`
}
