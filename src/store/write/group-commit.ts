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

/**
 * Told about each transaction and each write's outcome (the server's metrics); kept out of the
 * committer's result so that the store knows nothing of how they are counted.
 */
export interface CommitObserver {
  /** A transaction of `operations` writes ended after `seconds`, committed or not. */
  committed(operations: number, seconds: number, ok: boolean): void
  /** One write's outcome: `ok`, or its error code. */
  wrote(operation: string, outcome: string): void
}

/** Options of the group committer. */
export interface GroupCommitOptions {
  /** Upper bound of writes per transaction, to bound lock time and memory. */
  maxOpsPerCommit?: number
  /** Told about each transaction and write (metrics); nothing when absent. */
  observer?: CommitObserver
}

/** Coalesces concurrent submissions into shared transactions on one executor. */
export class GroupCommitter {
  readonly #executor: WriteExecutor
  readonly #maxOps: number
  readonly #maxInFlight: number
  readonly #observer: CommitObserver | undefined
  #queue: Pending[] = []
  #scheduled = false
  #inFlight = 0

  constructor(
    executor: WriteExecutor,
    { maxOpsPerCommit = 5000, observer }: GroupCommitOptions = {},
  ) {
    this.#executor = executor
    this.#observer = observer
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
    const ops = group.flatMap((p) => p.ops)
    const started = performance.now()
    try {
      const outcomes = await this.#executor.execute(
        ops,
        // The group is in submission order: its first write has waited longest.
        { queuedAt: group[0]?.queuedAt ?? performance.now() },
      )
      this.#observe(ops, outcomes, started)
      let offset = 0
      for (const p of group) {
        p.resolve(outcomes.slice(offset, offset + p.ops.length))
        offset += p.ops.length
      }
    } catch (err) {
      this.#observer?.committed(ops.length, (performance.now() - started) / 1000, false)
      for (const p of group) p.reject(err)
    } finally {
      this.#inFlight--
      this.#schedule()
    }
  }

  #observe(ops: readonly StoreWrite[], outcomes: readonly WriteOutcome[], started: number): void {
    const observer = this.#observer
    if (!observer) return
    observer.committed(ops.length, (performance.now() - started) / 1000, true)
    for (let i = 0; i < ops.length; i++) {
      const outcome = outcomes[i]
      observer.wrote(ops[i]?.op ?? 'unknown', outcome?.ok === false ? outcome.error.code : 'ok')
    }
  }
}
