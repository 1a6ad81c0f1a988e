/**
 * Names across the three Nova sources (src/nova/recorded-name.ts): every name the follower maps a
 * Nova sample to is one a recorded name knows about, and a recorded name merged with any name the
 * follower writes ends on the same name in either order (the store's rule: a merge renames only
 * when the existing name is in its `replaces`).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { notificationWrites } from '../../src/nova/notifications/notification-writes.js'
import { parseEnvelope } from '../../src/nova/notifications/envelope.js'
import {
  COMPUTE_TASK_FAILURES,
  INSTANCE_FAMILIES,
  replacesOf,
} from '../../src/nova/notifications/event-map.js'
import { DERIVED_NAMES, recordedReplaces, requestName } from '../../src/nova/recorded-name.js'
import { loadSample, novaBody, sampleNames } from '../helpers/nova-samples.js'

interface Named {
  action: string
  replaces: readonly string[]
}

/** The store's ActionMerge naming rule. */
const merge = (existing: string, next: Named) =>
  next.replaces.includes(existing) ? next.action : existing

test('every action name the samples map to is a name the follower is known to write', () => {
  let names = 0
  for (const name of sampleNames()) {
    const uuid = randomUUID()
    const requestId = `req-${randomUUID()}`
    const parsed = parseEnvelope(
      novaBody(loadSample(name), {
        context: { request_id: requestId, user_id: 'u1', project_id: 'p1' },
        data: name.startsWith('compute_task')
          ? { instance_uuid: uuid }
          : { uuid, request_id: requestId },
      }),
    )
    assert.ok(parsed.ok, name)
    const writes = notificationWrites(parsed.message, undefined)
    if (writes.kind !== 'writes') continue
    for (const op of writes.ops)
      if (op.op === 'action_merge') {
        assert.ok(DERIVED_NAMES.has(op.input.action), `${name}: ${op.input.action}`)
        names++
      }
  }
  assert.ok(names > 90)
})

test('a recorded name and a follower name end on one name in either order', () => {
  const rules = [...Object.values(INSTANCE_FAMILIES), ...Object.values(COMPUTE_TASK_FAILURES)]
  const followerNames: Named[] = [
    ...rules.map((r) => ({ action: r.action, replaces: replacesOf(r) })),
    { action: 'migrate', replaces: ['resize'] },
    { action: 'createBackup', replaces: [] },
  ]
  // Nova's names, including some no notification reports.
  const recorded = [...DERIVED_NAMES, 'changePassword', 'resetState', 'extend_volume']
  for (const name of recorded) {
    const nova: Named = { action: name, replaces: recordedReplaces(name) }
    for (const f of followerNames)
      assert.equal(merge(f.action, nova), merge(nova.action, f), `${f.action} and ${name}`)
  }
  // Nova's name beats a guess; a follower name that corrects Nova's wins.
  assert.equal(
    merge('resize', { action: 'migrate', replaces: recordedReplaces('migrate') }),
    'migrate',
  )
  assert.equal(
    merge('delete', { action: 'confirmResize', replaces: recordedReplaces('confirmResize') }),
    'delete',
  )
})

test("spec §3.3 rule 7: the newest of a request's actions names it", () => {
  const kept = requestName(['confirmResize', 'delete'])
  assert.equal(kept.action, 'delete')
  assert.ok(kept.replaces.includes('confirmResize'))
  assert.equal(merge('confirmResize', kept), 'delete')
  assert.equal(
    merge('delete', { action: 'confirmResize', replaces: recordedReplaces('confirmResize') }),
    'delete',
  )
})
