/**
 * `compute.exception` on every backend (spec nova-notifications.md §2.5, §4.2 "result", §5.4): no
 * instance uuid and no method name, correlated by its request id and publisher host. It fails the
 * `compute_*` events of that request on that host (every instance of a multi-instance boot), with
 * sanitized texts, and marks their actions "Error"; the outcome does not depend on whether it
 * arrives before or after the events, and a redelivery changes nothing.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import type { ActionService } from '../../src/domain/action-service.js'
import { BACKEND_NAMES, backendProblem, REQUIRE_BACKENDS } from '../helpers/backends.js'
import { novaHandlerHarness } from '../helpers/nova-handler.js'
import { loadSample, novaBody, type Envelope } from '../helpers/nova-samples.js'

const SECRET = 'password=hunter2 at /home/nova/venv/lib/python3/site-packages/nova/virt/driver.py'
const FAILED_AT = '2026-03-01 10:00:05.25'

/** A compute.exception of `requestId` (none: no request context) from `host`. */
function exceptionBody(requestId: string | null, host: string | null, e: Envelope = {}): Buffer {
  return novaBody(loadSample('compute-exception.json'), {
    timestamp: FAILED_AT,
    publisherId: host === null ? 'compute.cmp' : `nova-compute:${host}`,
    context: requestId === null ? {} : { request_id: requestId },
    data: {
      exception: 'InstanceFaultRollback',
      exception_message: `${'é'.repeat(300)} ${SECRET}`,
      traceback:
        'Traceback (most recent call last):\n' +
        '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 1\n' +
        `InstanceFaultRollback: ${SECRET}`,
    },
    ...e,
  })
}

/** An instance notification of (uuid, request) from `host` at `timestamp`. */
function instanceBody(sample: string, uuid: string, requestId: string, host: string, at: string) {
  return novaBody(loadSample(sample), {
    data: { uuid, request_id: requestId },
    publisherId: `nova-compute:${host}`,
    timestamp: at,
  })
}

