import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createActionService } from './local-service.js'
import { openStore } from './store/open-store.js'

const UUID = '0e4a7b1c-2d3e-4f50-8a61-7b8c9d0e1f23'
const REQUEST = 'req-9f1e2d3c-4b5a-4968-8776-655443322110'

// Review H9, defect 5: the service stores details through the traceback pipeline, not maskSecrets alone.
test('an event finished Error stores details without controls, invisible splits, secrets or home dirs', async (t) => {
  const store = await openStore(':memory:')
  t.after(() => store.close())
  const service = createActionService(store)
  await service.putInstance({ uuid: UUID, name: 'vm', projectId: 'p', userId: 'u' })
  await service.actionStart({
    instanceUuid: UUID,
    action: 'reboot',
    requestId: REQUEST,
    userId: 'u',
    projectId: 'p',
  })
  await service.eventStart({ instanceUuid: UUID, requestId: REQUEST, event: 'e1' })
  await service.eventFinish({
    instanceUuid: UUID,
    requestId: REQUEST,
    event: 'e1',
    result: 'Error',
    details: '\u001b[31mFailed\u001b[0m\u0000\u0007 /home/bob/x.iso pass\u00adword=hunter2',
  })
  const [event] = (await service.getAction(UUID, REQUEST))?.events ?? []
  assert.equal(event?.details, 'Failed x.iso password=***')
})
