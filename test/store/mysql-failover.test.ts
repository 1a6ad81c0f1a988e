/**
 * The MariaDB node list (`mysql://u@host1,host2/db`, src/store/mysql/failover-pool.ts) on the
 * real test MariaDB: "node 1" is a TCP relay to it that the test can cut, "node 2" the server
 * itself. A node that refuses connections is passed over; a node that dies under open connections
 * costs no write (the executor retries the transaction, which lands on the next node); the store
 * stays on the new node when the old one comes back; and on a server without Galera no
 * wsrep_sync_wait is set. And a write whose COMMIT went through but whose answer was lost (an
 * unknown outcome) is retried on the next node and stored once: the write programs look before
 * they write (action start, event start, event finish, action finish, instance put). Skipped
 * loudly when MariaDB does not answer (a failure under ACTIONTRAIL_REQUIRE_BACKENDS=1).
 */
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { test } from 'node:test'
import { sql } from 'kysely'
import { parseTimestamp, type Timestamp } from '../../src/domain/timestamp.js'
import type { StoreWrite } from '../../src/store/action-store.js'
import { openDatabase, openStores } from '../../src/store/open-store.js'
import { createServerDatabase, REQUIRE_BACKENDS, serverProblem } from '../helpers/backends.js'
import { freePort } from '../helpers/free-port.js'

/** A TCP relay from a local port to the MariaDB server, counting the connections it took. */
class Relay {
  connections = 0
  /**
   * When set, the next COMMIT is passed to the server, and the connection is cut as soon as the
   * server answers it: the transaction committed, and the client never hears so.
   */
  cutAfterCommit = false
  /** COMMITs whose answer was cut. */
  cutCommits = 0
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined

  constructor(
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.connections++
      const upstream = connect(this.target.port, this.target.host)
      for (const s of [client, upstream]) {
        this.#sockets.add(s)
        s.on('error', () => undefined)
        s.on('close', () => this.#sockets.delete(s))
      }
      let cutting = false
      client.on('data', (chunk: Buffer) => {
        // A text-protocol query packet: 3-byte length, sequence number, COM_QUERY (3), the SQL.
        if (this.cutAfterCommit && chunk.includes(COMMIT_PACKET)) {
          this.cutAfterCommit = false
          cutting = true
        }
        upstream.write(chunk)
      })
      upstream.on('data', (chunk: Buffer) => {
        if (!cutting) return void client.write(chunk)
        this.cutCommits++
        client.destroy()
        upstream.destroy()
      })
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.#server = server
  }

  /** The node dies: listening stops and every open connection is cut. */
  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const s of this.#sockets) s.destroy()
    if (server) await new Promise((resolve) => server.close(resolve))
  }
}

const COMMIT_PACKET = Buffer.from('\x03commit', 'latin1')
const INSTANCE = '00000000-0000-4000-8000-0000000000f1'
const at = (n: number) =>
  parseTimestamp(`2026-03-01T00:00:${String(n).padStart(2, '0')}.000000Z`) as Timestamp

