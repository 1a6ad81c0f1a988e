/**
 * Every Nova notification sample (test/fixtures/nova-notifications) maps to the documented action
 * and DB event (spec nova-notifications.md §3.2), or is knowingly ignored. Each sample runs alone,
 * on a fresh instance and request, through the real handler on SQLite.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { createActionService } from '../../src/local-service.js'
import { createNotificationHandler } from '../../src/nova/notifications/notification-handler.js'
import { writerTag } from '../../src/security/writer-tag.js'
import { openStore } from '../../src/store/open-store.js'
import { captureLogger } from '../helpers/log-capture.js'
import { loadSample, novaBody, sampleNames } from '../helpers/nova-samples.js'

/**
 * sample → [action, event (null: the action alone), event result], or the kind of a non-write, or
 * `fault`: a failure kept for its request and host, which records no action of its own (its
 * effect on events: compute-exception.contract.test.ts).
 */
const EXPECTED: Record<string, [string, string | null, string | null] | 'ignored' | 'fault'> = {
  'compute-exception.json': 'fault',
  'compute_task-build_instances-error.json': [
    'create',
    'conductor_schedule_and_build_instances',
    'Error',
  ],
  'compute_task-migrate_server-error.json': ['resize', 'conductor_migrate_server', 'Error'],
  'compute_task-rebuild_server-error.json': ['rebuild', 'rebuild_server', 'Error'],
  'instance-update.json': 'ignored',
  'instance-evacuate.json': ['evacuate', null, null],
  'instance-rebuild_scheduled.json': ['rebuild', null, null],
  'instance-lock.json': ['lock', null, null],
  'instance-lock-with-reason.json': ['lock', null, null],
  'instance-unlock.json': ['unlock', null, null],
  'instance-snapshot-start.json': ['createImage', 'compute_snapshot_instance', null],
  'instance-snapshot-end.json': ['createImage', 'compute_snapshot_instance', 'Success'],
  'instance-live_migration_post-start.json': ['live-migration', null, null],
  'instance-live_migration_post-end.json': ['live-migration', null, null],
  'instance-live_migration_rollback-start.json': ['live-migration', null, null],
  'instance-live_migration_rollback-end.json': ['live-migration', null, null],
  'instance-resize-error.json': ['resize', 'compute_prep_resize', 'Error'],
  // The sample's new flavor differs from the old one: a resize, not a migration.
  'instance-resize_prep-start.json': ['resize', 'compute_prep_resize', null],
  'instance-resize_prep-end.json': ['resize', 'compute_prep_resize', 'Success'],
}

/** The families (instance.<family>.<phase>) not listed above: [action, event]. */
const FAMILIES: Record<string, [string, string]> = {
  create: ['create', 'compute__do_build_and_run_instance'],
  delete: ['delete', 'compute_terminate_instance'],
  soft_delete: ['delete', 'compute_soft_delete_instance'],
  shutdown: ['delete', 'compute_terminate_instance'],
  restore: ['restore', 'compute_restore_instance'],
  power_off: ['stop', 'compute_stop_instance'],
  power_on: ['start', 'compute_start_instance'],
  power_on_share: ['start', 'compute_start_instance'],
  reboot: ['reboot', 'compute_reboot_instance'],
  trigger_crash_dump: ['trigger_crash_dump', 'compute_trigger_crash_dump'],
  pause: ['pause', 'compute_pause_instance'],
  unpause: ['unpause', 'compute_unpause_instance'],
  suspend: ['suspend', 'compute_suspend_instance'],
  resume: ['resume', 'compute_resume_instance'],
  rescue: ['rescue', 'compute_rescue_instance'],
  unrescue: ['unrescue', 'compute_unrescue_instance'],
  shelve: ['shelve', 'compute_shelve_instance'],
  shelve_offload: ['shelveOffload', 'compute_shelve_offload_instance'],
  unshelve: ['unshelve', 'compute_unshelve_instance'],
  rebuild: ['rebuild', 'compute_rebuild_instance'],
  resize: ['resize', 'compute_resize_instance'],
  resize_finish: ['resize', 'compute_finish_resize'],
  resize_confirm: ['confirmResize', 'compute_confirm_resize'],
  resize_revert: ['revertResize', 'compute_finish_revert_resize'],
  live_migration_pre: ['live-migration', 'compute_pre_live_migration'],
  live_migration_post_dest: ['live-migration', 'compute_post_live_migration_at_destination'],
  live_migration_rollback_dest: [
    'live-migration',
    'compute_rollback_live_migration_at_destination',
  ],
  live_migration_abort: ['live_migration_cancel', 'compute_live_migration_abort'],
  live_migration_force_complete: [
    'live_migration_force_complete',
    'compute_live_migration_force_complete',
  ],
  interface_attach: ['attach_interface', 'compute_attach_interface'],
  interface_detach: ['detach_interface', 'compute_detach_interface'],
  volume_attach: ['attach_volume', 'compute_attach_volume'],
  volume_detach: ['detach_volume', 'compute_detach_volume'],
  volume_swap: ['swap_volume', 'compute_swap_volume'],
  share_attach: ['attach_share', 'compute_allow_share'],
  share_detach: ['detach_share', 'compute_deny_share'],
}

