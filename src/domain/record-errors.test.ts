import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from './errors.js'
import {
  actionNotFound,
  eventNotFound,
  instanceNotFound,
  markerNotFound,
  requestIdConflict,
} from './record-errors.js'

const UUID = '11111111-2222-4333-8444-555555555555'

test("not-found errors carry Nova's exact texts and their codes", () => {
  const cases = [
    [instanceNotFound(UUID), 'instance_not_found', `Instance ${UUID} could not be found.`],
    [
      actionNotFound('req-1', UUID),
      'action_not_found',
      `Action for request_id req-1 on instance ${UUID} not found`,
    ],
    [
      eventNotFound('compute_x', 42),
      'event_not_found',
      'Event compute_x not found for action id 42',
    ],
    [markerNotFound(), 'marker_not_found', 'Marker None could not be found.'],
    [
      requestIdConflict('req-1', 'reboot', UUID),
      'conflict',
      `Request req-1 already started action 'reboot' on instance ${UUID}`,
    ],
  ] as const
  for (const [error, code, message] of cases) {
    assert.ok(isAppError(error, code), code)
    assert.equal(error.message, message)
  }
})
