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

test('every action and event is a merge; failure texts only with a failure', () => {
  const ops = historyOperations(server, false, [
    action({
      events: [
        // newest start last in the list is not assumed: they are ordered by start time
        {
          event: 'compute_x',
          start_time: '2025-01-01T00:00:02.000000',
          finish_time: '2025-01-01T00:00:04.000000',
          result: 'Success',
          traceback: null,
          details: null,
          host: 'h2',
        },
        {
          event: 'compute_x',
          start_time: '2025-01-01T00:00:01.000000',
          finish_time: '2025-01-01T00:00:03.000000',
          result: 'Error',
          traceback: 'tb',
          details: 'boom',
          host: 'h1',
        },
      ],
    }),
  ])
  assert.deepEqual(
    ops.map((o) => o.op),
    ['instance_put', 'action_merge', 'event_merge', 'event_merge'],
  )
  assert.deepEqual(
    ops.map(
      (o) =>
        o.op === 'event_merge' && [
          o.input.host,
          o.input.result,
          o.input.traceback,
          o.input.details,
        ],
    ),
    [false, false, ['h1', 'Error', 'tb', 'boom'], ['h2', 'Success', undefined, undefined]],
  )
})

test('spec §3.3 rule 7: confirmResize then delete under one request are one action, delete', () => {
  const confirm = action({
    action: 'confirmResize',
    start_time: '2025-01-01T00:00:00.000000',
    updated_at: '2025-01-01T00:00:00.000000',
  })
  const del = action({
    action: 'delete',
    start_time: '2025-01-01T00:00:01.000000',
    events: [
      {
        event: 'compute_terminate_instance',
        start_time: '2025-01-01T00:00:02.000000',
        finish_time: '2025-01-01T00:00:03.000000',
        result: 'Success',
        host: 'h1',
      },
    ],
  })
  const merges = historyOperations(server, true, [confirm, del]).filter(
    (o) => o.op === 'action_merge',
  )
  assert.equal(merges.length, 1)
  const [merge] = merges
  assert.ok(merge?.op === 'action_merge')
  assert.equal(merge.input.action, 'delete')
  assert.equal(merge.input.startTime, '2025-01-01T00:00:00.000000', 'the earliest start')
  assert.ok(merge.input.replaces?.includes('confirmResize'))
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
  const finishOf = (a: NovaActionWithEvents) => {
    const merge = historyOperations(server, false, [a]).find((o) => o.op === 'action_merge')
    return merge?.op === 'action_merge' ? merge.input.finishTime : undefined
  }
  assert.equal(finishOf(running), null)
  assert.equal(
    finishOf(action({ updated_at: '2025-01-01T00:00:06.000000' })),
    '2025-01-01T00:00:06.000000',
  )
  // Before 2.58 there is no updated_at: nothing tells a finish, the action stays open.
  assert.equal(finishOf(action({ updated_at: undefined })), null)
})

test('a deleted server is registered, then marked deleted after its history', () => {
  const ops = historyOperations(server, true, [action({})])
  assert.equal(ops[0]?.op, 'instance_put')
  assert.equal(ops[ops.length - 1]?.op, 'instance_delete')
})
