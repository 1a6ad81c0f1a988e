/**
 * A request id or event name of `.` or `..` is refused: HTTP clients resolve such a URL path
 * segment before sending (WHATWG URL parsing, `%2E%2E` included), so the action could never be
 * shown (`GET …/os-instance-actions/..`) nor finished through its URL. Found by the write fuzz
 * suite (test/api/fuzz-write.test.ts), whose acknowledged action could not be read back.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildHarness } from '../helpers/build-app.js'
import { assertV1Error, putVm, startAction, v1, VM } from './v1-helpers.js'

describe('dot-segment names', () => {
  for (const name of ['.', '..']) {
    test(`request_id ${JSON.stringify(name)} is 400, in a single write and in a batch`, async (t) => {
      const h = await buildHarness(t)
      await putVm(h)
      const body = { action: 'reboot', request_id: name, user_id: 'u', project_id: 'p' }
      assertV1Error(
        await v1(h, 'POST', `/v1/instances/${VM}/actions`, body),
        400,
        'invalid_input',
        /request_id/,
      )
      const batch = await v1(h, 'POST', '/v1/batch', [
        { op: 'action_start', instance_uuid: VM, ...body },
      ])
      assert.equal(batch.statusCode, 200, batch.body)
      const result = batch.json<{ results: { status: number }[] }>().results[0]
      assert.equal(result?.status, 400, batch.body)
    })

    test(`event ${JSON.stringify(name)} is 400`, async (t) => {
      const h = await buildHarness(t)
      await putVm(h)
      await startAction(h, 'req-1')
      assertV1Error(
        await v1(h, 'POST', `/v1/instances/${VM}/actions/req-1/events`, { event: name }),
        400,
        'invalid_input',
        /event/,
      )
    })
  }

  test('names that merely contain dots are fine', async (t) => {
    const h = await buildHarness(t)
    await putVm(h)
    await startAction(h, '...')
    await startAction(h, 'req-1..2')
    const res = await v1(h, 'POST', `/v1/instances/${VM}/actions/req-1..2/events`, { event: '.x' })
    assert.equal(res.statusCode, 201, res.body)
  })
})
