/**
 * SQLite failures of the database itself (busy, I/O, a damaged file, …) are `store_unavailable`
 * (HTTP 503) for reads as for writes, whichever store meets them.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isAppError } from '../../src/domain/errors.js'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { openStores } from '../../src/store/open-store.js'
import { TestStore } from '../helpers/store-ops.js'
import { damageSqliteFile } from '../helpers/sqlite-damage.js'

const UUID = '11111111-2222-4333-8444-555555555555'
const at = '2026-01-01T00:00:00.000000' as Timestamp

const unavailable = (e: unknown) =>
  isAppError(e, 'store_unavailable') && /SQLITE_CORRUPT/.test(e.message)

test('reads and writes on a database damaged under the store fail with store_unavailable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-damaged-'))
  const file = join(dir, 'db.sqlite')
  const stores = await openStores(file)
  t.after(async () => {
    await stores.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const store = new TestStore(stores.actions)
  await store.putInstance({ uuid: UUID, name: 'vm', projectId: 'p', userId: 'u', now: at })
  await store.startAction({
    instanceUuid: UUID,
    action: 'reboot',
    requestId: 'req-1',
    userId: 'u',
    projectId: 'p',
    startTime: at,
    createdAt: at,
  })
  await stores.idempotency.put(
    { keyHash: 'k', requestHash: 'r', status: 201, body: '{}', createdAt: at, callerHash: 'c' },
    { maxStoredBytes: 1024, recordOverheadBytes: 0 },
  )
  assert.equal((await store.getInstance(UUID))?.uuid, UUID)

  // Another process damages the file (every page but the first).
  damageSqliteFile(file)

  await assert.rejects(store.getInstance(UUID), unavailable)
  await assert.rejects(store.listInstances({ includeDeleted: true, limit: 10 }), unavailable)
  await assert.rejects(store.getAction(UUID, 'req-1'), unavailable)
  await assert.rejects(store.listActions(UUID, {}), unavailable)
  await assert.rejects(store.listEvents(1), unavailable)
  await assert.rejects(stores.idempotency.get('k'), unavailable)
  await assert.rejects(
    store.startAction({
      instanceUuid: UUID,
      action: 'reboot',
      requestId: 'req-2',
      userId: 'u',
      projectId: 'p',
      startTime: at,
      createdAt: at,
    }),
    unavailable,
  )
})
