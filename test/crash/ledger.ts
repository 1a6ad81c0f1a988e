/**
 * What the server acknowledged, and the check of a database against it. A write is acknowledged
 * when its answer arrived in full with 200/201 (for a batch: at its index in `results`). After a
 * crash every acknowledged write must be stored exactly once with the values sent; writes that
 * were in flight may be stored or not, but never twice and never in part.
 */
import type { Answer, Op, WriteRequest } from './workload.js'

/** Rows as the verifier reads them from any backend (times in canonical form). */
export interface Rows {
  instances: { uuid: string; name: string }[]
  actions: {
    instance_uuid: string
    request_id: string
    action: string
    finish_time: string | null
    message: string | null
  }[]
  events: {
    instance_uuid: string
    request_id: string
    event: string
    start_time: string
    finish_time: string | null
    result: string | null
  }[]
}

interface ExpectedEvent {
  start: string
  finish?: { time: string; result: string }
}

interface ExpectedAction {
  action: string
  finish?: string
  events: Map<string, ExpectedEvent>
}

/** A keyed request answered in full, kept to check that a retry replays the same answer. */
export interface KeyedAnswer {
  req: WriteRequest
  answer: Answer
}

/** How a request's answer may look. */
export interface AbsorbOptions {
  /**
   * Server backends while their connections are being killed: a 503 (for the request or for a
   * batch's failed chunk onwards) is an allowed answer, acknowledging nothing it covers.
   */
  allowUnavailable?: boolean
}

/** The key of an action in the ledger and in {@link Ledger.verify}'s `only`. */
export const actionKey = (uuid: unknown, requestId: unknown) =>
  `${String(uuid)} ${String(requestId)}`

/** The acknowledged writes of one run. */
export class Ledger {
  readonly instances = new Map<string, string>()
  readonly actions = new Map<string, ExpectedAction>()
  /** Acknowledgements received (an operation acknowledged twice, by a retry, counts twice). */
  acknowledged = 0
  /** 503 answers received (whole requests, or a batch's operations). */
  unavailable = 0
  /** Keyed requests answered in full and remembered by the server (nothing 5xx in them). */
  readonly keyed: KeyedAnswer[] = []

  /** Records one acknowledged operation. */
  ack(op: Op): void {
    this.acknowledged++
    const key = actionKey(op.instance_uuid, op.request_id)
    switch (op.op) {
      case 'instance_put':
        this.instances.set(op.instance_uuid, String(op.name))
        return
      case 'action_start':
        if (!this.actions.has(key))
          this.actions.set(key, { action: String(op.action), events: new Map() })
        return
    }
    const action = this.actions.get(key)
    if (!action) throw new Error(`${op.op} of ${key} acknowledged before its action_start was`)
    if (op.op === 'action_finish') {
      action.finish = String(op.finish_time)
    } else if (op.op === 'event_start') {
      action.events.set(String(op.event), { start: String(op.start_time) })
    } else if (op.op === 'event_finish') {
      const event = action.events.get(String(op.event))
      if (!event) throw new Error(`event_finish of ${key} acknowledged before its event_start`)
      event.finish = { time: String(op.finish_time), result: String(op.result) }
    }
  }

  /**
   * Records what an answer acknowledges; throws on an answer no correct server gives (a 4xx to
   * this workload's valid writes, a 500, a 503 where none is allowed, a 2xx after a failed chunk).
   */
  absorb(req: WriteRequest, answer: Answer, options: AbsorbOptions = {}): void {
    const where = `${req.method} ${req.path}${req.key ? ` (key ${req.key})` : ''}`
    const fail = (why: string) => {
      throw new Error(`${where}: ${why}: ${answer.status} ${answer.text.slice(0, 300)}`)
    }
    const unavailable = (status: number) => options.allowUnavailable === true && status === 503
    if (unavailable(answer.status)) {
      this.unavailable += req.ops.length
      return
    }
    if (!req.batch) {
      if (answer.status !== 200 && answer.status !== 201) fail('unexpected status')
      this.ack(req.ops[0] as Op)
      if (req.key) this.keyed.push({ req, answer })
      return
    }
    if (answer.status !== 200) fail('unexpected batch status')
    const { results } = JSON.parse(answer.text) as { results: { status: number }[] }
    if (results.length !== req.ops.length)
      fail(`${results.length} results for ${req.ops.length} operations`)
    let failedAt: number | undefined
    results.forEach(({ status }, i) => {
      if (status === 200 || status === 201) {
        if (failedAt !== undefined)
          fail(`operation ${i} applied after the chunk failed at ${failedAt}`)
        this.ack(req.ops[i] as Op)
      } else if (unavailable(status)) {
        failedAt ??= i
        this.unavailable++
      } else {
        fail(`operation ${i} answered ${status}`)
      }
    })
    if (req.key && failedAt === undefined) this.keyed.push({ req, answer })
  }

