/**
 * The import batch writer of an offline load on SQLite (offline-load.ts): the same rows and
 * change-feed positions as the online bulk programs (write/import-program.ts, then
 * write/change-feed.ts commitChanges), written without reading anything back.
 *
 * Why: the store is held by this connection alone for the whole load (sqlite-offline-load.ts),
 * so nothing else hands out action ids, event ids or change positions. The writer takes the next
 * of each from the database at the start of every batch and assigns them itself, as SQLite's
 * AUTOINCREMENT and the change counter would have, in the order the online programs insert:
 * per part of {@link IMPORT_PART} actions, the part's new actions, then their events; the
 * change rows in that same order. The online path read every new key back (the actions by
 * request id, the events by action: 1.3 of the 5.9 s of a 50k-action load, bench:nova-import)
 * and went through the generic executor's per-step machinery.
 *
 * The change rows are written whole, with the hash chain's digest and link: planned ahead by the
 * reader (a {@link ChainAhead}, taken only when the batch starts where the plan did and lays out
 * as planned: offline-batch-layout.ts), or else computed here from the values just bound (as the
 * online programs do from what they stored: change-feed.ts storedValues; a row whose texts the
 * database would not store as given is read back for its digest). Sealing them afterwards
 * (chain/seal-chain.ts sealUnlinked: read back with their actions and events, updated one by one)
 * was 36 % of the load thread's CPU with the hashing (profile of 60k actions, 2026-12-07). With
 * the chain planned on the reader's thread (and its larger young generation), the load of 1M
 * actions went from 128 to 71–84 s (docs/benchmarks.md, session 15). The change rows themselves
 * are made by SQL from the action and event rows just written, their digests and links cut from
 * one blob per part ({@link ChangeRows}), and an event row's copies of its action by SQL too
 * (eventInserter): session 16.
 *
 * Idempotence as online: a batch with an action whose (instance, request id) exists (one probe
 * of the unique key per action, the index the load keeps) goes through the online programs,
 * which merge it; an action of an unknown instance is skipped. The batch's instances are written
 * first by the online `import_instances` program itself (inserted or their deletion taken over),
 * in the same transaction.
 */
import type { Database as Native, Statement } from 'better-sqlite3'
import type { ImportCounts } from '../../domain/write-operation.js'
import type { ImportedAction } from '../action-store.js'
import type { ImportBatchCounts, ImportBatchWriter } from '../import-batch-writer.js'
import {
  ACTION_DIGEST_COLUMNS,
  actionDigest,
  EVENT_DIGEST_COLUMNS,
  eventDigest,
  type StoredRow,
} from '../../security/chain/canonical-record.js'
import { isHexLink } from '../../security/chain/chain-link.js'
import { CHAIN_COLUMNS, CHANGE_COLUMNS } from '../write/change-feed.js'
import { actionKey, importInstances, rowGroup } from '../write/import-program.js'
import type { StepResult, WriteProgram } from '../write/sql-step.js'
import {
  chainLink,
  chainValues,
  layoutBatch,
  sameCursor,
  type ChainAhead,
  type ChainCursor,
  type LayoutPart,
} from './offline-batch-layout.js'
import { ACTION_ROW, EVENT_ROW } from './offline-digest-record.js'

/**
 * Rows per INSERT statement (the rest of a part goes in single-row statements). Binding the values
 * is most of the cost, so the statement shape matters little: writing 250,000 event-like rows of
 * 19 values took 1.35-1.47 s in single-row statements and 1.09 s in 32-row ones; writing the
 * 50k-action cell took 3.8 s (1 row), 4.3 s (8), 3.3 s (32), 3.2 s (128), load 3.5-4.8.
 */
const ROWS_PER_STATEMENT = 32

/**
 * Fails the batch (its transaction rolls back) when a statement wrote other than the rows it was
 * given: rows made by SQL from others (an event from its action, a change row from its action or
 * event) would otherwise go missing without a word if one they are made from were not there.
 */
function inserted(changes: number, expected: number): void {
  if (changes !== expected)
    throw new Error(`offline import: ${changes} rows written where ${expected} were due`)
}

/**
 * Collects the rows of one table and inserts them with two prepared statements: one of
 * {@link ROWS_PER_STATEMENT} rows, one of a single row for what is left at the end.
 *
 * The values go straight into one parameter array of fixed length, bound as the call's arguments:
 * better-sqlite3 reads an array argument element by element through the V8 API, the arguments of
 * the call directly. Binding 256,000 event rows of 19 values (in memory, 2026-12-07): 5.6 µs a
 * row pushed into a new array per statement and bound as an array, 4.1–5.0 µs into a fixed one,
 * 3.5–4.2 µs as arguments.
 */
