import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { ActionWriter } from '../domain/action-writer.js'
import { PublicError } from '../domain/details.js'
import { AppError, isAppError } from '../domain/errors.js'
import { createActionService } from '../local-service.js'
import { openStore } from '../store/open-store.js'
import { ActionRecorder } from './action-recorder.js'

const UUID = '0e4a7b1c-2d3e-4f50-8a61-7b8c9d0e1f23'
const UUID2 = '1f5b8c2d-3e4f-4061-9b72-8c9d0e1f2a34'
const ctx = {
  requestId: 'req-9f1e2d3c-4b5a-4968-8776-655443322110',
  userId: 'user-1',
  projectId: 'proj-1',
}

async function setup(t: TestContext) {
  const store = await openStore(':memory:')
  t.after(() => store.close())
  const service = createActionService(store)
  await service.putInstance({ uuid: UUID, name: 'vm', projectId: 'proj-1', userId: 'user-1' })
  await service.putInstance({ uuid: UUID2, name: 'vm2', projectId: 'proj-1', userId: 'user-1' })
  const recorder = new ActionRecorder({ writer: service, host: 'compute-7' })
  const events = async (uuid = UUID) => (await service.getAction(uuid, ctx.requestId))?.events ?? []
  return { service, recorder, events }
}

class DiskFull extends Error {}

test('withInstanceEvent records Success around a resolved function and returns its value', async (t) => {
  const { recorder, events, service } = await setup(t)
  await recorder.actionStart(ctx, UUID, 'reboot')
  const value = await recorder.withInstanceEvent(
    ctx,
    UUID,
    'compute_reboot_instance',
    async () => 42,
  )
  assert.equal(value, 42)
  const [ev] = await events()
  assert.equal(ev?.event, 'compute_reboot_instance')
  assert.equal(ev?.result, 'Success')
  assert.equal(ev?.host, 'compute-7')
  assert.equal(ev?.traceback, null)
  assert.equal((await service.getAction(UUID, ctx.requestId))?.action.message, null)
})

test(
  'on a throw the event is finished Error with class-name details and sanitized frames, then ' +
    're-thrown',
  async (t) => {
    const { recorder, events, service } = await setup(t)
    await recorder.actionStart(ctx, UUID, 'resize')
    const err = new DiskFull('disk full at postgres://admin:hunter2@db/prod for user alice')
    await assert.rejects(
      recorder.withInstanceEvent(ctx, UUID, 'compute_resize_instance', () => {
        throw err
      }),
      (e) => e === err,
    )
    const [ev] = await events()
    assert.equal(ev?.result, 'Error')
    // Not a PublicError: only the class name is public.
    assert.equal(ev?.details, 'DiskFull')
    assert.ok(ev?.traceback && ev.traceback.includes('action-recorder.test.ts'))
    assert.ok(!ev.traceback.includes('hunter2'))
    assert.ok(!ev.traceback.includes('disk full'), 'the message line is not part of the traceback')
    assert.ok(!ev.traceback.includes(process.cwd()), 'absolute paths are made relative')
    assert.equal((await service.getAction(UUID, ctx.requestId))?.action.message, 'Error')
  },
)

test('a PublicError contributes its message, cut to 255 UTF-8 bytes on a character boundary', async (t) => {
  const { recorder, events } = await setup(t)
  await recorder.actionStart(ctx, UUID, 'resize')
  const message = `No valid host: ${'é'.repeat(200)}`
  await assert.rejects(
    recorder.withInstanceEvent(ctx, UUID, 'compute_prep_resize', async () => {
      throw new PublicError(message)
    }),
  )
  const [ev] = await events()
  assert.ok(Buffer.byteLength(ev?.details ?? '', 'utf8') <= 255)
  assert.ok(message.startsWith(ev?.details ?? 'x'))
  assert.ok(!(ev?.details ?? '').includes('\ufffd'))
})

test('the event is started before the function runs; a missing action stops it from running', async (t) => {
  const { recorder } = await setup(t)
  let ran = false
  await assert.rejects(
    recorder.withInstanceEvent(ctx, UUID, 'compute_stop_instance', () => {
      ran = true
    }),
    (e) => isAppError(e, 'action_not_found'),
  )
  assert.equal(ran, false)
})

