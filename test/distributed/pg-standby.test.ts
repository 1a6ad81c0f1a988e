/**
 * ActionTrail on a real PostgreSQL primary with a streaming hot standby (test/helpers/pg-standby.ts),
 * through ActionTrail servers (HTTP):
 * - with ACTIONTRAIL_DB_READ, the query API reads the standby: with its replay paused, a write the
 *   Nova API (primary) already shows is missing from GET /v1/actions until the standby falls
 *   behind the lag bound, then the query API answers from the primary;
 * - the standby stopped and restarted under read load: every read answers 200, and reads go back
 *   to the standby once it returns;
 * - ACTIONTRAIL_DB pointed at a standby: writes answer 503 store_unavailable with Retry-After;
 * - with synchronous_commit = remote_apply, a primary SIGKILLed under write load and the standby
 *   promoted: every acknowledged write is on the promoted node.
 * Skipped with a loud warning when the PostgreSQL binaries are missing (a failure under
 * ACTIONTRAIL_REQUIRE_BACKENDS=1).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { runCli } from '../helpers/run-cli.js'
import { SseClient } from '../helpers/sse-client.js'
import { skipWithoutPgStandby, startPgStandby } from '../helpers/pg-standby.js'
import { resolveServeConfig } from '../../src/config.js'
import { KyselyActionStore } from '../../src/store/kysely-action-store.js'
import { openDatabase, openStores } from '../../src/store/open-store.js'
import { ReplicaReads } from '../../src/store/read-replica.js'
import { startServer } from '../../src/server.js'

const SERVICE = 'tok-standby-service'
const ADMIN = 'tok-standby-admin'
const INSTANCE = '00000000-0000-4000-8000-0000000000a1'

function tokenFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-standby-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'tokens.json')
  writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { token: SERVICE, user_id: 'u-1', project_id: 'p-1', roles: ['service'] },
        { token: ADMIN, user_id: 'u-admin', project_id: 'p-admin', roles: ['admin'] },
      ],
    }),
  )
  return file
}

/**
 * An ActionTrail server (the real HTTP server, in this process: spawning one costs seconds of
 * start-up on a loaded machine) on `db`, configured from `env` as `actiontrail serve` would be.
 */
async function serve(
  t: TestContext,
  tokens: string,
  db: string,
  env: Record<string, string> = {},
): Promise<{ url: string; stop: () => Promise<void> }> {
  const config = resolveServeConfig(
    { db, tokens, port: '0', logLevel: 'fatal' },
    { ACTIONTRAIL_LOG_KEY: 'standby-key', ...env },
  )
  const server = await startServer(config)
  let stopped: Promise<void> | undefined
  const stop = () => (stopped ??= server.close())
  t.after(stop)
  return { url: server.url, stop }
}

interface Answer {
  status: number
  headers: Headers
  body: unknown
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token = SERVICE,
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'x-auth-token': token,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    // NDJSON (the export) stays text.
  }
  return { status: res.status, headers: res.headers, body: parsed }
}

async function ok(base: string, method: string, path: string, body?: unknown, token = SERVICE) {
  const answer = await call(base, method, path, body, token)
  assert.ok(
    answer.status < 300,
    `${method} ${path} → ${answer.status} ${JSON.stringify(answer.body)}`,
  )
  return answer
}

/** The request ids GET /v1/actions (the query API) lists for the instance. */
async function queried(base: string): Promise<string[]> {
  const { body } = await ok(
    base,
    'GET',
    `/v1/actions?instance=${INSTANCE}&limit=1000`,
    undefined,
    ADMIN,
  )
  return (body as { actions: { request_id: string }[] }).actions.map((a) => a.request_id)
}

/** The request ids the Nova API lists for the instance (always read from the primary). */
async function novaListed(base: string): Promise<string[]> {
  const { body } = await ok(
    base,
    'GET',
    `/v2.1/servers/${INSTANCE}/os-instance-actions`,
    undefined,
    ADMIN,
  )
  return (body as { instanceActions: { request_id: string }[] }).instanceActions.map(
    (a) => a.request_id,
  )
}