function expectedOf(name: string): [string, string | null, string | null] | 'ignored' | 'fault' {
  const listed = EXPECTED[name]
  if (listed) return listed
  const m = /^instance-(\w+?)-(start|end|error)(?:_compute_down|_not_scheduled)?\.json$/.exec(name)
  assert.ok(m, `no expectation for ${name}`)
  const family = FAMILIES[m[1] as string]
  assert.ok(family, `no family for ${name}`)
  const result = m[2] === 'start' ? null : m[2] === 'end' ? 'Success' : 'Error'
  return [family[0], family[1], result]
}

test('every Nova sample maps to its documented action and event', async (t) => {
  const store = await openStore('sqlite::memory:')
  t.after(() => store.close())
  const service = createActionService(store)
  const key = await service.writerTagKey()
  assert.ok(key)
  const tag = writerTag(key, 'nova-notifications')
  const log = captureLogger()
  const handler = createNotificationHandler({ service, log: log.logger })
  const names = sampleNames()
  assert.equal(names.length, 103)
  let mapped = 0
  for (const name of names) {
    const uuid = randomUUID()
    const requestId = `req-${randomUUID()}`
    const sample = loadSample(name)
    const isTask = name.startsWith('compute_task')
    const body = novaBody(sample, {
      context: { request_id: requestId, user_id: 'u1', project_id: 'p1' },
      data: isTask ? { instance_uuid: uuid } : { uuid, request_id: requestId },
    })
    const result = await handler.handle(body)
    const expected = expectedOf(name)
    if (expected === 'ignored') {
      assert.equal(result.kind, 'ignored', name)
      continue
    }
    if (expected === 'fault') {
      assert.deepEqual(result, { kind: 'applied', writes: 1 }, name)
      assert.equal(await service.getAction(uuid, requestId), undefined, name)
      continue
    }
    assert.equal(result.kind, 'applied', `${name}: ${JSON.stringify(result)}`)
    const shown = await service.getAction(uuid, requestId)
    assert.ok(shown, name)
    assert.equal(shown.action.action, expected[0], name)
    // The follower's records carry the writer tag of `nova-notifications` (src/nova/nova-writers.ts).
    assert.equal(shown.action.writtenBy, tag, name)
    if (expected[1] === null) assert.equal(shown.events.length, 0, name)
    else {
      assert.equal(shown.events.length, 1, name)
      const [event] = shown.events
      assert.equal(event?.event, expected[1], name)
      assert.equal(event?.result, expected[2], name)
      assert.equal(event?.writtenBy, tag, name)
    }
    mapped++
  }
  assert.equal(mapped, 101)
})
