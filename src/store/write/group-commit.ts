/**
 * Group commit: writes submitted while the previous transaction is being committed (or in the same
 * event-loop turn) are coalesced into one transaction, so concurrent writers share one durable
 * commit instead of paying one fsync each. Every submitter's promise resolves only after the
 * transaction holding its writes has committed.
 */
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import type { WriteExecutor } from './write-executor.js'

interface Pending {
  ops: readonly StoreWrite[]
  resolve: (outcomes: WriteOutcome[]) => void
  reject: (err: unknown) => void
}

/** Options of the group committer. */
export interface GroupCommitOptions {
  /** Upper bound of writes per transaction, to bound lock time and memory. */
  maxOpsPerCommit?: number
}

/** Coalesces concurrent submissions into shared transactions on one executor. */
export class GroupCommitter {
  readonly #executor: WriteExecutor
  readonly #maxOps: number
  #queue: Pending[] = []
  #scheduled = false
  #running = false

  constructor(executor: WriteExecutor, { maxOpsPerCommit = 5000 }: GroupCommitOptions = {}) {
    this.#executor = executor
    this.#maxOps = maxOpsPerCommit
  }

  /** Queues writes; resolves with their outcomes once committed. */
  submit(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    if (ops.length === 0) return Promise.resolve([])
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return
    this.#scheduled = true
    // setImmediate lets every writer that is ready in this turn join the same transaction.
    setImmediate(() => {
      this.#scheduled = false
      void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    if (this.#queue.length === 0) return
    this.#running = true
    const group: Pending[] = []
    let count = 0
    while (this.#queue.length > 0 && (group.length === 0 || count + (this.#queue[0]?.ops.length ?? 0) <= this.#maxOps)) {
      const next = this.#queue.shift() as Pending
      group.push(next)
      count += next.ops.length
    }
    try {
      const outcomes = await this.#executor.execute(group.flatMap((p) => p.ops))
      let offset = 0
      for (const p of group) {
        p.resolve(outcomes.slice(offset, offset + p.ops.length))
        offset += p.ops.length
      }
    } catch (err) {
      for (const p of group) p.reject(err)
    } finally {
      this.#running = false
      if (this.#queue.length > 0) this.#schedule()
    }
  }
}
