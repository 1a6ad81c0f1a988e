/**
 * The synthetic history of the scale benchmark (bench/scale.ts): deterministic, so every backend
 * and every loader builds the same rows. One hot instance receives every k-th action; the others
 * are spread pseudo-randomly over the remaining instances. Timestamps have microseconds, increase
 * with the action number over one year, and every 50th action of the hot instance shares its
 * created_at with the previous one (Nova orders such ties by id). One action in 1,000 never
 * finishes (its last event still runs), as Nova leaves them after a service restart: the query
 * API's `result=running` and `state=stuck` have something to find, and it is rare, as it is in
 * production.
 */
import type { StoreWrite } from '../src/store/action-store.js'
import type { Timestamp } from '../src/domain/timestamp.js'

/** Shape of a history. */
export interface HistoryShape {
  actions: number
  eventsPerAction: number
  instances: number
  /** Actions of the hot instance (instance 0). */
  hot: number
  /** Every action finished (the history of the benchmarks before issue 10). */
  noRunning?: boolean
}

/** One event of a planned action, already finished. */
export interface PlannedEvent {
  event: string
  host: string
  startTime: Timestamp
  createdAt: Timestamp
  /** Null while the event runs (the last event of a running action). */
  finishTime: Timestamp | null
  result: 'Success' | 'Error' | null
  traceback: string | null
  details: string | null
  updatedAt: Timestamp | null
}

/** One action with its events, in its final state. */
export interface PlannedAction {
  instanceUuid: string
  action: string
  requestId: string
  userId: string
  projectId: string
  startTime: Timestamp
  createdAt: Timestamp
  /** Null for a running action (1 in 1,000): its last event never finished. */
  finishTime: Timestamp | null
  /** True when one of its events failed: the action's message is then "Error". */
  failed: boolean
  /** Its updated_at: the finish time, or for a running action its last event's start. */
  updatedAt: Timestamp
  events: PlannedEvent[]
}

/** Start of the history (2025-01-01T00:00:00Z) in epoch microseconds. */
export const HISTORY_START_MICROS = Date.UTC(2025, 0, 1) * 1000

/** The history spans one year, whatever the number of actions. */
export const HISTORY_SPAN_MICROS = 365 * 24 * 3600 * 1_000_000

const ACTION_NAMES = [
  'create',
  'reboot',
  'stop',
  'start',
  'resize',
  'confirmResize',
  'live-migration',
  'rebuild',
  'pause',
  'unpause',
]

const TRACEBACK =
  'Traceback (most recent call last):\n' +
  '  File "nova/compute/manager.py", line 10234, in _do_build_and_run_instance\n' +
  '    self._build_and_run_instance(context, instance, image, **kwargs)\n' +
  '  File "nova/virt/libvirt/driver.py", line 4521, in spawn\n' +
  '    self._create_guest_with_network(context, xml, instance, network_info)\n' +
  'nova.exception.InstanceNotRunning: Instance is not running.\n'

/**
 * A 32-bit integer hash (lowbias32). It is a bijection on 32-bit integers, so ids built from it
 * are unique, while looking random: the unique and primary-key indexes see realistic, scattered
 * inserts rather than append-only ones.
 */
export function hash32(value: number): number {
  let x = value >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0')
}

