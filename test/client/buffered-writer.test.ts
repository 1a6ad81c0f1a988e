/**
 * BufferedActionWriter against the real server, observed through a pass-through fault injector:
 * when batches are sent (size, interval, flush, close), their order, per-operation errors, whole
 * batch failures, and what a call resolves with (nothing: no record is made up).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BufferedActionWriter, ClientClosedError, ClientHttpError } from '../../src/client/index.js'
import { isAppError } from '../../src/domain/errors.js'
import { PROJECT_A, USER_A } from '../helpers/build-app.js'
import {
  batches,
  CTX,
  seedVm,
  serviceClient,
  startActionTrail,
  startInjector,
  VM,
} from './support.js'

const START = {
  instanceUuid: VM,
  action: 'reboot',
  requestId: CTX.requestId,
  userId: USER_A,
  projectId: PROJECT_A,
}
const EVENT = { instanceUuid: VM, requestId: CTX.requestId }
const LONG = 60_000

test('a batch is sent as soon as maxOps operations are queued, without waiting for the interval', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl)
  const writer = new BufferedActionWriter(serviceClient(injector.url), {
    maxOps: 3,
    flushIntervalMs: LONG,
  })
  t.after(() => writer.close())
  const calls = [
    writer.actionStart(START),
    writer.eventStart({ ...EVENT, event: 'e1' }),
    writer.eventStart({ ...EVENT, event: 'e2' }),
    writer.eventStart({ ...EVENT, event: 'e3' }),
    writer.eventFinish({ ...EVENT, event: 'e1', result: 'Success' }),
    writer.eventFinish({ ...EVENT, event: 'e2', result: 'Success' }),
    writer.eventFinish({ ...EVENT, event: 'e3', result: 'Success' }),
  ]
  // The first full batch left at once; the rest waits for it (one batch in flight at a time).
  assert.equal(writer.pending, 4)
  // The last batch holds one operation: it is sent right after the second, whose round trip it
  // has already waited, not after the (long) interval.
  await Promise.all(calls)
  assert.deepEqual(
    batches(injector).map((b) => b.length),
    [3, 3, 1],
  )
  const events = (await h.service.getAction(VM, CTX.requestId))?.events ?? []
  assert.equal(events.filter((e) => e.result === 'Success').length, 3)
})

test('a batch is sent flushIntervalMs after the first queued operation', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl)
  const writer = new BufferedActionWriter(serviceClient(injector.url), { flushIntervalMs: 40 })
  t.after(() => writer.close())
  const began = Date.now()
  const action = writer.actionStart(START)
  const event = writer.eventStart({ ...EVENT, event: 'compute_reboot_instance' })
  await new Promise((r) => setTimeout(r, 10))
  assert.equal(injector.seen.length, 0, 'nothing is sent before the interval')
  await Promise.all([action, event])
  assert.ok(Date.now() - began >= 35)
  assert.deepEqual(
    batches(injector).map((b) => b.length),
    [2],
  )
  assert.equal((await h.service.getAction(VM, CTX.requestId))?.events.length, 1)
})

test('flush() sends at once and resolves when everything queued before it is settled', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl)
  const writer = new BufferedActionWriter(serviceClient(injector.url), { flushIntervalMs: LONG })
  t.after(() => writer.close())
  let settled = 0
  void writer.actionStart(START).then(() => settled++)
  const failing = writer.eventFinish({
    ...EVENT,
    event: 'compute_never_started',
    result: 'Success',
  })
  void failing.catch(() => settled++)
  await writer.flush()
  assert.equal(settled, 2)
  assert.equal(injector.seen.length, 1)
  await assert.rejects(failing, (err) => isAppError(err, 'event_not_found'))
  await writer.flush() // nothing queued: resolves at once
})

test('close() flushes, stops the timer, and later calls reject; the client it was given stays open', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl)
  const client = serviceClient(injector.url)
  // A long interval: if close() left its timer running, the test process would wait for it.
  const writer = new BufferedActionWriter(client, { flushIntervalMs: LONG })
  const action = writer.actionStart(START)
  const event = writer.eventStart({ ...EVENT, event: 'compute_stop_instance' })
  await writer.close()
  await Promise.all([action, event])
  assert.equal(batches(injector).length, 1)
  const stored = await h.service.getAction(VM, CTX.requestId)
  assert.equal(stored?.action.action, 'reboot')
  assert.equal(stored.events[0]?.event, 'compute_stop_instance')
  await assert.rejects(
    writer.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }),
    ClientClosedError,
  )
  await writer.close()
  // The client may be shared: closing the writer leaves it to its owner.
  await client.actionFinish({ instanceUuid: VM, requestId: CTX.requestId })
  assert.ok((await h.service.getAction(VM, CTX.requestId))?.action.finishTime)
  await client.close()
})

test('order holds across batches: one batch in flight at a time, operations in call order', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  // Slow answers: a second concurrent batch would have every chance to overtake the first.
  const injector = await startInjector(t, baseUrl, () => 'pass', { delayMs: 25 })
  const writer = new BufferedActionWriter(serviceClient(injector.url), {
    maxOps: 2,
    flushIntervalMs: 1,
  })
  t.after(() => writer.close())
  const names = ['e1', 'e2', 'e3', 'e4']
  const calls: Promise<unknown>[] = [writer.actionStart(START)]
  for (const event of names) calls.push(writer.eventStart({ ...EVENT, event, host: 'c-1' }))
  for (const event of names) calls.push(writer.eventFinish({ ...EVENT, event, result: 'Success' }))
  calls.push(writer.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }))
  await Promise.all(calls)
  assert.equal(injector.maxConcurrent(), 1)
  const sent = batches(injector)
  assert.ok(sent.length >= 5, `at least five batches of two, got ${sent.length}`)
  assert.deepEqual(
    sent.flat().map((op) => `${String(op.op)}:${String(op.event ?? '')}`),
    [
      'action_start:',
      ...names.map((e) => `event_start:${e}`),
      ...names.map((e) => `event_finish:${e}`),
      'action_finish:',
    ],
  )
  const stored = await h.service.getAction(VM, CTX.requestId)
  assert.ok(stored?.action.finishTime)
  assert.equal(stored?.events.filter((e) => e.result === 'Success').length, 4)
})

test('a failed operation rejects with its own error while the rest of its batch resolves', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const writer = new BufferedActionWriter(serviceClient(baseUrl), { flushIntervalMs: 5 })
  t.after(() => writer.close())
  const [started, conflict, missing, event] = await Promise.allSettled([
    writer.actionStart(START),
    writer.actionStart({ ...START, action: 'resize' }),
    writer.eventFinish({ ...EVENT, event: 'compute_missing', result: 'Error' }),
    writer.eventStart({ ...EVENT, event: 'compute_reboot_instance' }),
  ])
  assert.equal(started.status, 'fulfilled')
  assert.equal(event.status, 'fulfilled')
  assert.ok(conflict.status === 'rejected' && conflict.reason instanceof ClientHttpError)
  assert.equal(conflict.reason.code, 'conflict')
  assert.equal(conflict.reason.status, 409)
  assert.ok(missing.status === 'rejected' && isAppError(missing.reason, 'event_not_found'))
  assert.equal((missing.reason as ClientHttpError).status, 404)
})

test('a batch that fails after all retries rejects every operation in it; later batches still go', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl, (n) => (n < 3 ? '503' : 'pass'))
  const writer = new BufferedActionWriter(serviceClient(injector.url, { retries: 2 }), {
    flushIntervalMs: 5,
  })
  t.after(() => writer.close())
  const lost = await Promise.allSettled([
    writer.actionStart(START),
    writer.eventStart({ ...EVENT, event: 'e1' }),
  ])
  for (const outcome of lost) {
    assert.ok(outcome.status === 'rejected' && outcome.reason instanceof ClientHttpError)
    assert.equal(outcome.reason.status, 503)
    assert.equal(outcome.reason.code, 'store_unavailable')
  }
  assert.equal(injector.seen.length, 3)
  await writer.actionStart(START)
  const stored = await h.service.getAction(VM, CTX.requestId)
  assert.equal(stored?.action.action, 'reboot')
  assert.equal(stored.events.length, 0)
})

test('calls resolve with nothing; the server stores the times stamped at queue time', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const injector = await startInjector(t, baseUrl)
  const writer = new BufferedActionWriter(serviceClient(injector.url, { ndjson: true }), {
    flushIntervalMs: 5,
  })
  t.after(() => writer.close())
  // No made-up record (no id 0, no guessed server times): only "the server has it".
  assert.equal(
    await writer.putInstance({
      uuid: VM,
      name: 'vm-renamed',
      projectId: PROJECT_A,
      userId: USER_A,
    }),
    undefined,
  )
  assert.equal(
    await writer.actionStart({ ...START, startTime: '2026-11-25T10:11:12.345678Z' }),
    undefined,
  )
  const started = writer.eventStart({ ...EVENT, event: 'compute_reboot_instance', host: 'c-1' })
  assert.equal(await started, undefined)
  const finished = writer.eventFinish({
    ...EVENT,
    event: 'compute_reboot_instance',
    result: 'Error',
    details: 'Boom',
    traceback: '    at x (/srv/app/x.js:1:1) token=abc123',
  })
  assert.equal(await finished, undefined)
  assert.equal(await writer.actionFinish({ instanceUuid: VM, requestId: CTX.requestId }), undefined)

  const stored = await h.service.getAction(VM, CTX.requestId)
  assert.equal(stored?.action.startTime, '2026-11-25T10:11:12.345678')
  assert.ok(stored.action.finishTime)
  const [event] = stored.events
  assert.equal(event?.host, 'c-1')
  assert.equal(event?.result, 'Error')
  assert.equal(event?.details, 'Boom')
  assert.ok(event?.traceback?.includes('token=***'), 'the server sanitized the traceback')
  // The stored start time is the one the writer stamped on the operation, not the server's clock.
  const startOp = batches(injector)
    .flat()
    .find((op) => op.op === 'event_start')
  assert.equal(event?.startTime, startOp?.start_time)
  assert.equal((await h.service.getInstance(VM))?.name, 'vm-renamed')
  // Sent as NDJSON.
  assert.ok(
    injector.seen.every((r) =>
      String(r.headers['content-type']).startsWith('application/x-ndjson'),
    ),
  )
})

test('maxBatchBytes splits large operations into separate batches', async (t) => {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  await h.service.actionStart(START)
  const injector = await startInjector(t, baseUrl)
  const writer = new BufferedActionWriter(serviceClient(injector.url), {
    flushIntervalMs: 5,
    maxBatchBytes: 3000,
  })
  t.after(() => writer.close())
  const frames = '    at work (/srv/app/worker.js:1:1)\n'.repeat(60)
  const calls = []
  for (const event of ['e1', 'e2', 'e3']) {
    calls.push(writer.eventStart({ ...EVENT, event }))
    calls.push(writer.eventFinish({ ...EVENT, event, result: 'Error', traceback: frames }))
  }
  await Promise.all(calls)
  const sent = batches(injector)
  assert.ok(sent.length >= 3, `large operations were spread over ${sent.length} batches`)
  for (const r of injector.seen) {
    const ops = JSON.parse(r.body) as unknown[]
    assert.ok(
      ops.length === 1 || Buffer.byteLength(r.body) <= 3001,
      'only a single operation may exceed the limit',
    )
  }
})
