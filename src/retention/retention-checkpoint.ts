/**
 * The signed checkpoint that closes a retention run which removed history (issue 13): its reason
 * (`archive` or `purge`) and summary (the cut-off and the rows moved or deleted) state what left
 * the live tables, signed with the chain's key, so that an auditor holding the checkpoints sees
 * each removal as an operator's act, at its time, rather than only as entries inside the chain.
 * The per-action chain entries that archive and purge write already make the removal verifiable;
 * the checkpoint pins it and the chain's head at that moment outside the database.
 */
import type { SigningKey } from '../security/chain/checkpoint-signature.js'
import type { CheckpointLog } from '../store/chain/checkpoint-log.js'
import type { Checkpoint } from '../store/chain/checkpoints.js'
import type { RetentionCounts } from '../store/write/retention-programs.js'

/** Writes the checkpoint of a run that removed something; undefined when it removed nothing. */
export async function retentionCheckpoint(
  log: CheckpointLog,
  key: SigningKey,
  run: { reason: 'archive' | 'purge'; before: string | null; counts: RetentionCounts; now: string },
): Promise<Checkpoint | undefined> {
  const { instances, actions, events } = run.counts
  if (instances + actions + events === 0) return undefined
  return log.write(key, {
    reason: run.reason,
    now: run.now,
    summary: { before: run.before ?? 'all', instances, actions, events },
  })
}