/** A unique, random-looking UUID for number `i` within namespace `ns`. */
function uuidOf(ns: number, i: number): string {
  const a = hex8(hash32(i))
  const b = hex8(hash32(i ^ ns))
  const c = hex8(hash32((i + ns) ^ 0x5bd1e995))
  const d = hex8(hash32(i * 31 + ns))
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${c.slice(1, 4)}-${c.slice(4)}${d}`
}

/** UUID of instance `i` (instance 0 is the hot one). */
export function instanceUuid(i: number): string {
  return uuidOf(0x1a2b3c4d, i)
}

/** Project owning instance `i`: 200 projects. */
export function projectOf(i: number): string {
  return uuidOf(0x0badcafe, i % 200).replace(/-/g, '')
}

let cachedSecond = Number.NaN
let cachedPrefix = ''

/** Canonical timestamp of epoch microseconds; caches the formatted second (called ~10 × per action). */
export function ts(micros: number): Timestamp {
  const second = Math.floor(micros / 1_000_000)
  if (second !== cachedSecond) {
    cachedSecond = second
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19)
  }
  return `${cachedPrefix}.${String(micros - second * 1_000_000).padStart(6, '0')}` as Timestamp
}

/** Derived constants of a shape. */
export class History {
  readonly shape: HistoryShape
  /** Every k-th action belongs to the hot instance. */
  readonly k: number
  readonly #step: number
  readonly #jitter: number

  constructor(shape: HistoryShape) {
    if (shape.hot < 1 || shape.hot > shape.actions)
      throw new Error('--hot must be between 1 and --actions')
    if (shape.instances < 2) throw new Error('--instances must be at least 2')
    this.shape = shape
    this.k = Math.floor(shape.actions / shape.hot)
    this.#step = HISTORY_SPAN_MICROS / shape.actions
    // Jitter below the step keeps created_at strictly increasing with the action number.
    this.#jitter = Math.max(1, Math.min(1_000_000, Math.floor(this.#step / 2)))
  }

  /** Number of hot-instance actions actually generated. */
  get hotActions(): number {
    return Math.min(this.shape.hot, Math.ceil(this.shape.actions / this.k))
  }

  #isHot(n: number): boolean {
    return n % this.k === 0 && n / this.k < this.shape.hot
  }

  #instanceOf(n: number): number {
    if (this.#isHot(n)) return 0
    return 1 + (hash32(n ^ 0x9e3779b9) % (this.shape.instances - 1))
  }

  /** created_at of action n in epoch microseconds. */
  createdMicros(n: number): number {
    if (this.#isHot(n)) {
      const h = n / this.k
      // Every 50th hot action (from the second on) ties with the previous one.
      if (h % 50 === 1) return this.#baseMicros(n - this.k)
    }
    return this.#baseMicros(n)
  }

  #baseMicros(n: number): number {
    return HISTORY_START_MICROS + Math.floor(n * this.#step) + (hash32(n) % this.#jitter)
  }

  /** Action n in its final state. */
  action(n: number): PlannedAction {
    const instance = this.#instanceOf(n)
    const h = hash32(n * 7 + 3)
    const created = this.createdMicros(n)
    const name = ACTION_NAMES[h % ACTION_NAMES.length] as string
    const running = !this.shape.noRunning && (h >>> 8) % 1000 === 7
    const failed = !running && h % 100 === 42
    const events: PlannedEvent[] = []
    let t = created + 1000
    let lastStart = t
    for (let e = 0; e < this.shape.eventsPerAction; e++) {
      const start = t
      lastStart = start
      const finish = start + 800_000 + (hash32(n * 13 + e) % 900_000)
      const error = failed && e === this.shape.eventsPerAction - 1
      const open = running && e === this.shape.eventsPerAction - 1
      events.push({
        event: `compute_${name.replace(/-/g, '_')}_step_${e}`,
        host: `compute-${h % 50}`,
        startTime: ts(start),
        createdAt: ts(start + 37),
        finishTime: open ? null : ts(finish),
        result: open ? null : error ? 'Error' : 'Success',
        traceback: error ? TRACEBACK : null,
        details: error ? 'Instance is not running.' : null,
        updatedAt: open ? null : ts(finish + 41),
      })
      t = finish + 2000
    }
    const finishTime = running ? null : ts(t + 100_000)
    return {
      instanceUuid: instanceUuid(instance),
      action: name,
      requestId: `req-${uuidOf(0x2545f491, n)}`,
      userId: userOf(h),
      projectId: projectOf(instance),
      startTime: ts(created - 200),
      createdAt: ts(created),
      finishTime,
      failed,
      // An event start or finish moves the action's updated_at to its own time (write-programs).
      updatedAt: finishTime ?? (events.length > 0 ? ts(lastStart) : ts(created - 200)),
      events,
    }
  }
}

/** The user who started an action whose hash is `h`: 1,000 users. */
export function userOf(h: number): string {
  return uuidOf(0x68e31da4, h % 1000).replace(/-/g, '')
}

/** The action names of the history, one in ten actions each. */
export const HISTORY_ACTION_NAMES: readonly string[] = ACTION_NAMES

/** The instance_put writes of every instance. */
export function instanceOps(shape: HistoryShape): StoreWrite[] {
  const now = ts(HISTORY_START_MICROS - 86_400_000_000)
  return Array.from({ length: shape.instances }, (_, i) => ({
    op: 'instance_put' as const,
    values: {
      uuid: instanceUuid(i),
      name: `vm-${i}`,
      projectId: projectOf(i),
      userId: 'u'.repeat(32),
      now,
    },
  }))
}

/**
 * The write path of one action, as the recorder sends it: start the action, start and finish
 * each event, finish the action — 2 + 2 × eventsPerAction operations (two fewer for a running
 * action).
 */
export function actionOps(a: PlannedAction): StoreWrite[] {
  const key = { instanceUuid: a.instanceUuid, requestId: a.requestId }
  const ops: StoreWrite[] = [
    {
      op: 'action_start',
      values: {
        ...key,
        action: a.action,
        userId: a.userId,
        projectId: a.projectId,
        startTime: a.startTime,
        createdAt: a.createdAt,
      },
    },
  ]
  for (const e of a.events) {
    ops.push({
      op: 'event_start',
      values: {
        ...key,
        event: e.event,
        host: e.host,
        startTime: e.startTime,
        createdAt: e.createdAt,
      },
    })
    if (e.finishTime === null || e.result === null || e.updatedAt === null) continue
    ops.push({
      op: 'event_finish',
      values: {
        ...key,
        event: e.event,
        finishTime: e.finishTime,
        result: e.result,
        traceback: e.traceback,
        details: e.details,
        updatedAt: e.updatedAt,
      },
    })
  }
  if (a.finishTime !== null)
    ops.push({ op: 'action_finish', values: { ...key, finishTime: a.finishTime } })
  return ops
}

/**
 * The final `instance_actions` row the write path leaves for an action, by column. It holds the
 * columns of every schema version the benchmark knows (migration 0005 added the owner project);
 * the SQL loader inserts those the database has (see {@link pickColumns}).
 */
export function actionRecord(a: PlannedAction, id: number): Record<string, unknown> {
  return {
    id,
    instance_uuid: a.instanceUuid,
    action: a.action,
    request_id: a.requestId,
    user_id: a.userId,
    project_id: a.projectId,
    // The history's actions are started by the instance's own project.
    owner_project_id: a.projectId,
    start_time: a.startTime,
    finish_time: a.finishTime,
    message: a.failed ? 'Error' : null,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
    // Migration 0007: the writer tag; none for the local writers the benchmark stands for.
    written_by: null,
  }
}

/** The final event rows of an action, with ids from `firstId`, by column (as actionRecord). */
export function eventRecords(
  a: PlannedAction,
  actionId: number,
  firstId: number,
): Record<string, unknown>[] {
  return a.events.map((e, i) => ({
    id: firstId + i,
    action_id: actionId,
    instance_uuid: a.instanceUuid,
    owner_project_id: a.projectId,
    event: e.event,
    start_time: e.startTime,
    finish_time: e.finishTime,
    result: e.result,
    traceback: e.traceback,
    host: e.host,
    details: e.details,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    // Migration 0005: the time an event is windowed and ordered by with time_field=updated_at.
    changed_at: e.updatedAt ?? e.startTime,
    // Migration 0007: the writer tags; none for the local writers the benchmark stands for.
    written_by: null,
    finished_by: null,
  }))
}

/**
 * The columns of `sample` that the table has, in the table's order; throws when the table has a
 * column the records do not fill (a newer schema than the benchmark knows).
 */
export function pickColumns(
  table: string,
  tableColumns: readonly string[],
  sample: Record<string, unknown>,
): string[] {
  const unknown = tableColumns.filter((c) => !(c in sample))
  if (unknown.length > 0)
    throw new Error(
      `bench: ${table} has columns the SQL loader does not fill: ${unknown.join(', ')}`,
    )
  return [...tableColumns]
}