/** One metric's value from GET /metrics, or undefined when absent. */
async function metric(base: string, name: string): Promise<number | undefined> {
  const res = await fetch(`${base}/metrics`)
  const text = await res.text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const replicaReads = (base: string) =>
  metric(base, 'actiontrail_db_replica_eligible_reads_total{node="replica"}')

async function startAction(base: string, requestId: string): Promise<void> {
  await ok(base, 'POST', `/v1/instances/${INSTANCE}/actions`, {
    request_id: requestId,
    action: 'reboot',
    user_id: 'u-1',
    project_id: 'p-1',
  })
}

test('a hot standby serves the query API within the lag bound; reads survive its restart', async (t) => {
  if (skipWithoutPgStandby(t)) return
  const t0 = Date.now()
  const pair = await startPgStandby(t)
  t.diagnostic(`primary + standby up in ${Date.now() - t0} ms`)
  const tokens = tokenFile(t)
  const server = await serve(t, tokens, pair.primaryUrl, {
    ACTIONTRAIL_DB_READ: pair.standbyUrl,
    ACTIONTRAIL_DB_READ_MAX_LAG_MS: '3000',
  })
  const base = server.url
  t.diagnostic(`server up at ${Date.now() - t0} ms`)
  await ok(base, 'PUT', `/v1/instances/${INSTANCE}`, {
    name: 'vm-a',
    project_id: 'p-1',
    user_id: 'u-1',
  })
  await startAction(base, 'req-before')
  await until('the standby to serve the first action', async () =>
    (await metric(base, 'actiontrail_db_read_replica_usable')) === 1 &&
    (await queried(base)).includes('req-before')
      ? true
      : undefined,
  )

  await t.test(
    'the query API reads the standby, and the primary once it is over the bound',
    async () => {
      await pair.query('standby', 'SELECT pg_wal_replay_pause()')
      await startAction(base, 'req-paused')
      // The Nova API reads the primary: it sees its own write at once.
      assert.ok((await novaListed(base)).includes('req-paused'))
      // The query API reads the standby, whose replay is paused: the write is not there yet. (The
      // check runs every 750 ms against a 3 s bound, so the standby is still within it.)
      const before = await replicaReads(base)
      assert.deepEqual(await queried(base), ['req-before'])
      assert.ok(
        ((await replicaReads(base)) ?? 0) > (before ?? 0),
        'the read was served by the standby',
      )
      // A stream resuming from the start catches up on the standby, which ends short of the
      // stream's head (read from the primary): the rest comes from the primary, nothing is skipped.
      const stream = await SseClient.ready(`${base}/v1/stream?after=0`, { 'x-auth-token': ADMIN })
      await stream.until(
        () =>
          stream
            .data('action')
            .some((d) => (d.action as { request_id: string }).request_id === 'req-paused'),
        'the stream to catch up past the paused standby',
      )
      stream.close()
      // `actiontrail export` (without --db) reads ACTIONTRAIL_DB_READ too: the paused standby's
      // state (a bound of 10 minutes keeps it within the bound however slow the CLI starts).
      const exported = await runCli(['export', `--instance=${INSTANCE}`], {
        ACTIONTRAIL_DB: pair.primaryUrl,
        ACTIONTRAIL_DB_READ: pair.standbyUrl,
        ACTIONTRAIL_DB_READ_MAX_LAG_MS: '600000',
      })
      assert.equal(exported.code, 0, exported.stderr)
      const lines = exported.stdout.trim().split('\n').slice(1, -1)
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { action: { request_id: string } }).action.request_id),
        ['req-before'],
      )
      // Once the paused standby is over the bound, the query API answers from the primary.
      await until('the query API to answer from the primary', async () =>
        (await queried(base)).includes('req-paused') ? true : undefined,
      )
      assert.equal(await metric(base, 'actiontrail_db_read_replica_usable'), 0)
      await pair.query('standby', 'SELECT pg_wal_replay_resume()')
      await until('the standby to be used again', async () =>
        (await metric(base, 'actiontrail_db_read_replica_usable')) === 1 ? true : undefined,
      )
      assert.deepEqual((await queried(base)).sort(), ['req-before', 'req-paused'])
    },
  )

  await t.test(
    'the standby stopped and restarted under read load: every read answers 200',
    async () => {
      const statuses = new Map<number, number>()
      const paths = [
        `/v1/actions?instance=${INSTANCE}`,
        `/v1/events?instance=${INSTANCE}`,
        '/v1/instances',
        `/v1/export?instance=${INSTANCE}`,
      ]
      let reading = true
      const reader = async (n: number) => {
        for (let i = n; reading; i++) {
          const { status, body } = await call(
            base,
            'GET',
            paths[i % paths.length] as string,
            undefined,
            ADMIN,
          )
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          assert.equal(
            status,
            200,
            `${paths[i % paths.length]} → ${status} ${JSON.stringify(body)}`,
          )
        }
      }
      const readers = Promise.all([0, 1, 2, 3].map(reader))
      try {
        await new Promise((r) => setTimeout(r, 300))
        await pair.stopStandby()
        await new Promise((r) => setTimeout(r, 1000))
        assert.equal(await metric(base, 'actiontrail_db_read_replica_usable'), 0)
        // Between its stop and the next lag check, a read may still be sent to the standby: it is
        // answered by the primary. Shown here with a check that still says "usable".
        const primary = await openStores(pair.primaryUrl, { migrate: false })
        // Not checked on opening: the pool connects at the first read.
        const standby = openDatabase(pair.standbyUrl)
        let markedDown = false
        const routed = new ReplicaReads(primary.queries, new KyselyActionStore(standby), {
          usable: () => true,
          markDown: () => (markedDown = true),
        })
        const found = await routed.searchActions({ instanceUuid: INSTANCE, limit: 10 })
        assert.deepEqual(found.map((a) => a.requestId).sort(), ['req-before', 'req-paused'])
        assert.deepEqual(routed.counts, { replica: 0, primary: 1 })
        assert.ok(markedDown, 'the standby is left out until its next check')
        await standby.db.destroy()
        await primary.close()
        await pair.startStandby()
        const back = await until('the standby to be used again', async () =>
          (await metric(base, 'actiontrail_db_read_replica_usable')) === 1
            ? replicaReads(base)
            : undefined,
        )
        await until('reads served by the returned standby', async () =>
          ((await replicaReads(base)) ?? 0) > (back ?? 0) + 10 ? true : undefined,
        )
      } finally {
        reading = false
        await readers
      }
      assert.deepEqual([...statuses.keys()], [200])
      assert.ok((statuses.get(200) ?? 0) > 20, `reads answered: ${statuses.get(200)}`)
    },
  )

  await t.test(
    'ACTIONTRAIL_DB pointed at the standby: writes answer 503, reads still answer',
    async () => {
      const onStandby = await serve(t, tokens, pair.standbyUrl)
      const write = await call(onStandby.url, 'POST', `/v1/instances/${INSTANCE}/actions`, {
        request_id: 'req-refused',
        action: 'reboot',
        user_id: 'u-1',
        project_id: 'p-1',
      })
      assert.equal(write.status, 503, JSON.stringify(write.body))
      assert.equal((write.body as { error: { code: string } }).error.code, 'store_unavailable')
      assert.ok(Number(write.headers.get('retry-after')) > 0)
      assert.deepEqual((await novaListed(onStandby.url)).sort(), ['req-before', 'req-paused'])
      assert.deepEqual((await queried(onStandby.url)).sort(), ['req-before', 'req-paused'])
      await onStandby.stop()
    },
  )
})