test('several instances each get the event', async (t) => {
  const { recorder, events } = await setup(t)
  await recorder.actionStart(ctx, UUID, 'stop')
  await recorder.actionStart(ctx, UUID2, 'stop')
  await recorder.withInstanceEvent(
    ctx,
    [UUID, UUID2],
    'compute_stop_instance',
    async () => undefined,
  )
  assert.equal((await events(UUID))[0]?.result, 'Success')
  assert.equal((await events(UUID2))[0]?.result, 'Success')
})

test('gracefulExit swallows a vanished action at finish, and with it the function error', async (t) => {
  const { recorder } = await setup(t)
  // A writer whose finish reports the action gone, like Nova when a cross-cell revert moved it.
  const writer = {
    ...recorderWriter(recorder),
    eventStart: () => Promise.resolve(),
    eventFinish: () => Promise.reject(new AppError('action_not_found', 'gone')),
  }
  const graceful = new ActionRecorder({ writer })
  const result = await graceful.withInstanceEvent(
    ctx,
    UUID,
    'conductor_revert_snapshot_based_resize',
    () => {
      throw new Error('x')
    },
    { gracefulExit: true },
  )
  assert.equal(result, undefined)
  await assert.rejects(
    graceful.withInstanceEvent(ctx, UUID, 'e', async () => 1),
    (e) => isAppError(e, 'action_not_found'),
  )
  // event_not_found is never swallowed.
  const strict = new ActionRecorder({
    writer: { ...writer, eventFinish: () => Promise.reject(new AppError('event_not_found', 'no')) },
  })
  await assert.rejects(
    strict.withInstanceEvent(ctx, UUID, 'e', async () => 1, { gracefulExit: true }),
    (e) => isAppError(e, 'event_not_found'),
  )
})

test(
  'actionStart uses the context; actionFinish sets finish_time; eventFinishWithFailure takes ' +
    'a string',
  async (t) => {
    const { recorder, events, service } = await setup(t)
    const stored = async () => (await service.getAction(UUID, ctx.requestId))?.action
    await recorder.actionStart(
      { ...ctx, timestamp: '2026-03-01T10:00:00.123456Z' },
      UUID,
      'resetState',
    )
    const started = await stored()
    assert.equal(started?.startTime, '2026-03-01T10:00:00.123456')
    assert.equal(started?.userId, 'user-1')
    assert.equal(started?.projectId, 'proj-1')
    await recorder.eventStart(ctx, UUID, 'compute_x')
    await recorder.eventFinishWithFailure(
      ctx,
      UUID,
      'compute_x',
      'Quota exceeded for cores',
      '  File "/opt/app/x.py", line 1, in f\n    token=abc123',
    )
    const [ev] = await events()
    assert.equal(ev?.details, 'Quota exceeded for cores')
    assert.ok(ev?.traceback?.includes('token=***'))
    await recorder.actionFinish(ctx, UUID)
    assert.notEqual((await stored())?.finishTime, null)
  },
)

test('the recorder calls resolve with nothing: a writer need not know the stored record', async (t) => {
  const { recorder } = await setup(t)
  assert.equal(await recorder.actionStart(ctx, UUID, 'reboot'), undefined)
  assert.equal(await recorder.eventStart(ctx, UUID, 'compute_reboot_instance'), undefined)
  assert.equal(await recorder.eventFinish(ctx, UUID, 'compute_reboot_instance'), undefined)
  assert.equal(await recorder.actionFinish(ctx, UUID), undefined)
  // A writer that acknowledges without any record (as the buffered writer does) is enough.
  const acknowledging = { ...recorderWriter(recorder), actionStart: () => Promise.resolve() }
  assert.equal(
    await new ActionRecorder({ writer: acknowledging }).actionStart(ctx, UUID, 'stop'),
    undefined,
  )
})

test('ActionService.close() leaves the store to its owner: the service and the store stay usable', async (t) => {
  const { recorder, service, events } = await setup(t)
  await service.close()
  await service.close()
  await recorder.actionStart(ctx, UUID, 'reboot')
  await recorder.withInstanceEvent(ctx, UUID, 'compute_reboot_instance', async () => undefined)
  assert.equal((await events())[0]?.result, 'Success')
})

function recorderWriter(_r: ActionRecorder): ActionWriter {
  const fail = () => Promise.reject(new Error('unused'))
  return {
    putInstance: fail,
    deleteInstance: fail,
    actionStart: fail,
    actionFinish: fail,
    eventStart: fail,
    eventFinish: fail,
    close: () => Promise.resolve(),
  }
}