class RowInserter {
  readonly #many: Statement
  readonly #one: Statement
  readonly #width: number
  readonly #bound: readonly number[]
  readonly #params: unknown[]
  #filled = 0

  /**
   * `statement` makes the SQL of a statement from its rows' value groups; `bound` says which of a
   * row's values are bound, in group order.
   */
  constructor(native: Native, statement: (groups: string) => string, bound: readonly number[]) {
    const group = rowGroup(bound.length)
    this.#many = native.prepare(
      statement(new Array<string>(ROWS_PER_STATEMENT).fill(group).join(', ')),
    )
    this.#one = native.prepare(statement(group))
    this.#width = bound.length
    this.#bound = bound
    this.#params = new Array<unknown>(bound.length * ROWS_PER_STATEMENT)
  }

  /** A table's rows whose values are all bound, in the order of `columns`. */
  static plain(native: Native, table: string, columns: readonly string[]): RowInserter {
    return new RowInserter(
      native,
      (groups) => `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${groups}`,
      columns.map((_, i) => i),
    )
  }

  /** Adds a row (its values in the order of the columns). */
  add(row: readonly unknown[]): void {
    const params = this.#params
    const bound = this.#bound
    let at = this.#filled
    for (let i = 0; i < bound.length; i++) params[at++] = row[bound[i]!]
    if (at === params.length) {
      inserted(this.#many.run(...params).changes, ROWS_PER_STATEMENT)
      at = 0
    }
    this.#filled = at
  }

  /** Inserts the rows still collected. */
  flush(): void {
    for (let i = 0; i < this.#filled; i += this.#width)
      inserted(this.#one.run(...this.#params.slice(i, i + this.#width)).changes, 1)
    this.#filled = 0
  }
}

/** The event row's copies of its action's values (migration 0008), taken by SQL from the action. */
const EVENT_PARENT_COPIES: Readonly<Record<string, string>> = {
  instance_uuid: 'a.instance_uuid',
  owner_project_id: 'a.owner_project_id',
  action_name: 'a.action',
  project_id: 'a.project_id',
  user_id: 'a.user_id',
}

/**
 * The event rows' inserter: their own values bound, the copies of their action's values and
 * `changed_at` (updated_at, or start_time while unfinished) made by SQL, from the action row
 * written just before (one look-up by primary key per event).
 *
 * Why: an event row is 19 values, 6 of them copies or derived, and binding is most of the
 * writer's cost; each text bound is converted and copied twice (to UTF-8, then by SQLite).
 */
function eventInserter(native: Native): RowInserter {
  const derived = (column: string) => column in EVENT_PARENT_COPIES || column === 'changed_at'
  const bound = EVENT_ROW.flatMap((column, i) => (derived(column) ? [] : [i]))
  // A bound value's place in the VALUES rows (SQLite names their columns column1, column2, …).
  const value = (column: (typeof EVENT_ROW)[number]) =>
    `v.column${bound.indexOf(EVENT_ROW.indexOf(column)) + 1}`
  const select = EVENT_ROW.map(
    (column) =>
      EVENT_PARENT_COPIES[column] ??
      (column === 'changed_at'
        ? `coalesce(${value('updated_at')}, ${value('start_time')})`
        : value(column)),
  )
  return new RowInserter(
    native,
    (groups) =>
      `INSERT INTO instance_actions_events (${EVENT_ROW.join(', ')}) SELECT ${select.join(', ')} ` +
      `FROM (VALUES ${groups}) v CROSS JOIN instance_actions a ON a.id = ${value('action_id')}`,
    bound,
  )
}

/**
 * Runs a program of plain statements (`get` and `run` steps only, as `import_instances`) on
 * `native`, inside the caller's transaction.
 */
function runPlain<T>(native: Native, program: WriteProgram<T>): T {
  let cache = statementCaches.get(native)
  if (!cache) statementCaches.set(native, (cache = new Map()))
  const prepare = (text: string) => {
    let stmt = cache.get(text)
    if (!stmt) cache.set(text, (stmt = native.prepare(text)))
    return stmt
  }
  let step = program.next()
  while (!step.done) {
    const s = step.value
    let result: StepResult
    if (s.mode === 'get')
      result = (
        s.all ? prepare(s.sql).all(...s.params) : prepare(s.sql).get(...s.params)
      ) as StepResult
    else if (s.mode === 'run')
      result = { changes: prepare(s.sql).run(...s.params).changes, insertId: 0 }
    else throw new Error(`offline import: unexpected ${s.mode} step`)
    step = program.next(result)
  }
  return step.value
}

// Prepared statements of runPlain, per connection: import_instances' repeat from batch to batch.
const statementCaches = new WeakMap<Native, Map<string, Statement>>()

/**
 * Writes a part's change rows by `INSERT … SELECT` from the action and event rows just inserted,
 * with each row's digest and link cut from one blob of the part's hex (64 + 64 digits per change
 * row, in change order: the actions, then the events, each by id). A part's ids are consecutive
 * (offline-batch-layout.ts), so a row's position and its place in the blob follow from its id.
 *
 * Why: bound from JavaScript, the change rows were half of the rows the writer's thread binds
 * (one per action and per event), each an array of nine values and two slices of the hex; made by
 * SQL they cost the writer one statement per table and part. The hex is bound as a blob because
 * SQLite's substr counts characters on text (a walk from the start for each row) and bytes on a
 * blob; the cast makes each value the same text a bound string would be.
 */
class ChangeRows {
  readonly #actions: Statement
  readonly #events: Statement

  constructor(native: Native) {
    const insert = `INSERT INTO changes (${[...CHANGE_COLUMNS, ...CHAIN_COLUMNS].join(', ')}) `
    const chain =
      'CAST(substr(@hex, (id - @base) * 128 + 1, 64) AS TEXT), ' +
      'CAST(substr(@hex, (id - @base) * 128 + 65, 64) AS TEXT)'
    const own = 'instance_uuid, owner_project_id, coalesce(updated_at, created_at)'
    this.#actions = native.prepare(
      `${insert}SELECT @position + id - @base, 'action', id, NULL, ${own}, ${chain} ` +
        'FROM instance_actions WHERE id BETWEEN @first AND @last ORDER BY id',
    )
    this.#events = native.prepare(
      `${insert}SELECT @position + id - @base, 'event', action_id, id, ${own}, ${chain} ` +
        'FROM instance_actions_events WHERE id BETWEEN @first AND @last ORDER BY id',
    )
  }

  /** The change rows of `part`, from `position` on, with the part's chain `hex`. */
  write(part: LayoutPart, position: number, hex: Buffer): void {
    const actions = part.actions.length
    if (actions === 0) return
    const first = Number(part.actions[0]![0])
    inserted(
      this.#actions.run({ hex, base: first, position, first, last: first + actions - 1 }).changes,
      actions,
    )
    const events = part.events.length
    if (events === 0) return
    const event = Number(part.events[0]![0])
    // An event's place in the part's change order: after the part's actions.
    inserted(
      this.#events.run({
        hex,
        base: event - actions,
        position,
        first: event,
        last: event + events - 1,
      }).changes,
      events,
    )
  }
}