test('remote_apply: a primary SIGKILLed under writes, the standby promoted, nothing acked lost', async (t) => {
  if (skipWithoutPgStandby(t)) return
  const t0 = Date.now()
  const pair = await startPgStandby(t, { sync: true })
  const tokens = tokenFile(t)
  const writer = await serve(t, tokens, pair.primaryUrl)
  t.diagnostic(`primary + standby and server up in ${Date.now() - t0} ms`)
  await ok(writer.url, 'PUT', `/v1/instances/${INSTANCE}`, {
    name: 'vm-a',
    project_id: 'p-1',
    user_id: 'u-1',
  })
  const acknowledged: string[] = []
  let writing = true
  const acknowledgedEvents: string[] = []
  const actions = `/v1/instances/${INSTANCE}/actions`
  const client = async (c: number) => {
    for (let i = 0; writing; i++) {
      const requestId = `req-${c}-${i}`
      // An action's start, then its event: acknowledged events must survive as well as actions.
      const answer = await call(writer.url, 'POST', actions, {
        request_id: requestId,
        action: 'reboot',
        user_id: 'u-1',
        project_id: 'p-1',
      }).catch(() => undefined)
      if (answer === undefined || answer.status >= 300) continue
      acknowledged.push(requestId)
      const event = await call(writer.url, 'POST', `${actions}/${requestId}/events`, {
        event: 'compute_run',
        host: 'compute-1',
      }).catch(() => undefined)
      if (event !== undefined && event.status < 300) acknowledgedEvents.push(requestId)
    }
  }
  const clients = Promise.all([0, 1, 2, 3].map(client))
  await until('some acknowledged writes', async () =>
    acknowledged.length >= 150 ? true : undefined,
  )
  t.diagnostic(`${acknowledged.length} acknowledged at ${Date.now() - t0} ms; SIGKILL the primary`)
  await pair.killPrimary()
  const acked = acknowledged.length
  await new Promise((r) => setTimeout(r, 300))
  writing = false
  await clients
  await writer.stop()
  await pair.promote()
  const promoted = await serve(t, tokens, pair.standbyUrl)
  t.diagnostic(`promoted and a server on it at ${Date.now() - t0} ms`)
  assert.ok(acked >= 150 && acknowledged.length < 1000, `${acknowledged.length} acknowledged`)
  const found = new Set(await queried(promoted.url))
  const lost = acknowledged.filter((id) => !found.has(id))
  assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged actions lost`)
  const { body } = await ok(
    promoted.url,
    'GET',
    `/v1/events?instance=${INSTANCE}&limit=1000`,
    undefined,
    ADMIN,
  )
  const events = new Set(
    (body as { events: { request_id: string }[] }).events.map((e) => e.request_id),
  )
  const lostEvents = acknowledgedEvents.filter((id) => !events.has(id))
  t.diagnostic(
    `on the promoted node: ${acknowledged.length - lost.length}/${acknowledged.length} actions, ` +
      `${acknowledgedEvents.length - lostEvents.length}/${acknowledgedEvents.length} events`,
  )
  assert.deepEqual(
    lostEvents,
    [],
    `${lostEvents.length} of ${acknowledgedEvents.length} events lost`,
  )
  // The promoted node takes writes.
  await startAction(promoted.url, 'req-after-promotion')
})