/** What a user sees of an action: its name, message and times, and its events' fields. */
async function seen(service: ActionService, uuid: string, requestId: string) {
  const shown = await service.getAction(uuid, requestId)
  assert.ok(shown, 'the action exists')
  const { action, message, startTime, finishTime } = shown.action
  return {
    action: { action, message, startTime, finishTime },
    events: shown.events
      .map((e) => ({
        event: e.event,
        host: e.host,
        startTime: e.startTime,
        finishTime: e.finishTime,
        result: e.result,
        details: e.details,
        traceback: e.traceback,
      }))
      .sort((a, b) => String(a.host).localeCompare(String(b.host))),
  }
}

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`compute.exception: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  describe(`compute.exception: ${name}`, { skip: problem ?? false }, () => {
    test('fails the open event of its request on its host, whether it comes first or last', async (t) => {
      const h = await novaHandlerHarness(t, name)
      type Piece = (uuid: string, requestId: string) => Buffer
      const start: Piece = (u, r) =>
        instanceBody('instance-power_off-start.json', u, r, 'compute', '2026-03-01 10:00:01')
      const otherHost: Piece = (u, r) =>
        instanceBody('instance-power_off-start.json', u, r, 'other', '2026-03-01 10:00:02')
      const exception: Piece = (_u, r) => exceptionBody(r, 'compute')
      const orders = [
        [start, otherHost, exception],
        [exception, start, otherHost],
        [otherHost, exception, start],
      ]
      const states = []
      for (const order of orders) {
        const uuid = randomUUID()
        const requestId = `req-${randomUUID()}`
        for (const piece of order)
          assert.equal((await h.handler.handle(piece(uuid, requestId))).kind, 'applied')
        states.push(await seen(h.service, uuid, requestId))
      }
      for (const state of states.slice(1)) assert.deepEqual(state, states[0])
      const { action, events } = states[0] as Awaited<ReturnType<typeof seen>>
      assert.equal(action.action, 'stop')
      assert.equal(action.message, 'Error')
      assert.equal(action.finishTime, null, 'a failure may be retried: the action stays open')
      const [failed, other] = events
      assert.equal(failed?.host, 'compute')
      assert.equal(failed?.event, 'compute_stop_instance')
      assert.equal(failed?.result, 'Error')
      assert.equal(failed?.startTime, '2026-03-01T10:00:01.000000')
      assert.equal(failed?.finishTime, '2026-03-01T10:00:05.250000')
      const details = failed?.details ?? ''
      const traceback = failed?.traceback ?? ''
      assert.ok(details.startsWith('éé'), 'details: the exception message')
      assert.ok(Buffer.byteLength(details) <= 255, 'details: at most 255 bytes')
      assert.ok(traceback.includes('InstanceFaultRollback'), 'the traceback is kept')
      for (const text of [details, traceback]) {
        assert.ok(!text.includes('hunter2'), 'sanitized: no secret')
        assert.ok(!text.includes('/usr/lib/python3'), 'sanitized: no absolute path')
      }
      assert.equal(other?.host, 'other')
      assert.equal(other?.result, null, "another host's event stays open")
      assert.equal(other?.finishTime, null)
    })

    test('a step that ended before the exception keeps its success, in every arrival order', async (t) => {
      const h = await novaHandlerHarness(t, name)
      type Piece = (uuid: string, requestId: string) => Buffer
      // A resize's destination: prep_resize ended at :03, finish_resize started at :04 and failed
      // at FAILED_AT (:05.25) with no .end of its own.
      const pieces: Piece[] = [
        (u, r) =>
          instanceBody('instance-reboot-start.json', u, r, 'compute', '2026-03-01 10:00:01'),
        (u, r) => instanceBody('instance-reboot-end.json', u, r, 'compute', '2026-03-01 10:00:03'),
        (u, r) =>
          instanceBody('instance-power_off-start.json', u, r, 'compute', '2026-03-01 10:00:04'),
        (_u, r) => exceptionBody(r, 'compute'),
      ]
      const [rebootStart, rebootEnd, powerOff, exception] = pieces as [Piece, Piece, Piece, Piece]
      const orders = [
        [rebootStart, rebootEnd, powerOff, exception],
        [exception, rebootStart, rebootEnd, powerOff],
        [rebootStart, exception, powerOff, rebootEnd],
        [powerOff, exception, rebootEnd, rebootStart],
      ]
      const states = []
      for (const order of orders) {
        const uuid = randomUUID()
        const requestId = `req-${randomUUID()}`
        for (const piece of order) await h.handler.handle(piece(uuid, requestId))
        // Two families in one request stand in for a resize's steps: the action's name is not
        // what this test is about, and events on one host are compared by name.
        const { action, events } = await seen(h.service, uuid, requestId)
        events.sort((a, b) => a.event.localeCompare(b.event))
        states.push({ message: action.message, events })
      }
      for (const state of states.slice(1)) assert.deepEqual(state, states[0])
      const { message, events } = states[0] as NonNullable<(typeof states)[0]>
      assert.equal(message, 'Error')
      const byName = new Map(events.map((e) => [e.event, e]))
      const ended = byName.get('compute_reboot_instance')
      assert.equal(ended?.result, 'Success', 'ended before the exception: not its failure')
      assert.equal(ended?.finishTime, '2026-03-01T10:00:03.000000')
      assert.equal(ended?.details, null)
      assert.equal(byName.get('compute_stop_instance')?.result, 'Error')
    })

    test('an exception whose only step had ended leaves the action without "Error", in either order', async (t) => {
      const h = await novaHandlerHarness(t, name)
      const states = []
      for (const exceptionFirst of [false, true]) {
        const uuid = randomUUID()
        const requestId = `req-${randomUUID()}`
        const start = () =>
          h.handler.handle(
            instanceBody(
              'instance-reboot-start.json',
              uuid,
              requestId,
              'compute',
              '2026-03-01 10:00:01',
            ),
          )
        const end = () =>
          h.handler.handle(
            instanceBody(
              'instance-reboot-end.json',
              uuid,
              requestId,
              'compute',
              '2026-03-01 10:00:03',
            ),
          )
        await start()
        if (exceptionFirst) await h.handler.handle(exceptionBody(requestId, 'compute'))
        await end()
        if (!exceptionFirst) await h.handler.handle(exceptionBody(requestId, 'compute'))
        states.push(await seen(h.service, uuid, requestId))
      }
      assert.deepEqual(states[1], states[0])
      assert.equal(states[0]?.action.message, null)
      assert.equal(states[0]?.events[0]?.result, 'Success')
    })

    test('a multi-instance boot: every instance with an event on that host fails', async (t) => {
      const h = await novaHandlerHarness(t, name)
      const requestId = `req-${randomUUID()}`
      const [a1, a2, b] = [randomUUID(), randomUUID(), randomUUID()]
      const start = (uuid: string, host: string) =>
        h.handler.handle(
          instanceBody('instance-create-start.json', uuid, requestId, host, '2026-03-01 10:00:01'),
        )
      await start(a1, 'a')
      await start(b, 'b')
      assert.deepEqual(await h.handler.handle(exceptionBody(requestId, 'a')), {
        kind: 'applied',
        writes: 1,
      })
      // The exception does not name the instance: one of the boot's arriving later fails as well.
      await start(a2, 'a')
      for (const uuid of [a1, a2]) {
        const state = await seen(h.service, uuid, requestId)
        assert.equal(state.action.message, 'Error', uuid)
        assert.equal(state.events[0]?.result, 'Error', uuid)
      }
      const other = await seen(h.service, b, requestId)
      assert.equal(other.action.message, null, 'the instance built on another host')
      assert.equal(other.events[0]?.result, null)
    })

    test('a redelivery is a duplicate; a step started after the exception is not failed', async (t) => {
      const h = await novaHandlerHarness(t, name)
      const messageId = randomUUID()
      await h.send('instance-reboot-start.json', { timestamp: '2026-03-01 10:00:01' })
      assert.equal(
        (await h.handler.handle(exceptionBody(h.requestId, 'compute', { messageId }))).kind,
        'applied',
      )
      const before = await h.service.getAction(h.uuid, h.requestId)
      assert.equal(before?.events[0]?.result, 'Error')
      assert.deepEqual(
        await h.handler.handle(exceptionBody(h.requestId, 'compute', { messageId })),
        { kind: 'duplicate' },
      )
      // The same failure under another message id (a publisher retry) changes nothing either.
      await h.handler.handle(exceptionBody(h.requestId, 'compute'))
      assert.deepEqual(await h.service.getAction(h.uuid, h.requestId), before)
      // Started after the failure on that host's clock: a later step, which the exception predates.
      await h.send('instance-power_on-start.json', { timestamp: '2026-03-01 10:00:09' })
      const later = (await h.service.getAction(h.uuid, h.requestId))?.events.find(
        (e) => e.event === 'compute_start_instance',
      )
      assert.equal(later?.result, null)
    })

    test('no request id or no publisher host: ignored; an unknown major version: poison', async (t) => {
      const h = await novaHandlerHarness(t, name)
      assert.deepEqual(await h.handler.handle(exceptionBody(null, 'compute')), {
        kind: 'ignored',
        reason: 'compute.exception: no request id to correlate it with',
      })
      assert.deepEqual(await h.handler.handle(exceptionBody(h.requestId, null)), {
        kind: 'ignored',
        reason: 'compute.exception: no publisher host',
      })
      const sample = loadSample('compute-exception.json')
      const payload = sample.payload as Record<string, unknown>
      const major = novaBody(
        { ...sample, payload: { ...payload, 'nova_object.version': '2.0' } },
        { context: { request_id: h.requestId }, publisherId: 'nova-compute:compute' },
      )
      assert.equal((await h.handler.handle(major)).kind, 'poison')
    })
  })
}
