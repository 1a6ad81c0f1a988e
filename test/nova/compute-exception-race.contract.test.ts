/**
 * `compute.exception` racing the notification that creates its action, on PostgreSQL and
 * MariaDB/MySQL (issue 12): two followers ("nodes": separate stores, separate pools) commit the
 * exception and the first notification of an action of the same request in overlapping
 * transactions. Under READ COMMITTED the exception's transaction does not see the uncommitted
 * action and the action's transaction does not see the uncommitted fault: unless the two
 * serialize, both commit and the event stays open, while the exception says it failed.
 *
 * The interleaving is made deterministic, not left to chance: a third connection holds the lock
 * of the change position counter (every write transaction takes it last, just before COMMIT:
 * store/write/change-feed.ts) and, when an action of the request already exists, that action's
 * row lock, so the first transaction stays open after its reads and writes while the second runs;
 * the test waits until the server reports both waiting on a lock (or done) before letting go.
 * SQLite serializes writers, so it has no such race.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { createConnection } from 'mysql2/promise'
import pg from 'pg'
import { createActionService } from '../../src/local-service.js'
import { createNotificationHandler } from '../../src/nova/notifications/notification-handler.js'
import { openStores } from '../../src/store/open-store.js'
import {
  backendProblem,
  freshDatabase,
  REQUIRE_BACKENDS,
  type BackendName,
} from '../helpers/backends.js'
import { captureLogger } from '../helpers/log-capture.js'
import { loadSample, novaBody } from '../helpers/nova-samples.js'

const HOST = 'compute'

function exceptionBody(requestId: string): Buffer {
  return novaBody(loadSample('compute-exception.json'), {
    timestamp: '2026-03-01 10:00:05.25',
    publisherId: `nova-compute:${HOST}`,
    context: { request_id: requestId },
    data: { exception: 'InstanceFaultRollback', exception_message: 'boot failed' },
  })
}

function startBody(uuid: string, requestId: string): Buffer {
  return novaBody(loadSample('instance-create-start.json'), {
    data: { uuid, request_id: requestId },
    publisherId: `nova-compute:${HOST}`,
    timestamp: '2026-03-01 10:00:01',
  })
}

/** A raw connection to the test database that can hold row locks, and see who waits for one. */
interface LockHolder {
  /** Opens a transaction and locks the change counter and the actions of `requestId`. */
  hold(requestId: string): Promise<void>
  /** Ends the transaction, releasing the locks. */
  release(): Promise<void>
  /** How many of the test database's other sessions wait for a lock now. */
  waiting(): Promise<number>
  /** How often to ask {@link waiting} (see the MariaDB one). */
  pollMs: number
  close(): Promise<void>
}

async function lockHolder(name: 'postgres' | 'mysql', url: string): Promise<LockHolder> {
  const holdSql = [
    'SELECT last FROM change_head WHERE id = 1 FOR UPDATE',
    'SELECT id FROM instance_actions WHERE request_id = ? FOR UPDATE',
  ]
  if (name === 'postgres') {
    const appName = new URL(url).searchParams.get('application_name')
    const client = new pg.Client({ connectionString: url })
    const watcher = new pg.Client({ connectionString: url })
    await client.connect()
    await watcher.connect()
    return {
      async hold(requestId) {
        await client.query('BEGIN')
        await client.query(holdSql[0] as string)
        await client.query((holdSql[1] as string).replace('?', '$1'), [requestId])
      },
      async release() {
        await client.query('COMMIT')
      },
      pollMs: 20,
      async waiting() {
        const { rows } = await watcher.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
          [appName],
        )
        return rows[0]?.n ?? 0
      },
      async close() {
        await client.end()
        await watcher.end()
      },
    }
  }
  const parsed = new URL(url)
  const database = parsed.pathname.slice(1)
  parsed.search = ''
  const uri = parsed.toString().replace(/^mariadb:/i, 'mysql:')
  const client = await createConnection({ uri })
  const watcher = await createConnection({ uri })
  await client.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED')
  return {
    async hold(requestId) {
      await client.query('START TRANSACTION')
      await client.query(holdSql[0] as string)
      await client.query(holdSql[1] as string, [requestId])
    },
    async release() {
      await client.query('COMMIT')
    },
    // MariaDB refreshes the INNODB_TRX cache only when it was not read for 100 ms
    // (CACHE_MIN_IDLE_TIME_US): asked every 20 ms, it never showed the waits.
    pollMs: 250,
    async waiting() {
      const [rows] = (await watcher.query(
        'SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ' +
          "ON p.ID = t.trx_mysql_thread_id WHERE p.DB = ? AND t.trx_state = 'LOCK WAIT'",
        [database],
      )) as unknown as [{ n: number }[]]
      return Number(rows[0]?.n ?? 0)
    },
    async close() {
      await client.end()
      await watcher.end()
    },
  }
}

