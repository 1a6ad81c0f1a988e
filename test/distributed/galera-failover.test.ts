/**
 * Two `actiontrail serve` processes on the project's own 3-node MariaDB Galera cluster
 * (test/helpers/galera-cluster.ts), each with the node list of ACTIONTRAIL_DB in another order,
 * so that they write through different nodes. While clients of both (the TS client, which retries
 * 503s) write whole action lives and read lists, node 1 (the first server's node) is SIGKILLed,
 * and later started again. Then:
 * - every write the client saw acknowledged is present exactly once on every node;
 * - `actiontrail verify` (the hash chain) passes on every node;
 * - the API answered throughout: every answer was a 2xx or a documented 503, never a 500, and
 *   every client call succeeded (after its retries).
 * Skipped loudly when Galera is not installed (a failure under ACTIONTRAIL_REQUIRE_BACKENDS=1).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createConnection } from 'mysql2/promise'
import { ActionTrailClient } from '../../src/client/index.js'
import { openStores } from '../../src/store/open-store.js'
import { REQUIRE_BACKENDS } from '../helpers/backends.js'
import { galeraProblem, startGaleraCluster } from '../helpers/galera-cluster.js'
import { runCli } from '../helpers/run-cli.js'
import { spawnServe, type RunningServe } from '../helpers/spawn-server.js'

const SERVICE = 'tok-galera-service'
const ADMIN = 'tok-galera-admin'
const INSTANCES = [1, 2, 3, 4].map((i) => `00000000-0000-4000-8000-00000000000${i}`)
const WRITERS_PER_SERVER = 3
const EVENTS = ['compute_prep', 'compute_run']
// Writing before the kill, between the kill and the restart, and after the rejoin.
const BEFORE_KILL_MS = 3000
const KILLED_MS = 6000
const AFTER_REJOIN_MS = 3000

function serve(t: TestContext, database: string, tokens: string): Promise<RunningServe> {
  return spawnServe(
    t,
    ['--db', database, '--tokens', tokens, '--port', '0', '--log-level', 'warn'],
    { env: { ACTIONTRAIL_LOG_KEY: 'galera-key', ACTIONTRAIL_DB_POOL_MAX: '6' } },
  )
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')
/** Distinct, increasing explicit times per writer and step (a retry resends the same ones). */
const at = (writer: number, k: number, step: number) =>
  `2026-03-01T${pad(writer, 2)}:${pad(Math.floor(k / 60) % 60, 2)}:${pad(k % 60, 2)}.${pad(step, 6)}`

const NAME =
  'galera: API nodes writing through different nodes, one SIGKILLed and rejoining, lose and double nothing'

