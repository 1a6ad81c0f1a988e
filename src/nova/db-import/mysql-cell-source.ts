/**
 * A Nova cell database on MariaDB/MySQL, read only: the session is READ ONLY (any write is refused
 * by the server), and each batch is one `START TRANSACTION READ ONLY` (a consistent snapshot of
 * the actions, their events and instances, and no long transaction holding back Nova's purge).
 * InnoDB indexes `instance_actions_events.action_id` (a foreign key column), so a batch's events
 * are an index range.
 */
import mysql from 'mysql2/promise'
import { AppError } from '../../domain/errors.js'
import { describeDatabase } from '../../store/open-store.js'
import {
  ACTION_COLUMNS,
  columnList,
  EVENT_COLUMNS,
  INSTANCE_COLUMNS,
  type NovaActionRow,
  type NovaCellSource,
  type NovaEventRow,
  type NovaInstanceRow,
} from './nova-rows.js'

/** Opens a Nova cell on MariaDB/MySQL (`mysql://`, `mariadb://` or nova.conf's `mysql+pymysql://`). */
export async function openMysqlCell(url: string): Promise<NovaCellSource> {
  const parsed = new URL(url.replace(/^(mysql\+\w+|mariadb):/i, 'mysql:'))
  // nova.conf URLs carry driver options (?charset=utf8) that mysql2 does not take.
  parsed.search = ''
  const label = describeDatabase(parsed.toString())
  let conn: mysql.Connection
  try {
    conn = await mysql.createConnection({
      uri: parsed.toString(),
      dateStrings: true,
      supportBigNumbers: true,
    })
    await conn.query('SET SESSION TRANSACTION READ ONLY')
  } catch (err) {
    throw new AppError('store_unavailable', `cannot open the Nova database ${label}`, {
      cause: err,
    })
  }
  // Rows as arrays, in the order of the column lists (nova-rows.ts).
  const rows = async <T>(sql: string, params: unknown[]): Promise<T[]> =>
    (await conn.query({ sql, rowsAsArray: true }, params))[0] as T[]
  return {
    label,
    instances: (after, limit) =>
      rows<NovaInstanceRow>(
        `SELECT ${columnList(INSTANCE_COLUMNS)} FROM instances WHERE id > ? ORDER BY id LIMIT ?`,
        [after, limit],
      ),
    actions: async (after, limit) => {
      await conn.query('START TRANSACTION READ ONLY')
      try {
        const actions = await rows<NovaActionRow>(
          `SELECT ${columnList(ACTION_COLUMNS)} FROM instance_actions WHERE id > ? ORDER BY id LIMIT ?`,
          [after, limit],
        )
        if (actions.length === 0) return { actions, events: [], instances: [] }
        const events = await rows<NovaEventRow>(
          `SELECT ${columnList(EVENT_COLUMNS)} FROM instance_actions_events ` +
            'WHERE action_id BETWEEN ? AND ? ORDER BY action_id, id',
          [actions[0]![0], actions[actions.length - 1]![0]],
        )
        const uuids = [
          ...new Set(actions.map(([, , instanceUuid]) => instanceUuid).filter((u) => u !== null)),
        ]
        const instances =
          uuids.length === 0
            ? []
            : await rows<NovaInstanceRow>(
                `SELECT ${columnList(INSTANCE_COLUMNS)} FROM instances WHERE uuid IN (?)`,
                [uuids],
              )
        return { actions, events, instances }
      } finally {
        await conn.query('COMMIT')
      }
    },
    lastActionId: async () =>
      Number((await rows<[unknown]>('SELECT MAX(id) FROM instance_actions', []))[0]?.[0] ?? 0),
    close: () => conn.end(),
  }
}
