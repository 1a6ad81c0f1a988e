/**
 * kill -9 on SQLite: the real server runs on one database file while concurrent writers send
 * action lives through the /v1 single endpoints and batches (JSON and NDJSON, with and without
 * Idempotency-Key, now and then one large enough to span two transactions); after a random
 * delay the server is SIGKILLed and started again on the same file, ACTIONTRAIL_CRASH_ROUNDS times
 * (default 20), the data accumulating. After every restart:
 * - `PRAGMA integrity_check` is ok and no foreign key dangles;
 * - every write acknowledged before the kill (its answer received in full with 2xx) is stored
 *   exactly once with the values sent, and no write at all is stored twice or in part;
 * - every keyed request acknowledged before the kill, sent again, replays its stored answer byte
 *   for byte; an acknowledged batch sent again without a key changes nothing (all 200).
 * Writes in flight at the kill are retried by their writer after the restart, as a client would.
 * The seed is printed; ACTIONTRAIL_CRASH_SEED repeats a run.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { BATCH_CHUNK_SIZE } from '../../src/api/v1/apply.js'
import { readThroughApi } from './api-rows.js'
import { makeWorkDir, startServer, type ServerProcess } from './bundled-server.js'
import { Ledger, partialChunks } from './ledger.js'
import { readSqlite } from './stored-rows.js'
import { random, send, Workload, type WriteRequest } from './workload.js'

const ROUNDS = Number(process.env.ACTIONTRAIL_CRASH_ROUNDS ?? 20)
const SEED = Number(process.env.ACTIONTRAIL_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const WRITERS = 6
// The kill comes 0–600 ms after the round's first acknowledgement (a fresh server answers its
// first requests slowly, seconds on a loaded machine): enough for hundreds of acknowledged writes
// on an idle machine, short enough that the rounds cost little beside the server's restarts.
const KILL_AFTER_MS = [0, 600] as const
// A round whose writers get nothing acknowledged in this time fails.
const FIRST_ACK_TIMEOUT_MS = 60_000
// Lives in a batch large enough to span two transactions (BATCH_CHUNK_SIZE 5000, ~6.4 ops a life).
const BIG_BATCH_LIVES = 900

/** A writer's job and how far it got: the request at `next` was in flight when the server died. */
interface Job {
  requests: WriteRequest[]
  next: number
}

