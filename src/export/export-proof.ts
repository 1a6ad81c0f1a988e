/**
 * The proof an export can carry (`actiontrail export --proof`), so that an auditor holding only
 * the public key can check it offline (`actiontrail verify --export`, verify-export.ts):
 *
 * - the header names the chain's head position when the export began (`proof.head_at_start`);
 * - every record carries its stored ids (`ids`), without which its digest cannot be recomputed;
 * - after the records, the chain's entries from its first linked position to a checkpoint signed at
 *   the end of the export, in `actiontrail_chain` lines of up to {@link PROOF_ENTRIES_PER_LINE}
 *   entries (`[position, kind, action_id, event_id, digest, link]`), then that checkpoint in an
 *   `actiontrail_checkpoint` line.
 *
 * The checkpoint is signed after the last record was read, so every version of a record the export
 * shows was committed at or before its position: its entry is in the proof. The whole chain is
 * included, not only the exported records' entries: a link can only be recomputed from the one
 * before it.
 */
import type { Kysely } from 'kysely'
import { queryRows } from '../store/chain/run-plain-program.js'
import type { Checkpoint } from '../store/chain/checkpoints.js'
import { checkpointView, type CheckpointView } from '../api/v1/views.js'

/** Entries per `actiontrail_chain` line: big enough that the JSON overhead per line is small. */
export const PROOF_ENTRIES_PER_LINE = 1000

/** One chain entry as a proof line lists it: position, kind, action id, event id, digest, link. */
export type ProofEntry = [number, string, number, number | null, string, string]

/** A line of chain entries. */
export interface ProofChainLine {
  actiontrail_chain: ProofEntry[]
}

/** The checkpoint line: a stored checkpoint, as `GET /v1/checkpoints` shows one. */
export interface ProofCheckpointLine {
  actiontrail_checkpoint: CheckpointView
}

/** The checkpoint line of `c`. */
export function checkpointLine(c: Checkpoint): ProofCheckpointLine {
  return { actiontrail_checkpoint: checkpointView(c) }
}

/** The chain's head position now (0 before anything was written). */
export async function chainHeadPosition(db: Kysely<unknown>): Promise<number> {
  const [head] = await queryRows(db, 'SELECT last FROM change_head WHERE id = 1')
  return Number(head?.last ?? 0)
}

/**
 * The proof's lines: the linked entries up to `checkpoint.position`, read in pages by position
 * (the primary key, so each page is an index range), then the checkpoint line. Entries written
 * before the chain existed (no link) are left out: nothing can prove them.
 */
export async function* proofLines(
  db: Kysely<unknown>,
  checkpoint: Checkpoint,
  pageSize = 5 * PROOF_ENTRIES_PER_LINE,
): AsyncGenerator<string> {
  let after = 0
  while (after < checkpoint.position) {
    const rows = await queryRows(
      db,
      'SELECT position, kind, action_id, event_id, digest, link FROM changes ' +
        `WHERE position > ? AND position <= ? ORDER BY position LIMIT ${Math.trunc(pageSize)}`,
      [after, checkpoint.position],
    )
    if (rows.length === 0) break
    after = Number(rows[rows.length - 1]!.position)
    const entries: ProofEntry[] = []
    for (const r of rows) {
      if (typeof r.link !== 'string') continue
      entries.push([
        Number(r.position),
        String(r.kind),
        Number(r.action_id),
        r.event_id === null || r.event_id === undefined ? null : Number(r.event_id),
        String(r.digest),
        r.link,
      ])
    }
    let text = ''
    for (let i = 0; i < entries.length; i += PROOF_ENTRIES_PER_LINE) {
      const line: ProofChainLine = {
        actiontrail_chain: entries.slice(i, i + PROOF_ENTRIES_PER_LINE),
      }
      text += JSON.stringify(line) + '\n'
    }
    if (text !== '') yield text
  }
  yield JSON.stringify(checkpointLine(checkpoint)) + '\n'
}
