import assert from 'node:assert/strict'
import { test } from 'node:test'
import { historyOperations, type NovaActionWithEvents } from './nova-history.js'

const server = { id: 'srv-1', name: 'vm', tenant_id: 'p1', user_id: 'u1' }

function action(over: Partial<NovaActionWithEvents>): NovaActionWithEvents {
  return {
    action: 'resize',
    instance_uuid: 'srv-1',
    request_id: 'req-1',
    user_id: 'u1',
    project_id: 'p1',
    start_time: '2025-01-01T00:00:00.000000',
    message: null,
    updated_at: '2025-01-01T00:00:09.000000',
    events: [],
    ...over,
  }
}

test('events are replayed in time order, a repeated event name finishing the right one', () => {
  const ops = historyOperations(server, false, [
    action({
      events: [
        // oldest first: two runs of the same event, the first one failed
        {
          event: 'compute_x',
          start_time: '2025-01-01T00:00:01.000000',
          finish_time: '2025-01-01T00:00:03.000000',
          result: 'Error',
          traceback: 'tb',
          details: 'boom',
          host: 'h1',
        },
        {
          event: 'compute_x',
          start_time: '2025-01-01T00:00:02.000000',
          finish_time: '2025-01-01T00:00:04.000000',
          result: 'Success',
          traceback: null,
          details: null,
          host: 'h2',
        },
      ],
    }),
  ])
  assert.deepEqual(
    ops.map((o) => o.op),
    [
      'instance_put',
      'action_start',
      'event_start',
      'event_start',
      'event_finish',
      'event_finish',
      'action_finish',
    ],
  )
  const finishes = ops.filter((o) => o.op === 'event_finish')
  assert.deepEqual(
    finishes.map(
      (o) => o.op === 'event_finish' && [o.input.result, o.input.traceback, o.input.details],
    ),
    [
      ['Error', 'tb', 'boom'],
      ['Success', undefined, undefined],
    ],
  )
})

test('an action is finished only when Nova wrote after its last shown time (its finish)', () => {
  const running = action({
    updated_at: '2025-01-01T00:00:05.000000',
    events: [
      {
        event: 'e',
        start_time: '2025-01-01T00:00:05.000000',
        finish_time: null,
        result: null,
        host: null,
      },
    ],
  })
  assert.ok(!historyOperations(server, false, [running]).some((o) => o.op === 'action_finish'))
  const done = historyOperations(server, false, [
    action({ updated_at: '2025-01-01T00:00:06.000000' }),
  ])
  const finish = done.find((o) => o.op === 'action_finish')
  assert.equal(
    finish?.op === 'action_finish' && finish.input.finishTime,
    '2025-01-01T00:00:06.000000',
  )
  // Before 2.58 there is no updated_at: nothing tells a finish, the action stays open.
  assert.ok(
    !historyOperations(server, false, [action({ updated_at: undefined })]).some(
      (o) => o.op === 'action_finish',
    ),
  )
})

test('a deleted server is registered, then marked deleted after its history', () => {
  const ops = historyOperations(server, true, [action({})])
  assert.equal(ops[0]?.op, 'instance_put')
  assert.equal(ops[ops.length - 1]?.op, 'instance_delete')
})
