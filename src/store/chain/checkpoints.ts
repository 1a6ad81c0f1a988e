/**
 * Checkpoints of the hash chain (migration 0013): signed statements of the chain's head, written
 * on demand (`actiontrail checkpoint`), periodically by a server that has a signing key, and by
 * retention (an archive or purge summarised, with reason 'archive'/'purge'). Listed by
 * `GET /v1/checkpoints` so that they can be kept outside the database, and checked by verify.
 */
import type { KeyObject } from 'node:crypto'
import type { Kysely } from 'kysely'
import {
  checkpointSignatureValid,
  keyIdOf,
  signCheckpoint,
  type CheckpointStatement,
  type SigningKey,
} from '../../security/chain/checkpoint-signature.js'
import { isHexLink } from '../../security/chain/chain-link.js'
import { canonicalTime } from '../rows.js'
import type { Row } from '../write/sql-step.js'
import { queryRows } from './run-plain-program.js'

/** Why a checkpoint was written. */
export type CheckpointReason = 'periodic' | 'manual' | 'archive' | 'purge' | 'export'

/** A stored checkpoint. */
export interface Checkpoint extends CheckpointStatement {
  id: number
  keyId: string
  signature: string
}

function toCheckpoint(r: Row): Checkpoint {
  return {
    id: Number(r.id),
    position: Number(r.position),
    link: String(r.link),
    createdAt: canonicalTime(r.created_at),
    reason: String(r.reason),
    summary: String(r.summary),
    keyId: String(r.key_id),
    signature: String(r.signature),
  }
}

const COLUMNS = 'id, position, link, created_at, reason, summary, key_id, signature'

/**
 * Signs and stores a checkpoint of the current head; undefined when no position is chained yet.
 * `summary` defaults to the live counts of actions and events.
 */
export async function writeCheckpoint(
  db: Kysely<unknown>,
  key: SigningKey,
  options: { reason: CheckpointReason; now: string; summary?: Record<string, unknown> },
): Promise<Checkpoint | undefined> {
  // One statement: the position and its link as one committed state.
  const [head] = await queryRows(db, 'SELECT last, link FROM change_head WHERE id = 1')
  if (!head || !isHexLink(head.link)) return undefined
  let summary = options.summary
  if (!summary) {
    const [counts] = await queryRows(
      db,
      'SELECT (SELECT count(*) FROM instance_actions) AS actions, ' +
        '(SELECT count(*) FROM instance_actions_events) AS events',
    )
    summary = { actions: Number(counts?.actions ?? 0), events: Number(counts?.events ?? 0) }
  }
  const statement: CheckpointStatement = {
    position: Number(head.last),
    link: head.link,
    createdAt: options.now,
    reason: options.reason,
    summary: JSON.stringify(summary),
  }
  const signature = signCheckpoint(key, statement)
  await queryRows(
    db,
    'INSERT INTO checkpoints (position, link, created_at, reason, summary, key_id, signature) ' +
      'VALUES (?, ?, ?, ?, ?, ?, ?)',
    [
      statement.position,
      statement.link,
      statement.createdAt,
      statement.reason,
      statement.summary,
      key.keyId,
      signature,
    ],
  )
  const [row] = await queryRows(
    db,
    `SELECT ${COLUMNS} FROM checkpoints WHERE key_id = ? AND signature = ?`,
    [key.keyId, signature],
  )
  return row && toCheckpoint(row)
}

/** Checkpoints with id > `after`, oldest first, at most `limit`. */
export async function listCheckpoints(
  db: Kysely<unknown>,
  { after = 0, limit = 1000 }: { after?: number; limit?: number } = {},
): Promise<Checkpoint[]> {
  const rows = await queryRows(
    db,
    `SELECT ${COLUMNS} FROM checkpoints WHERE id > ? ORDER BY id LIMIT ${Math.trunc(limit)}`,
    [after],
  )
  return rows.map(toCheckpoint)
}

/** The checkpoint with this id. */
export async function getCheckpoint(
  db: Kysely<unknown>,
  id: number,
): Promise<Checkpoint | undefined> {
  const [row] = await queryRows(db, `SELECT ${COLUMNS} FROM checkpoints WHERE id = ?`, [id])
  return row && toCheckpoint(row)
}

/** The newest checkpoint's position (0 when there is none). */
export async function lastCheckpointPosition(db: Kysely<unknown>): Promise<number> {
  const [row] = await queryRows(db, 'SELECT max(position) AS p FROM checkpoints')
  return Number(row?.p ?? 0)
}

/** What is wrong with one checkpoint, if anything. */
export interface CheckpointProblem {
  problem: 'signature_invalid' | 'unknown_key' | 'link_mismatch'
  checkpointId: number
  position: number
  message: string
}

/** Checks one checkpoint's signature against `publicKey`; a problem or undefined. */
export function checkCheckpointSignature(
  publicKey: KeyObject,
  c: Checkpoint,
): CheckpointProblem | undefined {
  if (c.keyId !== keyIdOf(publicKey))
    return {
      problem: 'unknown_key',
      checkpointId: c.id,
      position: c.position,
      message: `checkpoint ${c.id} names a key other than the one given (${c.keyId.slice(0, 16)}…)`,
    }
  if (!checkpointSignatureValid(publicKey, c, c.signature))
    return {
      problem: 'signature_invalid',
      checkpointId: c.id,
      position: c.position,
      message: `checkpoint ${c.id} (position ${c.position}): signature invalid, forged or altered`,
    }
  return undefined
}

/**
 * Checks every checkpoint: its signature, and that its link is the chain's stored link at its
 * position (verify's pass 1 establishes that the stored links are the recomputed ones).
 */
export async function verifyCheckpoints(
  db: Kysely<unknown>,
  publicKey: KeyObject,
): Promise<{ checked: number; problems: CheckpointProblem[] }> {
  const problems: CheckpointProblem[] = []
  let checked = 0
  for (let after = 0; ;) {
    const page = await listCheckpoints(db, { after, limit: 1000 })
    if (page.length === 0) break
    for (const c of page) {
      checked += 1
      const bad = checkCheckpointSignature(publicKey, c)
      if (bad) {
        problems.push(bad)
        continue
      }
      const [entry] = await queryRows(db, 'SELECT link FROM changes WHERE position = ?', [
        c.position,
      ])
      if (!entry || entry.link !== c.link)
        problems.push({
          problem: 'link_mismatch',
          checkpointId: c.id,
          position: c.position,
          message:
            `checkpoint ${c.id}: the chain's link at position ${c.position} is not the signed one ` +
            '(history up to there was rewritten or removed)',
        })
    }
    after = page[page.length - 1]!.id
  }
  return { checked, problems }
}
