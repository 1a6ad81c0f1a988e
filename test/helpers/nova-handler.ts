/**
 * The Nova notification handler on a fresh store of one backend, with an instance uuid and a
 * request id of its own, for the handler's contract suites (test/nova/*.contract.test.ts).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import { createActionService } from '../../src/local-service.js'
import { createNotificationHandler } from '../../src/nova/notifications/notification-handler.js'
import { openFreshStores, type BackendName } from './backends.js'
import { captureLogger } from './log-capture.js'
import { loadSample, novaBody, type Envelope } from './nova-samples.js'

/** A handler on a fresh store; `send` fills in the harness's instance and request unless told. */
export async function novaHandlerHarness(t: TestContext, name: BackendName) {
  const [stores] = await openFreshStores(t, name)
  assert.ok(stores)
  const service = createActionService(stores.actions)
  const log = captureLogger('debug')
  const handler = createNotificationHandler({ service, log: log.logger })
  const uuid = randomUUID()
  const requestId = `req-${randomUUID()}`
  const send = (sample: string, e: Envelope = {}) =>
    handler.handle(
      novaBody(loadSample(sample), {
        ...e,
        data: { uuid, request_id: requestId, ...e.data },
      }),
    )
  return { service, log, handler, uuid, requestId, send }
}