/**
 * Two follower nodes on one fresh database, and a lock holder on it. One database serves every
 * test of a backend (each test has its own request and instances): migrating one takes seconds.
 */
async function twoNodes(name: 'postgres' | 'mysql') {
  const database = await freshDatabase(name)
  const a = await openStores(database.url)
  const b = await openStores(database.url)
  const holder = await lockHolder(name, database.url)
  const node = (stores: typeof a) => {
    const service = createActionService(stores.actions)
    const handler = createNotificationHandler({ service, log: captureLogger('debug').logger })
    return { service, handler }
  }
  // The handlers read the writer tag key once; done before any lock is held.
  for (const stores of [a, b]) await createActionService(stores.actions).writerTagKey()
  return {
    a: node(a),
    b: node(b),
    holder,
    async close() {
      await holder.close()
      await Promise.all([a.close(), b.close()])
      await database.drop()
    },
  }
}

type Nodes = Awaited<ReturnType<typeof twoNodes>>

/** Resolves once `done()` holds, polling; fails after a generous bound rather than hanging. */
async function until(what: string, pollMs: number, done: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < 120_000; waited += pollMs) {
    if (await done()) return
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
  assert.fail(`never happened: ${what}`)
}

/** A promise with a flag saying whether it has settled. */
function tracked<T>(p: Promise<T>) {
  const state = { settled: false, p }
  p.then(
    () => (state.settled = true),
    () => (state.settled = true),
  )
  return state
}

type Order = 'action first' | 'exception first'

/**
 * Runs the exception (node A) and the first notification of instance `second`'s action (node B)
 * of one request in overlapping transactions, in `order`; with `boot`, another instance
 * of the same boot already has its action and open event on the host (a multi-instance boot).
 * Returns the result of the event of every instance on the host.
 */
async function race({ a, b, holder }: Nodes, order: Order, boot: boolean) {
  const requestId = `req-${randomUUID()}`
  const [first, second] = [randomUUID(), randomUUID()]
  if (boot) assert.equal((await b.handler.handle(startBody(first, requestId))).kind, 'applied')
  await holder.hold(requestId)
  const sends = {
    exception: () => tracked(a.handler.handle(exceptionBody(requestId))),
    action: () => tracked(b.handler.handle(startBody(second, requestId))),
  }
  const [one, two] =
    order === 'action first' ? [sends.action, sends.exception] : [sends.exception, sends.action]
  const p1 = one()
  let p2: typeof p1 | undefined
  try {
    await until(
      'the first transaction waits or ends',
      holder.pollMs,
      async () => p1.settled || (await holder.waiting()) >= 1,
    )
    const started = two()
    p2 = started
    await until(
      'both transactions wait or end',
      holder.pollMs,
      async () => Number(p1.settled) + Number(started.settled) + (await holder.waiting()) >= 2,
    )
  } finally {
    // Also after a failure: the next test's writes must not queue behind these locks.
    await holder.release()
  }
  assert.ok(p2)
  for (const p of [p1, p2]) assert.equal((await p.p).kind, 'applied')
  const results: Record<string, string | null> = {}
  for (const uuid of boot ? [first, second] : [second]) {
    const shown = await a.service.getAction(uuid, requestId)
    assert.ok(shown, 'the action exists')
    assert.equal(shown.events.length, 1)
    results[uuid === first ? 'first instance' : 'second instance'] =
      `${shown.events[0]?.result ?? 'open'}, action message ${shown.action.message ?? 'none'}`
  }
  return results
}

const SERVERS: readonly BackendName[] = ['postgres', 'mysql']

for (const name of SERVERS) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`compute.exception race: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  const server = name as 'postgres' | 'mysql'
  describe(
    `compute.exception racing its action's first notification: ${name}`,
    { skip: problem ?? false },
    () => {
      let nodes: Promise<Nodes> | undefined
      const shared = () => (nodes ??= twoNodes(server))
      after(async () => {
        if (nodes) await (await nodes).close()
      })
      for (const order of ['action first', 'exception first'] as const) {
        test(`one instance, ${order}: the event fails`, async () => {
          assert.deepEqual(await race(await shared(), order, false), {
            'second instance': 'Error, action message Error',
          })
        })
        test(`a multi-instance boot, ${order}: both instances' events fail`, async () => {
          assert.deepEqual(await race(await shared(), order, true), {
            'first instance': 'Error, action message Error',
            'second instance': 'Error, action message Error',
          })
        })
      }
    },
  )
}
