/**
 * Group commit: writes submitted while earlier transactions are being committed (or in the same
 * event-loop turn) are coalesced into one transaction, so concurrent writers share one durable
 * commit instead of paying one each. Every submitter's promise resolves only after the
 * transaction holding its writes has committed.
 *
 * An executor may run several transactions at once (a pool of server connections: see
 * WriteExecutor.concurrency); then up to that many groups are in flight, each gathering what
 * arrived while the others were busy. A writer that awaits each write before the next keeps its
 * order either way, because its next write is only submitted after the previous one committed.
 */
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import type { WriteExecutor } from './write-executor.js'

interface Pending {
  ops: readonly StoreWrite[]
  /** performance.now() when submitted. */
  queuedAt: number
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
  readonly #maxInFlight: number
  #queue: Pending[] = []
  #scheduled = false
  #inFlight = 0

  constructor(executor: WriteExecutor, { maxOpsPerCommit = 5000 }: GroupCommitOptions = {}) {
    this.#executor = executor
    this.#maxOps = maxOpsPerCommit
    this.#maxInFlight = Math.max(1, Math.trunc(executor.concurrency ?? 1))
  }

  /** Queues writes; resolves with their outcomes once committed. */
  submit(ops: readonly StoreWrite[]): Promise<WriteOutcome[]> {
    if (ops.length === 0) return Promise.resolve([])
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, queuedAt: performance.now(), resolve, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#queue.length === 0) return
    this.#scheduled = true
    // setImmediate lets every writer that is ready in this turn join the same transaction.
    setImmediate(() => {
      this.#scheduled = false
      while (this.#queue.length > 0 && this.#inFlight < this.#maxInFlight)
        void this.#commit(this.#nextGroup())
    })
  }

  /** The oldest submissions that fit in one transaction (a larger single submission goes alone). */
  #nextGroup(): Pending[] {
    let count = 0
    let n = 0
    while (
      n < this.#queue.length &&
      (n === 0 || count + (this.#queue[n]?.ops.length ?? 0) <= this.#maxOps)
    ) {
      count += this.#queue[n]?.ops.length ?? 0
      n++
    }
    return this.#queue.splice(0, n)
  }

  async #commit(group: Pending[]): Promise<void> {
    this.#inFlight++
    try {
      const outcomes = await this.#executor.execute(
        group.flatMap((p) => p.ops),
        // The group is in submission order: its first write has waited longest.
        { queuedAt: group[0]?.queuedAt ?? performance.now() },
      )
      let offset = 0
      for (const p of group) {
        p.resolve(outcomes.slice(offset, offset + p.ops.length))
        offset += p.ops.length
      }
    } catch (err) {
      for (const p of group) p.reject(err)
    } finally {
      this.#inFlight--
      this.#schedule()
    }
  }
}