test(NAME, async (t) => {
  const problem = galeraProblem()
  if (problem) {
    if (REQUIRE_BACKENDS) assert.fail(problem)
    return t.skip(problem)
  }
  const started = Date.now()
  const cluster = await startGaleraCluster()
  t.diagnostic(`cluster up in ${Date.now() - started} ms`)
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-galera-api-'))
  const servers: RunningServe[] = []
  try {
    const tokens = join(dir, 'tokens.json')
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { token: SERVICE, user_id: 'u-1', project_id: 'p-1', roles: ['service'] },
          { token: ADMIN, user_id: 'u-admin', project_id: 'p-admin', roles: ['admin'] },
        ],
      }),
    )
    const hosts = cluster.ports.map((p) => `127.0.0.1:${p}`)
    const list = (order: number[]) =>
      `mysql://root@${order.map((i) => hosts[i]).join(',')}/actiontrail`
    // The schema first, once: Kysely's migration lock is a row lock, which Galera does not hold
    // across nodes (docs/deployment.md). Then both servers at once.
    await (await openStores(list([0, 1, 2]))).close()
    servers.push(
      ...(await Promise.all([list([0, 1, 2]), list([1, 2, 0])].map((db) => serve(t, db, tokens)))),
    )
    t.diagnostic(`servers up after ${Date.now() - started} ms`)

    // Every answer any client got, through a recording fetch.
    const statuses = new Map<number, number>()
    const recordingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init)
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      return res
    }
    const client = (url: string, token: string) =>
      new ActionTrailClient({
        baseUrl: url,
        token,
        fetch: recordingFetch,
        retries: 10,
        backoffMs: 100,
        maxBackoffMs: 2000,
        timeoutMs: 20_000,
      })
    const clients = servers.map((s) => client(s.url, SERVICE))
    const readers = servers.map((s) => client(s.url, ADMIN))
    t.after(() => Promise.all([...clients, ...readers].map((c) => c.close())))
    for (const uuid of INSTANCES) {
      await clients[0]!.putInstance({
        uuid,
        name: `vm-${uuid.slice(-1)}`,
        projectId: 'p-1',
        userId: 'u-1',
      })
    }

    // Writers: whole action lives, each write acknowledged before the next.
    const acknowledged: {
      requestId: string
      instance: string
      events: number
      finished: boolean
    }[] = []
    let writing = true
    const writer = async (client: ActionTrailClient, w: number) => {
      for (let k = 0; writing; k++) {
        const requestId = `req-${pad(w, 2)}-${pad(k, 5)}`
        const instanceUuid = INSTANCES[(w + k) % INSTANCES.length]!
        const life = { requestId, instance: instanceUuid, events: 0, finished: false }
        acknowledged.push(life)
        const base = { instanceUuid, requestId }
        await client.actionStart({
          ...base,
          action: 'reboot',
          userId: 'u-1',
          projectId: 'p-1',
          startTime: at(w, k, 0),
        })
        for (const [e, event] of EVENTS.entries()) {
          await client.eventStart({
            ...base,
            event,
            host: 'compute-1',
            startTime: at(w, k, 1 + 2 * e),
          })
          await client.eventFinish({
            ...base,
            event,
            result: 'Success',
            finishTime: at(w, k, 2 + 2 * e),
          })
          life.events++
        }
        await client.actionFinish({ ...base, finishTime: at(w, k, 9) })
        life.finished = true
      }
    }
    // Readers: the list of an instance, again and again, through both servers.
    let reads = 0
    const reader = async (client: ActionTrailClient, r: number) => {
      while (writing) {
        await client.listActions(INSTANCES[r % INSTANCES.length]!, { limit: 20 })
        reads++
        await sleep(50)
      }
    }
    const work = clients.flatMap((client, s) => [
      ...Array.from({ length: WRITERS_PER_SERVER }, (_, i) => writer(client, s * 10 + i)),
      reader(readers[s]!, s),
    ])
    const faults = (async () => {
      await sleep(BEFORE_KILL_MS)
      await cluster.kill(1)
      await sleep(KILLED_MS)
      await cluster.startNode(1)
      t.diagnostic(`node 1 rejoined after ${Date.now() - started} ms`)
      await sleep(AFTER_REJOIN_MS)
      writing = false
    })()
    // A failed call (retries exhausted, or a 4xx) rejects here and fails the test.
    await Promise.all([faults, ...work])

    const lives = acknowledged.filter((l) => l.finished)
    assert.ok(lives.length > 20, `only ${lives.length} action lives were written`)
    assert.ok(reads > 10, `only ${reads} reads were answered`)
    const unexpected = [...statuses.keys()].filter((s) => ![200, 201, 503].includes(s))
    assert.deepEqual(unexpected, [], `answers: ${JSON.stringify([...statuses])}`)
    t.diagnostic(`answers ${JSON.stringify([...statuses])}; ${lives.length} lives, ${reads} reads`)

    // Every node holds every acknowledged action once, its events once each, all finished.
    const expected = new Map(acknowledged.map((l) => [l.requestId, l]))
    for (const [n, url] of cluster.nodeUrls.entries()) {
      const connection = await createConnection({ uri: url, dateStrings: true })
      try {
        // Not stale: wait until this node has applied everything the cluster committed.
        await connection.query('SET SESSION wsrep_sync_wait = 1')
        const [actions] = (await connection.query(
          'SELECT request_id, COUNT(*) AS n, MAX(finish_time IS NOT NULL) AS finished ' +
            'FROM instance_actions GROUP BY request_id',
        )) as unknown as [{ request_id: string; n: number; finished: number }[]]
        const [events] = (await connection.query(
          'SELECT a.request_id, e.event, COUNT(*) AS n, SUM(e.finish_time IS NOT NULL) AS finished ' +
            'FROM instance_actions_events e JOIN instance_actions a ON a.id = e.action_id ' +
            'GROUP BY a.request_id, e.event',
        )) as unknown as [{ request_id: string; event: string; n: number; finished: number }[]]
        const stored = new Map(actions.map((a) => [a.request_id, a]))
        for (const life of acknowledged) {
          const row = stored.get(life.requestId)
          // The last life of a writer may have been cut off before its start was acknowledged.
          if (!row) {
            assert.ok(!life.finished && life.events === 0, `node ${n + 1}: ${life.requestId} lost`)
            continue
          }
          assert.equal(Number(row.n), 1, `node ${n + 1}: ${life.requestId} stored once`)
          if (life.finished)
            assert.equal(Number(row.finished), 1, `node ${n + 1}: ${life.requestId} finished`)
        }
        assert.ok(
          actions.every((a) => expected.has(a.request_id)),
          `node ${n + 1}: no stray action`,
        )
        for (const e of events) {
          assert.equal(Number(e.n), 1, `node ${n + 1}: ${e.request_id}/${e.event} stored once`)
        }
        for (const life of lives) {
          const mine = events.filter((e) => e.request_id === life.requestId)
          assert.equal(
            mine.length,
            EVENTS.length,
            `node ${n + 1}: ${life.requestId} has its events`,
          )
          assert.ok(
            mine.every((e) => Number(e.finished) === 1),
            `node ${n + 1}: events finished`,
          )
        }
      } finally {
        await connection.end()
      }
    }

    // The hash chain, as the node that was killed and caught up by IST holds it (the rows it
    // covers were compared on every node above).
    const verified = await runCli(['verify', '--db', cluster.nodeUrls[0]!])
    assert.equal(verified.code, 0, `verify:\n${verified.stdout}\n${verified.stderr}`)
    t.diagnostic(`checked after ${Date.now() - started} ms`)
  } finally {
    for (const server of servers) await server.stop()
    await cluster.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
