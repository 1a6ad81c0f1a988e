/**
 * Plans the hash chain of an offline import's batches ahead of the writer, on the reader thread
 * (cell-reader-worker.ts): each batch leaves with its digests and links computed from where the
 * writer will stand when it takes it (store/sqlite/offline-batch-layout.ts chainAhead), so that
 * the writer's thread, the load's bottleneck, only checks the plan and binds it.
 *
 * The planner runs ahead of the writes, so where the writer will stand is a prediction: where the
 * previous planned batch ends. The writer says where it stood after each batch ({@link written},
 * in order). While each report matches the prediction for that batch, planning goes on. When one
 * does not (the writer merged a batch online, found other owners, or could not take a plan), the
 * batches planned after it carry plans from a wrong place, which the writer refuses (it computes
 * their chain itself); the planner then waits until every batch it sent is reported, and goes on
 * from the last report. A wrong prediction costs speed, never a wrong chain: the writer takes a
 * plan only for the exact place and batch it was made for.
 */
import {
  chainAhead,
  sameCursor,
  type ChainCursor,
} from '../../store/sqlite/offline-batch-layout.js'
import type { ChainStart } from './import-batch-reader.js'
import type { ImportBatch } from './nova-records.js'
import type { SentInstances } from './sent-instances.js'

/** The reader thread's planner (see the module). */
export class ChainPlanner {
  readonly #tag: string | null
  /** Where the writer will stand before the next batch planned; undefined: not known now. */
  #cursor: ChainCursor | undefined
  /** The last place the writer reported. */
  #last: ChainCursor
  #sent = 0
  #reported = 0
  /** The predicted place after each batch sent and not yet reported (undefined: not planned). */
  readonly #predicted = new Map<number, ChainCursor | undefined>()
  #caughtUp: (() => void) | undefined

  readonly #known: SentInstances

  /**
   * `sent`: the instances the walk sent, the batch being planned's included (sent-instances.ts):
   * those the store will know when the batch is written.
   */
  constructor(start: ChainStart, sent: SentInstances) {
    this.#known = sent
    this.#tag = start.tag
    this.#cursor = start.cursor
    this.#last = start.cursor
  }

  /** `batch` with its chain planned where possible; called for each batch sent, in order. */
  async plan(batch: ImportBatch): Promise<ImportBatch> {
    if (this.#cursor === undefined) {
      // Where the writer will stand is known once it has written everything sent before.
      while (this.#reported < this.#sent)
        await new Promise<void>((resolve) => (this.#caughtUp = resolve))
      this.#cursor = this.#last
    }
    const index = this.#sent++
    const planned = chainAhead(this.#known, batch.actions, this.#tag, this.#cursor)
    this.#cursor = planned?.after
    this.#predicted.set(index, planned?.after)
    return planned ? { ...batch, chain: planned.ahead } : batch
  }

  /** Where the writer stood after the next batch in order. */
  written(cursor: ChainCursor): void {
    const index = this.#reported++
    const predicted = this.#predicted.get(index)
    if (!predicted || !sameCursor(predicted, cursor)) this.#cursor = undefined
    this.#predicted.delete(index)
    this.#last = cursor
    if (this.#reported === this.#sent) this.#caughtUp?.()
  }
}