test('mysql: a node list passes over a dead node, survives its death mid-use, and stays on the next', async (t) => {
  const problem = await serverProblem('mysql')
  if (problem) {
    if (REQUIRE_BACKENDS) assert.fail(problem)
    return t.skip(problem)
  }
  const database = await createServerDatabase('mysql')
  t.after(() => database.drop())
  const real = new URL(database.url)
  const target = { host: real.hostname, port: Number(real.port || 3306) }
  const relay = new Relay(await freePort(), target)
  const dead = await freePort()
  const list = (...hosts: string[]) =>
    `${real.protocol}//${real.username}@${hosts.join(',')}${real.pathname}${real.search}`
  const self = `${target.host}:${target.port}`

  // No node answers: one clear error, which keeps the driver's (a 503 when serving).
  await assert.rejects(
    openStores(list(`127.0.0.1:${dead}`, `127.0.0.1:${dead}`)),
    (e: Error) => /none of the 2 database nodes answers/.test(e.message) && e.cause !== undefined,
  )

  // Nothing listens on the first node: the store opens, migrates and writes through the second.
  const passedOver = await openStores(list(`127.0.0.1:${dead}`, self))
  try {
    const [put] = await passedOver.actions.write([
      {
        op: 'instance_put',
        values: { uuid: INSTANCE, name: 'vm', projectId: 'p-1', userId: 'u-1', now: at(0) },
      },
    ])
    assert.equal(put?.ok, true)
    assert.equal((await passedOver.actions.getInstance(INSTANCE))?.name, 'vm')
  } finally {
    await passedOver.close()
  }

  await relay.start()
  const stores = await openStores(list(`127.0.0.1:${relay.port}`, self))
  t.after(() => stores.close())
  const write = async (n: number) => {
    const [outcome] = await stores.actions.write([
      {
        op: 'action_start',
        values: {
          instanceUuid: INSTANCE,
          action: 'reboot',
          requestId: `req-${n}`,
          userId: 'u-1',
          projectId: 'p-1',
          startTime: at(n),
          createdAt: at(n),
        },
      },
    ])
    assert.equal(outcome?.ok, true, `write ${n}`)
  }
  await write(1)
  assert.ok(relay.connections > 0, 'the first node took the first writes')

  // The first node dies with the store's connections open: the next writes still succeed.
  await relay.stop()
  for (let n = 2; n <= 6; n++) await write(n)
  // It comes back: the store stays where it is now.
  const before = relay.connections
  await relay.start()
  t.after(() => relay.stop())
  for (let n = 7; n <= 10; n++) await write(n)
  assert.equal(relay.connections, before, 'no connection went back to the first node')

  const actions = await stores.actions.listActions(INSTANCE, {})
  assert.deepEqual(
    actions.map((a) => a.requestId).sort(),
    Array.from({ length: 10 }, (_, i) => `req-${i + 1}`).sort(),
  )

  // No Galera here (wsrep_on is OFF): the sessions keep the server's default wsrep_sync_wait.
  const opened = openDatabase(database.url)
  try {
    const { rows } = await sql<{
      w: number | null
    }>`SELECT @@session.wsrep_sync_wait AS w`.execute(opened.db)
    assert.equal(Number(rows[0]?.w ?? 0), 0)
  } finally {
    await opened.db.destroy()
  }
})

test('mysql: a write whose COMMIT answer was lost is retried on the next node and stored once', async (t) => {
  const problem = await serverProblem('mysql')
  if (problem) {
    if (REQUIRE_BACKENDS) assert.fail(problem)
    return t.skip(problem)
  }
  const database = await createServerDatabase('mysql')
  t.after(() => database.drop())
  const real = new URL(database.url)
  const target = { host: real.hostname, port: Number(real.port || 3306) }
  const relay = new Relay(await freePort(), target)
  await relay.start()
  t.after(() => relay.stop())
  const hosts = `127.0.0.1:${relay.port},${target.host}:${target.port}`
  const url = `${real.protocol}//${real.username}@${hosts}${real.pathname}${real.search}`
  const key = { instanceUuid: INSTANCE, requestId: 'req-lost-commit' }
  const ops: StoreWrite[] = [
    {
      op: 'instance_put',
      values: { uuid: INSTANCE, name: 'vm', projectId: 'p-1', userId: 'u-1', now: at(0) },
    },
    {
      op: 'action_start',
      values: {
        ...key,
        action: 'reboot',
        userId: 'u-1',
        projectId: 'p-1',
        startTime: at(1),
        createdAt: at(1),
      },
    },
    {
      op: 'event_start',
      values: { ...key, event: 'compute_reboot', host: 'c-1', startTime: at(2), createdAt: at(2) },
    },
    {
      op: 'event_finish',
      values: {
        ...key,
        event: 'compute_reboot',
        result: 'Success',
        traceback: null,
        details: null,
        finishTime: at(3),
        updatedAt: at(3),
      },
    },
    { op: 'action_finish', values: { ...key, finishTime: at(4) } },
  ]
  // Each write through a store of its own, which starts on the relay, whose COMMIT answer is cut.
  for (const op of ops) {
    const stores = await openStores(url)
    try {
      relay.cutAfterCommit = true
      const before = relay.cutCommits
      const [outcome] = await stores.actions.write([op])
      assert.equal(relay.cutCommits, before + 1, `${op.op}: its COMMIT answer was cut`)
      assert.equal(outcome?.ok, true, `${op.op} succeeded after the retry`)
    } finally {
      await stores.close()
    }
  }

  const stores = await openStores(database.url)
  t.after(() => stores.close())
  const actions = await stores.actions.listActions(INSTANCE, {})
  assert.equal(actions.length, 1, 'the action is stored once')
  assert.equal(actions[0]?.finishTime, at(4))
  const events = await stores.actions.listEvents(actions[0]!.id)
  assert.equal(events.length, 1, 'the event is stored once')
  assert.equal(events[0]?.finishTime, at(3))
  assert.equal(events[0]?.result, 'Success')
})
