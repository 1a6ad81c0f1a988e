/**
 * `bench:scale --explain`: the plan of every statement the APIs send, on the benchmark's
 * database, printed as markdown for docs/storage.md. Reads are explained with the parameters of
 * the measured queries (hot instance, markers at each depth); writes run inside a transaction
 * that is rolled back. The idempotency table is first filled with 100k remembered answers spread
 * over 24 hours, so that its plans are those of a busy day rather than of an empty table.
 */
import { createHash } from 'node:crypto'
import type { Timestamp } from '../src/domain/timestamp.js'
import { WINDOW_WALK_THRESHOLD } from '../src/store/kysely-action-store.js'
import { ts } from './scale-history.js'
import type { NativeDb, Row } from './scale-native.js'

/**
 * The keyset predicate of a page after a marker, with the plain `created_at <= ?` bound (the OR
 * alone is no index range for SQLite or PostgreSQL; docs/storage.md finding 1).
 */
export const AFTER_MARKER =
  'instance_uuid = ? AND created_at <= ? AND (created_at < ? OR (created_at = ? AND id < ?))'
/** MariaDB/MySQL: the store reads pages after a marker through the created index (finding 1). */
export const FORCE_CREATED_INDEX = ' FORCE INDEX (instance_actions_instance_created_idx)'

/** What the statements are explained with. */
export interface ExplainContext {
  backend: 'sqlite' | 'postgres' | 'mysql'
  hotUuid: string
  /** A project that owns instances. */
  projectId: string
  /** Page size of the measured list queries. */
  limit: number
  /** Keyset markers (last action of the previous page) by depth. */
  markers: { depth: number; requestId: string }[]
  window: { since: Timestamp; before: Timestamp }
  /** "Now" for the idempotency rows: the end of the history. */
  nowMicros: number
}

interface Explained {
  title: string
  sql: string
  params: readonly unknown[]
}

const IDEMPOTENCY_ROWS = 100_000

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

async function seedIdempotency(native: NativeDb, nowMicros: number): Promise<void> {
  const columns = ['key_hash', 'request_hash', 'status', 'body', 'created_at']
  const body = JSON.stringify({
    action: {
      request_id: 'req-00000000-0000-4000-8000-000000000000',
      action: 'reboot',
      start_time: ts(nowMicros),
    },
  })
  for (let from = 0; from < IDEMPOTENCY_ROWS; from += 500) {
    const rows: unknown[][] = []
    for (let i = from; i < Math.min(IDEMPOTENCY_ROWS, from + 500); i++) {
      rows.push([
        sha256(`key-${i}`),
        sha256(`request-${i}`),
        201,
        body,
        ts(nowMicros - 86_400_000_000 + Math.floor((i / IDEMPOTENCY_ROWS) * 86_400_000_000)),
      ])
    }
    const tuple = `(${columns.map(() => '?').join(', ')})`
    await native.transaction([
      {
        sql: native.insertPrefix('idempotency_keys', columns) + rows.map(() => tuple).join(', '),
        params: rows.flat(),
      },
    ])
  }
  await native.analyze()
}

const ACTION_COLUMNS =
  'id, instance_uuid, action, request_id, user_id, project_id, start_time, finish_time, message, created_at, updated_at'
const EVENT_COLUMNS =
  'id, action_id, event, start_time, finish_time, result, traceback, host, details, created_at, updated_at'

