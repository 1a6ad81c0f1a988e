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
 * Idempotence as online: a batch with an action whose (instance, request id) exists (one probe
 * of the unique key per action, the index the load keeps) goes through the online programs,
 * which merge it; an action of an unknown instance is skipped. The batch's instances are written
 * first by the online `import_instances` program itself (inserted or their deletion taken over),
 * in the same transaction.
 */
import type { Database as Native, Statement } from 'better-sqlite3'
import type { ImportCounts } from '../../domain/write-operation.js'
import type { ImportedAction } from '../action-store.js'
import type { ImportBatchWriter } from '../import-batch-writer.js'
import { sealUnlinked } from '../chain/seal-chain.js'
import { CHANGE_COLUMNS } from '../write/change-feed.js'
import {
  actionKey,
  IMPORT_PART,
  IMPORTED_ACTION_COLUMNS,
  IMPORTED_EVENT_COLUMNS,
  importedActionRow,
  importedEventRow,
  importInstances,
  rowGroup,
} from '../write/import-program.js'
import type { StepResult, WriteProgram } from '../write/sql-step.js'

/**
 * Rows per INSERT statement (the rest of a part goes in single-row statements). Binding the values
 * is most of the cost, so the statement shape matters little: writing 250,000 event-like rows of
 * 19 values took 1.35-1.47 s in single-row statements and 1.09 s in 32-row ones; writing the
 * 50k-action cell took 3.8 s (1 row), 4.3 s (8), 3.3 s (32), 3.2 s (128), load 3.5-4.8.
 */
const ROWS_PER_STATEMENT = 32

/**
 * Collects the rows of one table and inserts them with two prepared statements: one of
 * {@link ROWS_PER_STATEMENT} rows, one of a single row for what is left at the end.
 */
class RowInserter {
  readonly #many: Statement
  readonly #one: Statement
  readonly #width: number
  #params: unknown[] = []

  constructor(native: Native, table: string, columns: readonly string[]) {
    const text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `
    const group = rowGroup(columns.length)
    this.#many = native.prepare(text + new Array<string>(ROWS_PER_STATEMENT).fill(group).join(', '))
    this.#one = native.prepare(text + group)
    this.#width = columns.length
  }

  add(row: readonly unknown[]): void {
    for (const value of row) this.#params.push(value)
    if (this.#params.length === this.#width * ROWS_PER_STATEMENT) {
      this.#many.run(this.#params)
      this.#params = []
    }
  }

  /** Inserts the rows still collected. */
  flush(): void {
    for (let i = 0; i < this.#params.length; i += this.#width)
      this.#one.run(this.#params.slice(i, i + this.#width))
    this.#params = []
  }
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

// Prepared statements of runPlain, per connection: sealing a batch runs one UPDATE per change row.
const statementCaches = new WeakMap<Native, Map<string, Statement>>()

/** The next ids and change position, as AUTOINCREMENT and the change counter would hand out. */
interface Next {
  action: number
  event: number
  position: number
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
        actionChanges: Statement
        eventChanges: Statement
        owner: Statement
        exists: Statement
        next: Statement
        setHead: Statement
      }
    | undefined
  const statements = () =>
    (prepared ??= {
      actions: new RowInserter(native, 'instance_actions', ['id', ...IMPORTED_ACTION_COLUMNS]),
      events: new RowInserter(native, 'instance_actions_events', ['id', ...IMPORTED_EVENT_COLUMNS]),
      // The change rows of a range of new actions or events, at positions `? + id`: the values
      // of changeRow (write/change-feed.ts) for the notes the online program takes, by SQLite
      // from the rows just written instead of bound one by one (measured: binding 7 values for
      // each of 300,000 change rows was 0.7 of 3.0 s writing 50k actions).
      actionChanges: native.prepare(
        `INSERT INTO changes (${CHANGE_COLUMNS.join(', ')}) SELECT ? + id, 'action', id, NULL, ` +
          'instance_uuid, owner_project_id, coalesce(updated_at, created_at) ' +
          'FROM instance_actions WHERE id BETWEEN ? AND ? ORDER BY id',
      ),
      eventChanges: native.prepare(
        `INSERT INTO changes (${CHANGE_COLUMNS.join(', ')}) SELECT ? + id, 'event', action_id, ` +
          'id, instance_uuid, owner_project_id, coalesce(updated_at, created_at) ' +
          'FROM instance_actions_events WHERE id BETWEEN ? AND ? ORDER BY id',
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
      setHead: native.prepare('UPDATE change_head SET last = ? WHERE id = 1'),
    })

  const writeActions = (actions: readonly ImportedAction[], tag: string | null): ImportCounts => {
    const s = statements()
    const counts: ImportCounts = { created: 0, existing: 0, skipped: 0 }
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
    const next = s.next.get() as Next
    const firstPosition = next.position
    for (let i = 0; i < actions.length; i += IMPORT_PART) {
      const fresh: { a: ImportedAction; id: number }[] = []
      for (const a of actions.slice(i, i + IMPORT_PART)) {
        if (owners.get(a.instanceUuid) === undefined) counts.skipped += 1
        else fresh.push({ a, id: next.action++ })
      }
      if (fresh.length === 0) continue
      for (const { a, id } of fresh)
        s.actions.add([id, ...importedActionRow(a, owners.get(a.instanceUuid), tag)])
      // The actions in before their events (the events' foreign key).
      s.actions.flush()
      const firstEvent = next.event
      for (const { a, id } of fresh) {
        const owner = owners.get(a.instanceUuid)
        for (const e of a.events)
          s.events.add([next.event++, ...importedEventRow(id, a, e, owner, tag)])
      }
      s.events.flush()
      // As the online program notes them: the part's actions, then their events, by id.
      const firstAction = fresh[0]!.id
      s.actionChanges.run(next.position - firstAction, firstAction, next.action - 1)
      next.position += fresh.length
      s.eventChanges.run(next.position - firstEvent, firstEvent, next.event - 1)
      next.position += next.event - firstEvent
      counts.created += fresh.length
    }
    if (counts.created > 0) {
      s.setHead.run(next.position - 1)
      // The hash chain: the change rows above were inserted by SQL without digests and links.
      runPlain(native, sealUnlinked(firstPosition - 1))
    }
    return counts
  }

  const batch = native.transaction(
    (
      instances: Parameters<typeof importInstances>[0],
      actions: readonly ImportedAction[],
      writer: string | undefined,
    ) => {
      const outcome = runPlain(native, importInstances(instances))
      if (!outcome.ok || outcome.record.kind !== 'import') throw new Error('instances not imported')
      const none = { created: 0, existing: 0, skipped: 0 }
      return {
        instances: outcome.record.counts,
        actions: actions.length > 0 ? writeActions(actions, writer ?? null) : none,
      }
    },
  )

  return {
    // Synchronous work (better-sqlite3); async so that a failure is a rejection.
    async importBatch(instances, actions, writer) {
      try {
        return batch(instances, actions, writer)
      } catch (err) {
        if (!(err instanceof KnownActions)) throw err
        return online.importBatch(instances, actions, writer)
      }
    },
  }
}
