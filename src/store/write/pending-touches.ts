/** Coalesced `touch` steps of one transaction (see sql-step.ts). */
import { ACTION_ERROR_MESSAGE } from '../../domain/instance-action.js'
import { run, type SqlStep } from './sql-step.js'

/** Pending action updates: the last updated_at wins, a failure is never forgotten. */
export class PendingTouches {
  readonly #byAction = new Map<number, { updatedAt: string; failed: boolean }>()

  /** Records a touch. */
  add(actionId: number, updatedAt: string, failed: boolean): void {
    const prev = this.#byAction.get(actionId)
    this.#byAction.set(actionId, { updatedAt, failed: failed || (prev?.failed ?? false) })
  }

  /** The UPDATE statements that apply and clear every pending touch. */
  drain(): SqlStep[] {
    const steps: SqlStep[] = []
    for (const [id, t] of this.#byAction) {
      steps.push(
        t.failed
          ? run(
              'UPDATE instance_actions SET updated_at = ?, message = ? WHERE id = ?',
              t.updatedAt,
              ACTION_ERROR_MESSAGE,
              id,
            )
          : run('UPDATE instance_actions SET updated_at = ? WHERE id = ?', t.updatedAt, id),
      )
    }
    this.#byAction.clear()
    return steps
  }

  /** Drops pending touches (after a rollback). */
  clear(): void {
    this.#byAction.clear()
  }
}