  /**
   * Everything wrong with `rows` against what was acknowledged; empty when all is well. With
   * `only`, just those actions are expected (rows read for a sample of them); `withoutActionFinish`
   * when the rows cannot show an action's finish time (Nova's `show` has none).
   */
  verify(
    rows: Rows,
    {
      only,
      withoutActionFinish = false,
    }: { only?: ReadonlySet<string>; withoutActionFinish?: boolean } = {},
  ): string[] {
    const problems: string[] = []
    const names = new Map(rows.instances.map((i) => [i.uuid, i.name]))
    for (const [uuid, name] of only ? [] : this.instances) {
      if (names.get(uuid) !== name) problems.push(`instance ${uuid}: ${names.get(uuid)} ≠ ${name}`)
    }
    const actions = new Map<string, Rows['actions']>()
    for (const row of rows.actions) {
      const key = actionKey(row.instance_uuid, row.request_id)
      actions.set(key, [...(actions.get(key) ?? []), row])
    }
    const events = new Map<string, Rows['events']>()
    const failedActions = new Set<string>()
    for (const row of rows.events) {
      const key = `${actionKey(row.instance_uuid, row.request_id)} ${row.event}`
      events.set(key, [...(events.get(key) ?? []), row])
      if (row.result === 'Error') failedActions.add(actionKey(row.instance_uuid, row.request_id))
    }
    // Stored at most once, whether acknowledged or not (every write here has unique times).
    for (const [key, list] of actions)
      if (list.length > 1) problems.push(`action ${key} stored ${list.length} times`)
    for (const [key, list] of events)
      if (list.length > 1) problems.push(`event ${key} stored ${list.length} times`)
    // Never in part: an event's failure and its action's message commit together.
    for (const [key, [row]] of actions) {
      const failed = failedActions.has(key)
      if ((row?.message === 'Error') !== failed)
        problems.push(`action ${key}: message ${row?.message} but failed events: ${failed}`)
    }
    // Every acknowledged write is there, with what was sent.
    for (const [key, expected] of this.actions) {
      if (only && !only.has(key)) continue
      const [row] = actions.get(key) ?? []
      if (!row) {
        problems.push(`acknowledged action ${key} is missing`)
        continue
      }
      if (row.action !== expected.action) problems.push(`action ${key}: ${row.action}`)
      if (
        !withoutActionFinish &&
        expected.finish !== undefined &&
        row.finish_time !== expected.finish
      )
        problems.push(`action ${key}: finish_time ${row.finish_time} ≠ ${expected.finish}`)
      for (const [name, event] of expected.events) {
        const [stored] = events.get(`${key} ${name}`) ?? []
        if (!stored) {
          problems.push(`acknowledged event ${key} ${name} is missing`)
          continue
        }
        if (stored.start_time !== event.start)
          problems.push(`event ${key} ${name}: start_time ${stored.start_time} ≠ ${event.start}`)
        if (
          event.finish &&
          (stored.finish_time !== event.finish.time || stored.result !== event.finish.result)
        ) {
          problems.push(
            `event ${key} ${name}: finished ${stored.finish_time}/${stored.result}, ` +
              `acknowledged ${event.finish.time}/${event.finish.result}`,
          )
        }
      }
    }
    return problems
  }

  /** Acknowledged operations by kind, for the report. */
  counts(): { instances: number; actions: number; events: number } {
    let events = 0
    for (const a of this.actions.values()) events += a.events.size
    return { instances: this.instances.size, actions: this.actions.size, events }
  }
}

/** Which operations `rows` show applied (each workload operation leaves a recognisable trace). */
export function appliedIn(rows: Rows): (op: Op) => boolean {
  const instances = new Map(rows.instances.map((i) => [i.uuid, i.name]))
  const actions = new Map(rows.actions.map((a) => [actionKey(a.instance_uuid, a.request_id), a]))
  const events = new Map(
    rows.events.map((e) => [`${actionKey(e.instance_uuid, e.request_id)} ${e.event}`, e]),
  )
  return (op) => {
    const key = actionKey(op.instance_uuid, op.request_id)
    switch (op.op) {
      case 'instance_put':
        return instances.get(op.instance_uuid) === op.name
      case 'action_start':
        return actions.has(key)
      case 'action_finish':
        return actions.get(key)?.finish_time === op.finish_time
      case 'event_start':
        return events.get(`${key} ${String(op.event)}`)?.start_time === op.start_time
      case 'event_finish':
        return events.get(`${key} ${String(op.event)}`)?.finish_time === op.finish_time
      default:
        throw new Error(`unknown operation ${op.op}`)
    }
  }
}

/**
 * A batch in flight at a crash is applied in whole transactions (chunks of `chunkSize`) or not:
 * the chunks of `ops` that `rows` show applied in part.
 */
export function partialChunks(rows: Rows, ops: readonly Op[], chunkSize: number): string[] {
  const applied = appliedIn(rows)
  const problems: string[] = []
  for (let start = 0; start < ops.length; start += chunkSize) {
    const chunk = ops.slice(start, start + chunkSize).map(applied)
    const count = chunk.filter(Boolean).length
    if (count > 0 && count < chunk.length)
      problems.push(`chunk at ${start}: ${count} of ${chunk.length} operations applied`)
  }
  return problems
}
