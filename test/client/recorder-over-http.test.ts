/**
 * ActionRecorder over HTTP: withInstanceEvent through ActionTrailClient and through
 * BufferedActionWriter records the same as over the local service, read back through the read
 * API as an admin at 2.84.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { ActionTrailClient, BufferedActionWriter } from '../../src/client/index.js'
import type { ActionWriter } from '../../src/domain/action-writer.js'
import { PublicError } from '../../src/domain/details.js'
import { isAppError } from '../../src/domain/errors.js'
import { ActionRecorder } from '../../src/recorder/action-recorder.js'
import { adminClient, CTX, seedVm, serviceClient, startActionTrail, VM } from './support.js'

class DiskFull extends Error {}

interface Setup {
  recorder: ActionRecorder
  reader: ActionTrailClient
}

const WRITERS: Record<string, (client: ActionTrailClient, t: TestContext) => ActionWriter> = {
  ActionTrailClient: (client) => client,
  BufferedActionWriter: (client, t) => {
    const writer = new BufferedActionWriter(client, { flushIntervalMs: 5 })
    t.after(() => writer.close())
    return writer
  },
}

async function setup(t: TestContext, kind: string): Promise<Setup> {
  const { h, baseUrl } = await startActionTrail(t)
  await seedVm(h)
  const make = WRITERS[kind]
  assert.ok(make)
  const recorder = new ActionRecorder({
    writer: make(serviceClient(baseUrl), t),
    host: 'compute-7',
  })
  return { recorder, reader: adminClient(baseUrl) }
}

async function eventOf(reader: ActionTrailClient) {
  const { instanceAction } = await reader.getAction(VM, CTX.requestId, '2.84')
  return { action: instanceAction, event: instanceAction.events?.[0] }
}

for (const kind of Object.keys(WRITERS)) {
  test(`${kind}: withInstanceEvent records Success around a resolved function`, async (t) => {
    const { recorder, reader } = await setup(t, kind)
    await recorder.actionStart(CTX, VM, 'reboot')
    const value = await recorder.withInstanceEvent(
      CTX,
      VM,
      'compute_reboot_instance',
      async () => 42,
    )
    assert.equal(value, 42)
    await recorder.actionFinish(CTX, VM)
    const { action, event } = await eventOf(reader)
    assert.equal(action.action, 'reboot')
    assert.equal(action.message, null)
    assert.equal(event?.event, 'compute_reboot_instance')
    assert.equal(event?.result, 'Success')
    assert.equal(event?.host, 'compute-7')
    assert.equal(event?.traceback, null)
    assert.equal(event?.details, null)
    assert.ok(event?.finish_time)
  })

  test(`${kind}: on a throw the event is Error with class-name details and a sanitized traceback`, async (t) => {
    const { recorder, reader } = await setup(t, kind)
    await recorder.actionStart(CTX, VM, 'resize')
    const err = new DiskFull('disk full at postgres://admin:hunter2@db/prod for user alice')
    await assert.rejects(
      recorder.withInstanceEvent(CTX, VM, 'compute_resize_instance', () => {
        throw err
      }),
      (e) => e === err,
    )
    const { action, event } = await eventOf(reader)
    assert.equal(action.message, 'Error')
    assert.equal(event?.result, 'Error')
    // Not a PublicError: only the class name is public.
    assert.equal(event?.details, 'DiskFull')
    const traceback = event?.traceback
    assert.ok(traceback && traceback.includes('recorder-over-http.test.ts'), 'the frames are kept')
    assert.ok(!traceback.includes('hunter2'))
    assert.ok(!traceback.includes('disk full'), 'the message line is not part of the traceback')
    assert.ok(!traceback.includes(process.cwd()), 'absolute paths are made relative')
  })

  test(`${kind}: a PublicError's message becomes details; a missing action stops the function`, async (t) => {
    const { recorder, reader } = await setup(t, kind)
    let ran = false
    await assert.rejects(
      recorder.withInstanceEvent(CTX, VM, 'compute_stop_instance', () => {
        ran = true
      }),
      (e) => isAppError(e, 'action_not_found'),
    )
    assert.equal(ran, false)
    await recorder.actionStart(CTX, VM, 'migrate')
    await assert.rejects(
      recorder.withInstanceEvent(CTX, VM, 'compute_prep_resize', async () => {
        throw new PublicError('No valid host was found.')
      }),
      PublicError,
    )
    const { event } = await eventOf(reader)
    assert.equal(event?.details, 'No valid host was found.')
  })
}