test(`kill -9 at random points, ${ROUNDS} times: acknowledged writes stay, exactly once (seed ${SEED})`, async (t) => {
  const work = await makeWorkDir()
  const file = join(work.dir, 'crash.db')
  const workload = new Workload(SEED)
  const rand = random(SEED ^ 0x5eed)
  const ledger = new Ledger()
  let server: ServerProcess = await startServer(work, file)
  t.after(async () => {
    await server.stop()
    work.remove()
  })
  for (const req of workload.setupRequests()) ledger.absorb(req, await send(server.url, req))

  let killed = false
  /**
   * Runs one writer until the server dies, and resolves with its interrupted job; with `once`, it
   * only completes the job it resumes.
   */
  async function writer(url: string, resume: Job | undefined, once = false): Promise<Job> {
    for (let job = resume ?? { requests: workload.job(), next: 0 }; ;) {
      for (; job.next < job.requests.length; job.next++) {
        const req = job.requests[job.next] as WriteRequest
        let answer
        try {
          answer = await send(url, req)
        } catch (err) {
          if (!killed)
            throw new Error(`${req.method} ${req.path} failed before the kill`, { cause: err })
          return job
        }
        ledger.absorb(req, answer)
      }
      if (once) return job
      job = {
        requests: rand() < 0.05 ? [workload.bigBatch(BIG_BATCH_LIVES, 'ndjson')] : workload.job(),
        next: 0,
      }
    }
  }

  let interrupted: Job[] = []
  const restarts: number[] = []
  let inFlightBatches = 0
  const perRound: number[] = []
  let checkedKeyed = 0
  const [lo, hi] = KILL_AFTER_MS
  for (let round = 1; round <= ROUNDS; round++) {
    killed = false
    const before = ledger.acknowledged
    const writers = Array.from({ length: WRITERS }, (_, i) => writer(server.url, interrupted[i]))
    const waitingSince = performance.now()
    while (ledger.acknowledged === before) {
      assert.ok(
        performance.now() - waitingSince < FIRST_ACK_TIMEOUT_MS,
        `round ${round}: no write acknowledged`,
      )
      await Promise.race([sleep(5), ...writers])
    }
    await sleep(lo + rand() * (hi - lo))
    killed = true
    await server.kill()
    const settled = await Promise.allSettled(writers)
    const failure = settled.find((s) => s.status === 'rejected')
    if (failure) throw failure.reason
    interrupted = settled.map((s) => (s as PromiseFulfilledResult<Job>).value)
    perRound.push(ledger.acknowledged - before)

    const restart = performance.now()
    server = await startServer(work, file)
    restarts.push(performance.now() - restart)
    const { rows, integrity, foreignKeys } = readSqlite(file)
    assert.deepEqual(integrity, ['ok'], `round ${round}: integrity_check`)
    assert.deepEqual(foreignKeys, [], `round ${round}: foreign_key_check`)
    assert.deepEqual(ledger.verify(rows), [], `round ${round} (seed ${SEED})`)
    // A batch in flight at the kill is there in whole transactions or not at all.
    for (const job of interrupted) {
      const req = job.requests[job.next]
      if (req?.batch) {
        assert.deepEqual(
          partialChunks(rows, req.ops, BATCH_CHUNK_SIZE),
          [],
          `round ${round}: ${req.ops.length} ops in flight`,
        )
        inFlightBatches++
      }
    }

    // Keyed answers received before the kill replay byte for byte.
    for (const { req, answer } of ledger.keyed.slice(checkedKeyed)) {
      const again = await send(server.url, req)
      assert.equal(again.replayed, true, `round ${round}: ${req.path} key ${req.key} replayed`)
      assert.equal(again.status, answer.status)
      assert.equal(
        again.text,
        answer.text,
        `round ${round}: key ${req.key} replays the stored answer`,
      )
    }
    checkedKeyed = ledger.keyed.length
    // An acknowledged batch sent again without its key is applied again and changes nothing.
    const batch = [...ledger.keyed].reverse().find((k) => k.req.batch)?.req
    if (batch) {
      const again = await send(server.url, batch, { withKey: false })
      const { results } = JSON.parse(again.text) as { results: { status: number }[] }
      assert.ok(
        results.length === batch.ops.length && results.every((r) => r.status === 200),
        `round ${round}: a repeated batch finds every write there`,
      )
    }
  }

  // The writes in flight at the last kill, retried now, are applied exactly once too.
  await Promise.all(interrupted.map((job) => writer(server.url, job, true)))
  assert.deepEqual(ledger.verify(readSqlite(file).rows), [])
  // What the API shows agrees with the file, for a sample of the acknowledged actions.
  const keys = [...ledger.actions.keys()].filter(() => rand() < 0.02)
  const shown = await readThroughApi(server.url, keys)
  assert.equal(shown.actions.length, keys.length, 'every sampled action is shown')
  assert.deepEqual(ledger.verify(shown, { only: new Set(keys), withoutActionFinish: true }), [])
  const counts = ledger.counts()
  console.log(
    `crash-safety sqlite: seed ${SEED}, ${ROUNDS} kills, ${ledger.acknowledged} acknowledged writes ` +
      `(${counts.instances} instances, ${counts.actions} actions, ${counts.events} events), ` +
      `${ledger.keyed.length} keyed answers replayed, ${inFlightBatches} batches in flight at a kill, ` +
      `${keys.length} actions read back through the API; ` +
      `acknowledged per round ${Math.min(...perRound)}–${Math.max(...perRound)}, ` +
      `restart to listening ${Math.round(Math.min(...restarts))}–${Math.round(Math.max(...restarts))} ms`,
  )
})
