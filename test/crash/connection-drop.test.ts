/**
 * Dropped database connections on PostgreSQL and MariaDB/MySQL: the real server runs on a fresh
 * database; a batch large enough for several transactions (BATCH_CHUNK_SIZE) is in flight, single
 * writers run beside it, and meanwhile a separate admin connection kills every connection of the
 * server again and again (`pg_terminate_backend` / `KILL CONNECTION`). Then:
 * - the batch answers 200 with a result per operation (a failed chunk and everything after it
 *   503, nothing applied after a failure) or the whole request 503; never a 500;
 * - every operation answered 200/201 is stored exactly once, nothing at all is stored twice;
 * - the batch sent again, with its Idempotency-Key and without, completes it and doubles nothing;
 * - reads during the kills are served or answered 503, never 500;
 * - the server recovers on its own: the next read and write succeed without a restart.
 * Skipped loudly when a server does not answer (a failure under ACTIONTRAIL_REQUIRE_BACKENDS=1).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { BATCH_CHUNK_SIZE } from '../../src/api/v1/apply.js'
import {
  createServerDatabase,
  REQUIRE_BACKENDS,
  serverProblem,
  type ServerKind,
} from '../helpers/backends.js'
import { ADMIN_TOKEN, makeWorkDir, startServer } from './bundled-server.js'
import { Ledger, partialChunks } from './ledger.js'
import { readMysql, readPostgres } from './stored-rows.js'
import { random, send, Workload, type WriteRequest } from './workload.js'

const ROUNDS = Number(process.env.ACTIONTRAIL_CRASH_DB_ROUNDS ?? 2)
const SEED = Number(process.env.ACTIONTRAIL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
// ~6.2 operations a life: just over one chunk, so the batch is two transactions. Not more: on a
// server database each operation is a few round trips, and this batch runs about twice a round.
const BATCH_LIVES = Math.ceil((1.1 * BATCH_CHUNK_SIZE) / 6.2)
const SINGLE_WRITERS = 1
// Between kills: short enough for several kills during one batch, long enough for its
// transactions to make progress between them.
const KILL_EVERY_MS = [50, 400] as const
// The single kill of the other rounds: from just after the batch is sent to well into its work.
const FIRST_KILL_MS = [100, 1500] as const
const RETRY_AFTER_503_MS = 50
const READ_EVERY_MS = 25

const READERS: Record<ServerKind, (url: string) => ReturnType<typeof readPostgres>> = {
  postgres: readPostgres,
  mysql: readMysql,
}

for (const kind of ['postgres', 'mysql'] as const) {
  const name = `${kind}: connections killed mid-batch lose and double nothing, and the server recovers`
  test(`${name} (seed ${SEED})`, async (t) => {
    const problem = await serverProblem(kind)
    if (problem) {
      if (REQUIRE_BACKENDS) assert.fail(problem)
      return t.skip(problem)
    }
    const database = await createServerDatabase(kind)
    const work = await makeWorkDir()
    let stopServer = () => Promise.resolve()
    // One hook, in this order: the server's pool must be gone before the database is dropped.
    t.after(async () => {
      await stopServer()
      work.remove()
      await database.drop()
    })
    const server = await startServer(work, database.url)
    stopServer = server.stop
    const workload = new Workload(SEED)
    const rand = random(SEED ^ 0xdb)
    const ledger = new Ledger()
    const allow = { allowUnavailable: true }
    for (const req of workload.setupRequests()) ledger.absorb(req, await send(server.url, req))

    /** Sends until answered without 503 (as a client honouring Retry-After would). */
    async function persist(req: WriteRequest): Promise<void> {
      for (;;) {
        const answer = await send(server.url, req)
        ledger.absorb(req, answer, allow)
        if (answer.status !== 503) return
        await sleep(RETRY_AFTER_503_MS)
      }
    }

    let kills = 0
    const timings: number[] = []
    let replays = 0
    let reads = 0
    let unavailableReads = 0
    let killed = 0
    for (let round = 1; round <= ROUNDS; round++) {
      // Odd rounds: one kill, keyed batch (the executor's retry may hide it); even rounds: kills
      // until the batch answers, no key (its transactions run out of attempts: 503s).
      const repeated = round % 2 === 0
      const batch = workload.bigBatch(
        BATCH_LIVES,
        rand() < 0.5 ? 'json' : 'ndjson',
        repeated ? undefined : `drop-${SEED}-${round}`,
      )
      let done = false
      const writers = Array.from({ length: SINGLE_WRITERS }, async () => {
        while (!done) for (const req of workload.job(1)) await persist(req)
      })
      // Reads during the kills: served, or 503 (the store is unavailable), never a 500.
      const reader = (async () => {
        for (let i = 0; !done; i++) {
          const uuid = workload.baseInstances[i % workload.baseInstances.length] as string
          const res = await fetch(
            `${server.url}/v2.1/servers/${uuid}/os-instance-actions?limit=5`,
            {
              headers: { 'x-auth-token': ADMIN_TOKEN },
            },
          )
          const text = await res.text()
          assert.ok(
            res.status === 200 || res.status === 503,
            `a read during the kills: ${res.status} ${text}`,
          )
          if (res.status === 503) unavailableReads++
          else reads++
          // A reader, not a load test: the batch must keep the server's CPU.
          await sleep(READ_EVERY_MS)
        }
      })()
      const killer = (async () => {
        do {
          const [lo, hi] = repeated ? KILL_EVERY_MS : FIRST_KILL_MS
          await sleep(lo + rand() * (hi - lo))
          if (done) return
          kills++
          killed += (await database.killConnections?.()) ?? 0
        } while (repeated && !done)
      })()
      const sent = performance.now()
      const answer = await send(server.url, batch).finally(() => {
        done = true
      })
      timings.push(performance.now() - sent)
      ledger.absorb(batch, answer, allow)
      await Promise.all([killer, reader, ...writers])

      // Recovered without a restart: a read and a write succeed at once.
      const uuid = workload.baseInstances[0] as string
      const read = await fetch(`${server.url}/v2.1/servers/${uuid}/os-instance-actions`, {
        headers: { 'x-auth-token': ADMIN_TOKEN },
      })
      assert.equal(read.status, 200, `round ${round}: a read after the kills: ${await read.text()}`)
      for (const req of workload.job(1)) ledger.absorb(req, await send(server.url, req))
      const rows = await READERS[kind](database.url)
      assert.deepEqual(ledger.verify(rows), [], `round ${round} (seed ${SEED})`)
      // Each of the batch's transactions is there whole or not at all.
      assert.deepEqual(
        partialChunks(rows, batch.ops, BATCH_CHUNK_SIZE),
        [],
        `round ${round}: chunks`,
      )

      // The batch again as it was sent, with its key or without. A keyed batch whose first answer
      // was complete replays it (unless remembering it failed when a kill hit that statement: the
      // answer was still sent, and the retry runs again); otherwise it runs again and finds every
      // operation applied before. Now nothing fails and nothing doubles.
      const again = await send(server.url, batch)
      ledger.absorb(batch, again)
      const first = JSON.parse(answer.text) as { results?: { status: number }[] }
      if (again.replayed) {
        replays++
        assert.ok(
          batch.key && first.results?.every((r) => r.status < 300),
          'only a complete answer is replayed',
        )
        assert.equal(again.text, answer.text, `round ${round}: the replay is the first answer`)
      } else {
        const { results } = JSON.parse(again.text) as { results: { status: number }[] }
        results.forEach((r, i) => {
          const before = first.results?.[i]?.status
          if (before === 200 || before === 201)
            assert.equal(r.status, 200, `round ${round}: operation ${i}, applied before, is found`)
        })
      }
      assert.deepEqual(
        ledger.verify(await READERS[kind](database.url)),
        [],
        `round ${round} after the retry`,
      )
      // Every operation of the batch is in now.
      assert.equal(
        (JSON.parse(again.text) as { results: { status: number }[] }).results.length,
        batch.ops.length,
      )
    }
    assert.ok(killed > 0, 'the kills hit connections of the server')
    const counts = ledger.counts()
    console.log(
      `crash-safety ${kind}: seed ${SEED}, ${ROUNDS} batches of ${BATCH_LIVES} lives, ${kills} kills ` +
        `(${killed} connections), ${ledger.acknowledged} acknowledged writes, ${ledger.unavailable} ` +
        `answered 503 (${counts.actions} actions, ${counts.events} events), ${replays} keyed replays, ` +
        `${reads} reads served and ${unavailableReads} answered 503 during the kills; ` +
        `batch under kills ` +
        `${timings.map((ms) => Math.round(ms)).join(', ')} ms`,
    )
  })
}