/** True when two lists of skipped actions' indexes are the same. */
function sameSkips(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((at, i) => at === b[i])
}

/** A batch names actions the store has already: the online programs merge it (see below). */
class KnownActions extends Error {}

/**
 * The offline import writer on a native connection that the offline load holds alone. A batch
 * with an action the store knows already, or with one (instance, request id) twice, is written
 * by `online` instead (rolled back here first): those need the merges of the online programs, and
 * a first import, what an offline load is for, has none of them.
 */
export function sqliteOfflineImport(native: Native, online: ImportBatchWriter): ImportBatchWriter {
  // Prepared on first use: the tables exist only once the store is migrated.
  let prepared:
    | {
        actions: RowInserter
        events: RowInserter
        changes: ChangeRows
        head: Statement
        actionRow: Statement
        eventRow: Statement
        owner: Statement
        exists: Statement
        next: Statement
        setHead: Statement
      }
    | undefined
  const statements = () =>
    (prepared ??= {
      actions: RowInserter.plain(native, 'instance_actions', ACTION_ROW),
      events: eventInserter(native),
      changes: new ChangeRows(native),
      head: native.prepare('SELECT link FROM change_head WHERE id = 1').pluck(),
      actionRow: native.prepare(
        `SELECT ${ACTION_DIGEST_COLUMNS.join(', ')} FROM instance_actions WHERE id = ?`,
      ),
      eventRow: native.prepare(
        `SELECT ${EVENT_DIGEST_COLUMNS.join(', ')} FROM instance_actions_events WHERE id = ?`,
      ),
      owner: native.prepare('SELECT project_id FROM instances WHERE uuid = ?').pluck(),
      exists: native
        .prepare('SELECT 1 FROM instance_actions WHERE instance_uuid = ? AND request_id = ?')
        .pluck(),
      // AUTOINCREMENT's next key: past the largest ever handed out (sqlite_sequence), which an
      // explicit key also advances.
      next: native.prepare(
        'SELECT 1 + max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ' +
          "'instance_actions'), 0), coalesce((SELECT max(id) FROM instance_actions), 0)) AS action, " +
          "1 + max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'instance_actions_events'), 0), " +
          'coalesce((SELECT max(id) FROM instance_actions_events), 0)) AS event, ' +
          '1 + (SELECT last FROM change_head WHERE id = 1) AS position',
      ),
      setHead: native.prepare('UPDATE change_head SET last = ?, link = ? WHERE id = 1'),
    })

  const cursor = (): ChainCursor => {
    const s = statements()
    const next = s.next.get() as Omit<ChainCursor, 'link'>
    const head = s.head.get()
    return { ...next, link: isHexLink(head) ? head : null }
  }

  const writeActions = (
    actions: readonly ImportedAction[],
    tag: string | null,
    ahead: ChainAhead | undefined,
  ): ImportCounts => {
    const s = statements()
    const owners = new Map<string, string | undefined>()
    for (const a of actions)
      if (!owners.has(a.instanceUuid))
        owners.set(a.instanceUuid, s.owner.get(a.instanceUuid) as string | undefined)
    // An action known already (or twice in the batch: a rule-7 pair) is merged by the online
    // programs (import-merge.ts): the whole batch goes that way, before anything is written here.
    const seen = new Set<string>()
    for (const a of actions) {
      const key = actionKey(a.instanceUuid, a.requestId)
      if (seen.has(key) || s.exists.get(a.instanceUuid, a.requestId) !== undefined)
        throw new KnownActions()
      seen.add(key)
    }
    const next = cursor()
    const start = { ...next }
    const layout = layoutBatch(actions, owners, tag, next)
    // The chain planned ahead is taken only for the very batch it was planned for: from the same
    // place, with the same tag, the same actions skipped, hence the same ids and change rows.
    const planned =
      ahead &&
      ahead.tag === tag &&
      ahead.changes === layout.changes &&
      ahead.hex.length === layout.changes * 128 &&
      sameCursor(ahead.from, start) &&
      sameSkips(ahead.skips, layout.skips)
        ? ahead.hex
        : undefined
    let link = start.link
    let at = 0
    // The digest and link of each change row of a part, in change order, as one hex string: the
    // plan's, or computed here from the rows just bound (see the header).
    const partChain = (part: LayoutPart): string => {
      const count = part.actions.length + part.events.length
      if (planned !== undefined) {
        const hex = planned.slice(at, (at += count * 128))
        link = hex.slice(-64)
        return hex
      }
      const hex: string[] = []
      let position = next.position
      for (const [kind, rows] of [
        ['action', part.actions],
        ['event', part.events],
      ] as const)
        for (const row of rows) {
          const values = chainValues(kind, row, position, link)
          let digest: string
          if (values) ({ digest, link } = values)
          else {
            // A text the database does not store as given: the digest of what it stored.
            digest =
              kind === 'event'
                ? eventDigest(s.eventRow.get(row[0]) as StoredRow)
                : actionDigest(s.actionRow.get(row[0]) as StoredRow)
            link = chainLink(kind, row, position, link, digest)
          }
          hex.push(digest, link)
          position++
        }
      return hex.join('')
    }
    for (const part of layout.parts) {
      for (const row of part.actions) s.actions.add(row)
      // The actions in before their events (the events' foreign key).
      s.actions.flush()
      for (const row of part.events) s.events.add(row)
      s.events.flush()
      // As the online program notes them: the part's actions, then their events, by id; the
      // change rows made by SQL from the rows just written (see ChangeRows).
      const hex = Buffer.from(partChain(part), 'latin1')
      s.changes.write(part, next.position, hex)
      next.position += part.actions.length + part.events.length
    }
    if (layout.created > 0) s.setHead.run(next.position - 1, link)
    return { created: layout.created, existing: 0, skipped: layout.skipped }
  }

  const batch = native.transaction(
    (
      instances: Parameters<typeof importInstances>[0],
      actions: readonly ImportedAction[],
      writer: string | undefined,
      ahead: ChainAhead | undefined,
    ) => {
      const outcome = runPlain(native, importInstances(instances))
      if (!outcome.ok || outcome.record.kind !== 'import') throw new Error('instances not imported')
      const none = { created: 0, existing: 0, skipped: 0 }
      return {
        instances: outcome.record.counts,
        actions: actions.length > 0 ? writeActions(actions, writer ?? null, ahead) : none,
      }
    },
  )

  return {
    chainCursor: () => Promise.resolve(cursor()),
    // Synchronous work (better-sqlite3); async so that a failure is a rejection.
    async importBatch(instances, actions, writer, ahead) {
      let counts: ImportBatchCounts
      try {
        counts = batch(instances, actions, writer, ahead)
      } catch (err) {
        if (!(err instanceof KnownActions)) throw err
        counts = await online.importBatch(instances, actions, writer)
      }
      return { ...counts, cursor: cursor() }
    },
  }
}