/** Runs EXPLAIN for every API statement; returns markdown. */
export async function explainAll(native: NativeDb, ctx: ExplainContext): Promise<string> {
  await seedIdempotency(native, ctx.nowMicros)
  const first = async (sql: string, params: readonly unknown[]): Promise<Row> => {
    const row = (await native.query(sql, params))[0]
    if (!row) throw new Error(`explain: no row for ${sql}`)
    return row
  }
  const markerRow = async (requestId: string) =>
    first(
      'SELECT id, created_at FROM instance_actions WHERE instance_uuid = ? AND request_id = ?',
      [ctx.hotUuid, requestId],
    )
  const sample = ctx.markers[0] as { depth: number; requestId: string }
  const action = await markerRow(sample.requestId)
  const event = await first(
    'SELECT id, event, start_time FROM instance_actions_events WHERE action_id = ? ORDER BY id LIMIT 1',
    [action.id],
  )
  const key = sha256(`key-${IDEMPOTENCY_ROWS - 10}`)
  const now = ts(ctx.nowMicros)
  const nameFilter =
    ctx.backend === 'postgres'
      ? "name ILIKE ? ESCAPE '!'"
      : ctx.backend === 'mysql'
        ? "LOWER(name) LIKE LOWER(?) ESCAPE '!'"
        : "name LIKE ? ESCAPE '!'"

  const list: Explained[] = [
    {
      title: 'R1 instance lookup (every os-instance-actions and server request): getInstance',
      sql: 'SELECT * FROM instances WHERE uuid = ?',
      params: [ctx.hotUuid],
    },
    {
      title: 'R2 servers list/detail in a project: listInstances',
      sql: 'SELECT * FROM instances WHERE project_id = ? AND deleted_at IS NULL ORDER BY name, uuid LIMIT 1000',
      params: [ctx.projectId],
    },
    {
      title: 'R3 servers list/detail by name (`?name=`): listInstances',
      sql:
        `SELECT * FROM instances WHERE project_id = ? AND deleted_at IS NULL ` +
        `AND ${nameFilter} ORDER BY name, uuid LIMIT 1000`,
      params: [ctx.projectId, '%vm-12%'],
    },
    {
      title: 'R4 servers list, all projects (admin `?all_tenants=1`): listInstances',
      sql: 'SELECT * FROM instances WHERE deleted_at IS NULL ORDER BY name, uuid LIMIT 1000',
      params: [],
    },
    {
      title: `R5 list, first page (limit ${ctx.limit}), hot instance: listActions`,
      sql:
        `SELECT * FROM instance_actions WHERE instance_uuid = ? ` +
        `ORDER BY created_at DESC, id DESC LIMIT ${ctx.limit}`,
      params: [ctx.hotUuid],
    },
    {
      title: 'R6 marker / show / write-path action lookup: getAction, findAction',
      sql:
        `SELECT ${ACTION_COLUMNS} FROM instance_actions WHERE instance_uuid = ? ` +
        `AND request_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`,
      params: [ctx.hotUuid, sample.requestId],
    },
  ]
  const hint = ctx.backend === 'mysql' ? FORCE_CREATED_INDEX : ''
  for (const m of ctx.markers) {
    const r = await markerRow(m.requestId)
    list.push({
      title: `R7 list after a marker at depth ${m.depth.toLocaleString('en-US')}: listActions`,
      sql:
        `SELECT * FROM instance_actions${hint} WHERE ${AFTER_MARKER} ` +
        `ORDER BY created_at DESC, id DESC LIMIT ${ctx.limit}`,
      params: [ctx.hotUuid, r.created_at, r.created_at, r.created_at, r.id],
    })
  }
  const deepest = ctx.markers[ctx.markers.length - 1]
  if (deepest) {
    // For the record: the predicate before the `created_at <= ?` bound (commit 56eb9a5).
    const r = await markerRow(deepest.requestId)
    list.push({
      title:
        `R7-before list after a marker at depth ${deepest.depth.toLocaleString('en-US')}, ` +
        `the keyset predicate without the plain bound (before 56eb9a5)`,
      sql:
        `SELECT * FROM instance_actions WHERE instance_uuid = ? AND (created_at < ? ` +
        `OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ${ctx.limit}`,
      params: [ctx.hotUuid, r.created_at, r.created_at, r.id],
    })
  }
  if (ctx.backend === 'mysql') {
    for (const m of ctx.markers) {
      const r = await markerRow(m.requestId)
      list.push({
        title:
          `R7-unhinted list after a marker at depth ${m.depth.toLocaleString('en-US')} ` +
          `without FORCE INDEX (before this hint)`,
        sql:
          `SELECT * FROM instance_actions WHERE ${AFTER_MARKER} ` +
          `ORDER BY created_at DESC, id DESC LIMIT ${ctx.limit}`,
        params: [ctx.hotUuid, r.created_at, r.created_at, r.created_at, r.id],
      })
    }
  }
  list.push(
    {
      title: 'R8 changes-since/-before, 1 hour window, hot instance: listActions',
      sql:
        'SELECT * FROM instance_actions WHERE instance_uuid = ? AND updated_at >= ? ' +
        'AND updated_at <= ? ORDER BY created_at DESC, id DESC LIMIT 1000',
      params: [ctx.hotUuid, ctx.window.since, ctx.window.before],
    },
    {
      title:
        'R9 changes-since only (open end), since the start of the history (every action of the ' +
        'hot instance matches): listActions',
      sql:
        'SELECT * FROM instance_actions WHERE instance_uuid = ? AND updated_at >= ? ' +
        'ORDER BY created_at DESC, id DESC LIMIT 1000',
      params: [ctx.hotUuid, ctx.window.since],
    },
    ...(ctx.backend === 'sqlite'
      ? [
          {
            title:
              'R8/R9-count SQLite: the bounded count that chooses the plan of a window (docs/storage.md finding 2)',
            sql:
              `SELECT count(*) AS n FROM (SELECT 1 FROM instance_actions ` +
              `WHERE instance_uuid = ? AND updated_at >= ? LIMIT ${WINDOW_WALK_THRESHOLD})`,
            params: [ctx.hotUuid, ctx.window.since],
          },
          {
            title:
              'R9-walk SQLite: a wide window (count at the bound) reads the created index newest-first',
            sql:
              'SELECT * FROM instance_actions WHERE instance_uuid = ? AND +updated_at >= ? ' +
              'ORDER BY created_at DESC, id DESC LIMIT 1000',
            params: [ctx.hotUuid, ctx.window.since],
          },
        ]
      : []),
    {
      title: "R10 show: the action's events: listEvents",
      sql: 'SELECT * FROM instance_actions_events WHERE action_id = ? ORDER BY created_at DESC, id DESC',
      params: [action.id],
    },
    {
      title: 'W1 instance_put / instance_delete: read the instance',
      sql: 'SELECT uuid, name, project_id, user_id, created_at, updated_at, deleted_at FROM instances WHERE uuid = ?',
      params: [ctx.hotUuid],
    },
    {
      title: 'W2 instance_put (changed) / instance_delete: update the instance',
      sql: 'UPDATE instances SET name = ?, project_id = ?, user_id = ?, updated_at = ? WHERE uuid = ?',
      params: ['vm-0', ctx.projectId, 'u', now, ctx.hotUuid],
    },
    {
      title: 'W3 action_start: the instance exists',
      sql: 'SELECT uuid FROM instances WHERE uuid = ?',
      params: [ctx.hotUuid],
    },
    {
      title: 'W4 action_start: insert the action (after the lookup R6 found none)',
      sql:
        'INSERT INTO instance_actions (instance_uuid, action, request_id, user_id, ' +
        'project_id, start_time, finish_time, message, created_at, updated_at) ' +
        'VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)',
      params: [ctx.hotUuid, 'reboot', 'req-explain', 'u', ctx.projectId, now, now, now],
    },
  )
  if (ctx.backend !== 'sqlite') {
    list.push({
      title: 'W5 event_start / event_finish on a server database: lock the action row',
      sql:
        `SELECT id FROM instance_actions WHERE id = ? ` +
        `FOR ${ctx.backend === 'postgres' ? 'NO KEY UPDATE' : 'UPDATE'}`,
      params: [action.id],
    })
  }
  list.push(
    {
      title: 'W6 event_start: a retried start of the same event',
      sql:
        `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? ` +
        `AND event = ? AND start_time = ? ORDER BY id LIMIT 1`,
      params: [action.id, event.event, event.start_time],
    },
    {
      title: 'W7 event_start: insert the event',
      sql:
        'INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, ' +
        'result, traceback, host, details, created_at, updated_at) ' +
        'VALUES (?, ?, ?, NULL, NULL, NULL, ?, NULL, ?, NULL)',
      params: [action.id, 'compute_explain', now, 'compute-1', now],
    },
    {
      title: 'W8 event_finish: the oldest unfinished event of that name',
      sql:
        `SELECT ${EVENT_COLUMNS} FROM instance_actions_events WHERE action_id = ? AND event = ? ` +
        `ORDER BY CASE WHEN finish_time IS NULL THEN 0 ELSE 1 END, ` +
        `CASE WHEN finish_time IS NULL THEN id ELSE -id END LIMIT 1`,
      params: [action.id, event.event],
    },
    {
      title: 'W9 event_finish: finish the event',
      sql:
        'UPDATE instance_actions_events ' +
        'SET finish_time = ?, result = ?, traceback = ?, details = ?, updated_at = ? WHERE id = ?',
      params: [now, 'Success', null, null, now, event.id],
    },
    {
      title: "W10 action_finish / touches: the action's finish time, updated_at, message",
      sql: 'UPDATE instance_actions SET updated_at = ?, message = ? WHERE id = ?',
      params: [now, 'Error', action.id],
    },
    {
      title: 'I1 Idempotency-Key lookup: get',
      sql: 'SELECT * FROM idempotency_keys WHERE key_hash = ?',
      params: [key],
    },
    {
      title: 'I2 remember an answer (first writer wins): put',
      sql:
        ctx.backend === 'mysql'
          ? 'INSERT INTO idempotency_keys (key_hash, request_hash, status, body, created_at) ' +
            'VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE key_hash = key_hash'
          : 'INSERT INTO idempotency_keys (key_hash, request_hash, status, body, created_at) ' +
            'VALUES (?, ?, ?, ?, ?) ON CONFLICT (key_hash) DO NOTHING',
      params: [key, sha256('other'), 201, '{}', now],
    },
    {
      title: 'I3 purge expired answers (at most once a minute): purge',
      sql: 'DELETE FROM idempotency_keys WHERE created_at < ?',
      // One minute's worth of expired answers, as the once-a-minute purge finds them.
      params: [ts(ctx.nowMicros - 86_400_000_000 + 60_000_000)],
    },
  )
  const out: string[] = []
  for (const e of list) {
    out.push(
      `#### ${e.title}`,
      '',
      '```sql',
      e.sql,
      '```',
      '',
      '```',
      await native.explain(e.sql, e.params),
      '```',
      '',
    )
  }
  return out.join('\n')
}
