/**
 * Sealing history that was written without the hash chain, as a program of plain statements (run
 * by the migration through run-plain-program.ts).
 *
 * {@link sealHistory} (migration 0013): every action and every event that exists gets one chain
 * entry, appended after the last position, with its digest as stored now. Change rows written
 * before the chain keep no link and are outside it; the chain starts at the first appended entry.
 * Stream readers see each record once more, as a change at the upgrade.
 */
import { actionDigest, eventDigest } from '../../security/chain/canonical-record.js'
import {
  ACTION_DIGEST_COLUMNS,
  EVENT_DIGEST_COLUMNS,
} from '../../security/chain/canonical-record.js'
import { isHexLink, nextLink } from '../../security/chain/chain-link.js'
import { CHAIN_COLUMNS, CHANGE_COLUMNS, chunkSizes, placeholders } from '../write/change-feed.js'
import { canonicalTime, canonicalTimeOrNull } from '../rows.js'
import { get, getAll, run, type Row, type WriteProgram } from '../write/sql-step.js'

/** Records read per statement while sealing (bounded batches: flat memory for any history). */
const BATCH = 512

interface Head {
  last: number
  link: string | null
}

function* readHead(): WriteProgram<Head> {
  const row = (yield get('SELECT last, link FROM change_head WHERE id = 1')) as Row | undefined
  return { last: Number(row?.last ?? 0), link: isHexLink(row?.link) ? row.link : null }
}

const TABLES = [
  {
    kind: 'action',
    table: 'instance_actions',
    columns: ACTION_DIGEST_COLUMNS,
    digest: actionDigest,
  },
  {
    kind: 'event',
    table: 'instance_actions_events',
    columns: EVENT_DIGEST_COLUMNS,
    digest: eventDigest,
  },
] as const

/** Appends a chain entry for every action, then every event, by id (see the top comment). */
export function* sealHistory(): WriteProgram<number> {
  const head = yield* readHead()
  let { last: position, link } = head
  let appended = 0
  for (const t of TABLES) {
    // instance_uuid is a column of both tables (events carry their action's: migration 0005).
    const columns = [...new Set([...t.columns, 'instance_uuid', 'owner_project_id'])]
    for (let after = 0; ;) {
      const rows = (yield getAll(
        `SELECT ${columns.join(', ')} FROM ${t.table} WHERE id > ? ORDER BY id LIMIT ${BATCH}`,
        after,
      )) as Row[]
      if (rows.length === 0) break
      after = Number(rows[rows.length - 1]!.id)
      const values: unknown[][] = rows.map((r) => {
        position += 1
        const digest = t.digest(r)
        const entry = {
          position,
          kind: t.kind,
          actionId: Number(t.kind === 'action' ? r.id : r.action_id),
          eventId: t.kind === 'action' ? null : Number(r.id),
          digest,
        }
        link = nextLink(link, entry)
        // The change's time: the record's last change, as the offline import stamps its rows.
        const at = canonicalTimeOrNull(r.updated_at) ?? canonicalTime(r.created_at)
        return [
          position,
          t.kind,
          entry.actionId,
          entry.eventId,
          r.instance_uuid,
          r.owner_project_id,
          at,
          digest,
          link,
        ]
      })
      yield* insertChangeRows(values)
      appended += rows.length
    }
  }
  if (appended > 0)
    yield run('UPDATE change_head SET last = ?, link = ? WHERE id = 1', position, link)
  return appended
}

/** Inserts full change rows (CHANGE_COLUMNS then CHAIN_COLUMNS), in multi-row statements. */
function* insertChangeRows(values: readonly unknown[][]): WriteProgram<void> {
  const width = CHANGE_COLUMNS.length + CHAIN_COLUMNS.length
  const group = `(${new Array<string>(width).fill('?').join(', ')})`
  let offset = 0
  for (const size of chunkSizes(values.length)) {
    const params = values.slice(offset, offset + size).flat()
    offset += size
    yield run(
      `INSERT INTO changes (${CHANGE_COLUMNS.join(', ')}, ${CHAIN_COLUMNS.join(', ')}) ` +
        `VALUES ${placeholders(size, group)}`,
      ...params,
    )
  }
}
