/**
 * A small SQLite history for the export and import tests (test/cli/export*.test.ts): two
 * instances, five actions with one event each, one failed with a traceback on host-b, writer tags.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { openStores } from '../../src/store/open-store.js'
import { tempDir } from './backup-check.js'
import { TestStore } from './store-ops.js'

/** The instances. */
export const VM1 = '11111111-1111-4111-8111-111111111111'
export const VM2 = '22222222-2222-4222-8222-222222222222'
const PROJECT = 'aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa'
const USER = 'a0000000000040008000000000000001'
/** The failed event's traceback: a line break, quotes and commas. */
export const TRACEBACK = 'Traceback:\n  File "nova/compute.py", line 1, in "reboot", oops'

const at = (minute: number) =>
  `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000000` as Timestamp

/**
 * A store with five actions: four on VM1 (the third failed on host-b), one on VM2; in a new SQLite
 * file, or in the database `db` (a server database's URL) when given. Returns the database setting.
 */
export async function seeded(t: TestContext, db?: string): Promise<string> {
  const file = db ?? join(tempDir(t), 'trail.sqlite')
  const stores = await openStores(file)
  const store = new TestStore(stores.actions)
  for (const [uuid, name] of [
    [VM1, 'vm-1'],
    [VM2, 'vm-2'],
  ] as const)
    await store.putInstance({ uuid, name, projectId: PROJECT, userId: USER, now: at(0) })
  const actions = [
    [VM1, 'create', 1],
    [VM1, 'reboot', 2],
    [VM1, 'resize', 3],
    [VM1, 'stop', 4],
    [VM2, 'create', 5],
  ] as const
  for (const [uuid, action, minute] of actions) {
    const requestId = `req-${String(minute).padStart(36 - 4, '0')}`
    const base = { instanceUuid: uuid, requestId }
    await store.startAction({
      ...base,
      action,
      userId: USER,
      projectId: PROJECT,
      startTime: at(minute),
      createdAt: at(minute),
      writer: 'w:0123456789abcdef',
    })
    const failed = action === 'resize'
    await store.startEvent({
      ...base,
      event: `compute_${action}`,
      host: failed ? 'host-b' : 'host-a',
      startTime: at(minute),
      createdAt: at(minute),
    })
    await store.finishEvent({
      ...base,
      event: `compute_${action}`,
      finishTime: at(minute + 10),
      result: failed ? 'Error' : 'Success',
      traceback: failed ? TRACEBACK : null,
      details: null,
      updatedAt: at(minute + 10),
    })
  }
  await stores.close()
  return file
}

/**
 * The header and record lines of a whole NDJSON export, after checking that its last line is the
 * end line counting exactly those records (an export without it was cut short).
 */
export function exportBody(text: string): unknown[] {
  const lines = ndjsonLines(text)
  const end = lines.pop() as { actiontrail_export_end?: { actions: number } } | undefined
  assert.deepEqual(
    end?.actiontrail_export_end,
    { actions: lines.length - 1 },
    'the export ends with its end line',
  )
  return lines
}

/** The JSON values of NDJSON text's lines. */
export function ndjsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown)
}
