/**
 * Reads what a database holds, beside the running server and without going through it: a SQLite
 * file opened read-only, or a connection of its own to the PostgreSQL/MariaDB database (opened
 * only between kills; on PostgreSQL also named apart from the server's connections).
 */
import BetterSqlite3 from 'better-sqlite3'
import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { canonicalTime, canonicalTimeOrNull } from '../../src/store/rows.js'
import type { Rows } from './ledger.js'

const INSTANCES = 'SELECT uuid, name FROM instances'
const ACTIONS =
  'SELECT instance_uuid, request_id, action, finish_time, message FROM instance_actions'
const EVENTS =
  'SELECT a.instance_uuid, a.request_id, e.event, e.start_time, e.finish_time, e.result ' +
  'FROM instance_actions_events e JOIN instance_actions a ON a.id = e.action_id'

function canonical(raw: { instances: unknown[]; actions: unknown[]; events: unknown[] }): Rows {
  return {
    instances: raw.instances as Rows['instances'],
    actions: (raw.actions as (Rows['actions'][number] & { finish_time: unknown })[]).map((a) => ({
      ...a,
      finish_time: canonicalTimeOrNull(a.finish_time),
    })),
    events: (raw.events as (Rows['events'][number] & { start_time: unknown })[]).map((e) => ({
      ...e,
      start_time: canonicalTime(e.start_time),
      finish_time: canonicalTimeOrNull(e.finish_time),
    })),
  }
}

/** What a SQLite file holds, and what `PRAGMA integrity_check` and `foreign_key_check` say. */
export function readSqlite(file: string): {
  rows: Rows
  integrity: string[]
  foreignKeys: unknown[]
} {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  try {
    const integrity = db.pragma('integrity_check', { simple: false }) as {
      integrity_check: string
    }[]
    return {
      integrity: integrity.map((r) => r.integrity_check),
      foreignKeys: db.pragma('foreign_key_check') as unknown[],
      rows: canonical({
        instances: db.prepare(INSTANCES).all(),
        actions: db.prepare(ACTIONS).all(),
        events: db.prepare(EVENTS).all(),
      }),
    }
  } finally {
    db.close()
  }
}

// The test database URLs carry the pool size and the server's application name: neither applies.
function verifierUrl(url: string): URL {
  const u = new URL(url)
  u.searchParams.delete('pool_max')
  u.searchParams.delete('application_name')
  return u
}

/** What a PostgreSQL database holds. */
export async function readPostgres(url: string): Promise<Rows> {
  const u = verifierUrl(url)
  u.searchParams.set('application_name', 'actiontrail-crash-verifier')
  const client = new pg.Client({
    connectionString: u.toString(),
    // Times as the text PostgreSQL sends (a Date would drop the microseconds).
    types: {
      getTypeParser: ((oid: number) =>
        oid === 1114
          ? (v: string) => v
          : pg.types.getTypeParser(oid)) as pg.CustomTypesConfig['getTypeParser'],
    },
  })
  client.on('error', () => undefined)
  await client.connect()
  try {
    const [instances, actions, events] = [
      await client.query(INSTANCES),
      await client.query(ACTIONS),
      await client.query(EVENTS),
    ]
    return canonical({ instances: instances.rows, actions: actions.rows, events: events.rows })
  } finally {
    await client.end()
  }
}

/** What a MariaDB/MySQL database holds. */
export async function readMysql(url: string): Promise<Rows> {
  const conn = await createConnection({
    uri: verifierUrl(url)
      .toString()
      .replace(/^[a-z]+:/i, 'mysql:'),
    dateStrings: true,
  })
  try {
    const [instances] = await conn.query(INSTANCES)
    const [actions] = await conn.query(ACTIONS)
    const [events] = await conn.query(EVENTS)
    return canonical({
      instances: instances as unknown[],
      actions: actions as unknown[],
      events: events as unknown[],
    })
  } finally {
    await conn.end()
  }
}
