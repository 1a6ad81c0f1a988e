/**
 * A realistic demo history: three projects, several instances, every common Nova action with the
 * event names Nova really records, a few failures with (unsanitized, as a service would send them)
 * tracebacks, and one deleted instance. Ids are fixed so that loading twice adds nothing.
 */
import type { ActionService } from '../domain/action-service.js'
import { fromEpochMicros, toEpochMicros, type Timestamp } from '../domain/timestamp.js'

/** Demo projects (Keystone-style 32-hex ids). */
export const DEMO_PROJECTS = {
  demo: '6f70656e737461636b20342065766572',
  ops: '9d2a6c1e4b7f40c8a3e5d1f2b6c8e0a4',
  research: '3b8e1f7a2c4d4e6f8a0b1c2d3e4f5a6b',
} as const

/** Demo users. */
export const DEMO_USERS = {
  alice: 'a11ce0000000400080000000000a11ce',
  bob: 'b0b00000000040008000000000000b0b',
  admin: 'ad0000000000400080000000000000ad',
  nova: 'c0ffee00000040008000000000c0ffee',
} as const

interface DemoInstance {
  uuid: string
  name: string
  project: keyof typeof DEMO_PROJECTS
  user: keyof typeof DEMO_USERS
  deleted?: boolean
}

/** The demo instances; `old-build` ends deleted. */
export const DEMO_INSTANCES: readonly DemoInstance[] = [
  { uuid: '1f3b5d7e-0a2c-4e6f-8a1b-3c5d7e9f0a21', name: 'web-1', project: 'demo', user: 'alice' },
  { uuid: '2a4c6e80-1b3d-4f5a-9b2c-4d6e8f0a1b32', name: 'web-2', project: 'demo', user: 'alice' },
  {
    uuid: '3b5d7f91-2c4e-4a6b-8c3d-5e7f9a1b2c43',
    name: 'db-primary',
    project: 'demo',
    user: 'bob',
  },
  {
    uuid: '4c6e8a02-3d5f-4b7c-9d4e-6f8a0b2c3d54',
    name: 'old-build',
    project: 'demo',
    user: 'bob',
    deleted: true,
  },
  {
    uuid: '5d7f9b13-4e6a-4c8d-8e5f-7a9b1c3d4e65',
    name: 'monitoring',
    project: 'ops',
    user: 'admin',
  },
  {
    uuid: '6e8a0c24-5f7b-4d9e-9f6a-8b0c2d4e5f76',
    name: 'gpu-trainer',
    project: 'research',
    user: 'bob',
  },
]

/** Events Nova records for each action (docs/nova-behaviour.md §3.2), in order. */
const EVENTS: Readonly<Record<string, readonly string[]>> = {
  create: ['compute__do_build_and_run_instance'],
  delete: ['compute_terminate_instance'],
  stop: ['compute_stop_instance'],
  start: ['compute_start_instance'],
  reboot: ['compute_reboot_instance'],
  rebuild: ['rebuild_server', 'compute_rebuild_instance'],
  evacuate: ['rebuild_server', 'compute_rebuild_instance'],
  resize: [
    'conductor_migrate_server',
    'compute_prep_resize',
    'compute_resize_instance',
    'compute_finish_resize',
  ],
  migrate: [
    'conductor_migrate_server',
    'compute_prep_resize',
    'compute_resize_instance',
    'compute_finish_resize',
  ],
  confirmResize: ['compute_confirm_resize'],
  revertResize: ['compute_revert_resize', 'compute_finish_revert_resize'],
  'live-migration': [
    'conductor_live_migrate_instance',
    'compute_check_can_live_migrate_destination',
    'compute_check_can_live_migrate_source',
    'compute_pre_live_migration',
    'compute_live_migration',
    'compute_post_live_migration_at_destination',
  ],
  pause: ['compute_pause_instance'],
  unpause: ['compute_unpause_instance'],
  suspend: ['compute_suspend_instance'],
  resume: ['compute_resume_instance'],
  rescue: ['compute_rescue_instance'],
  unrescue: ['compute_unrescue_instance'],
  shelve: ['compute_shelve_instance'],
  shelveOffload: ['compute_shelve_offload_instance'],
  unshelve: ['get_image_info', 'schedule_instances', 'compute_unshelve_instance'],
  createImage: ['compute_snapshot_instance'],
  createBackup: ['compute_backup_instance'],
  attach_volume: ['compute_attach_volume'],
  detach_volume: ['compute_detach_volume'],
  extend_volume: ['compute_extend_volume'],
  swap_volume: ['compute_swap_volume'],
  attach_interface: ['compute_attach_interface'],
  detach_interface: ['compute_detach_interface'],
  changePassword: ['compute_set_admin_password'],
  lock: ['api_lock'],
  unlock: ['api_unlock'],
  trigger_crash_dump: ['compute_trigger_crash_dump'],
}

function hostFor(event: string, computeHost: string): string {
  if (
    event.startsWith('conductor_') ||
    ['rebuild_server', 'get_image_info', 'schedule_instances'].includes(event)
  )
    return 'controller-1'
  if (event.startsWith('api_')) return 'api-1'
  return computeHost
}

interface Failure {
  event: string
  details: string
  traceback: string
}

const RESIZE_FAILURE: Failure = {
  event: 'compute_prep_resize',
  details: 'No valid host was found. There are not enough hosts available.',
  traceback: `  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 5976, in prep_resize
    self._prep_resize(context, image, instance,
  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 5878, in _prep_resize
    self.rt.resize_claim(context, instance, instance_type, node,
  File "/usr/lib/python3/dist-packages/oslo_db/api.py", line 144, in wrapper
    connection = 'mysql+pymysql://nova:Sup3rS3cret@db.internal:3306/nova'
  File "/usr/lib/python3/dist-packages/nova/compute/resource_tracker.py", line 203, in resize_claim
    raise exception.ComputeResourcesUnavailable(reason=reason)
`,
}

const LIVE_MIGRATION_FAILURE: Failure = {
  event: 'compute_pre_live_migration',
  details: 'MigrationPreCheckError',
  traceback:
    `  File "/opt/stack/venv/lib/python3.11/site-packages/nova/compute/manager.py", ` +
    `line 8855, in pre_live_migration
    migrate_data = self.driver.pre_live_migration(context,
  File "/opt/stack/venv/lib/python3.11/site-packages/nova/virt/libvirt/driver.py", line 10734, in pre_live_migration
    self._connect_volume(context, connection_info, instance)
  File "/opt/stack/venv/lib/python3.11/site-packages/keystoneauth1/session.py", line 985, in request
    headers = {'X-Auth-Token': ` +
    `'gAAAAABnQk3x9Yd8d0PzX1lYwq5u3Bv7Qe2rT9mZkL4sH6jN8pR1cV0bW3yU5iO7aE9fG2hJ4kD6lA8sF0gH2jK4'}
`,
}

const CREATE_FAILURE: Failure = {
  event: 'compute__do_build_and_run_instance',
  details:
    'Build of instance 6e8a0c24-5f7b-4d9e-9f6a-8b0c2d4e5f76 aborted: Failed to allocate the ' +
    'network(s), not rescheduling.',
  traceback: `  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2668, in _build_and_run_instance
    with self._build_resources(context, instance,
  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 2905, in _build_resources
    raise exception.BuildAbortException(instance_uuid=instance.uuid,
`,
}

interface DemoAction {
  instance: number
  action: string
  user: keyof typeof DEMO_USERS
  project: keyof typeof DEMO_PROJECTS
  host: string
  failure?: Failure
  /**
   * Left unfinished: its first event starts and never finishes (the compute service died), so
   * that the demo has genuinely stuck work for `state=stuck` to find; every other action finishes.
   */
  stuck?: true
}

const A = (
  instance: number,
  action: string,
  host: string,
  failure?: Failure | 'stuck',
): DemoAction => {
  const inst = DEMO_INSTANCES[instance] as DemoInstance
  return {
    instance,
    action,
    user: inst.user,
    project: inst.project,
    host,
    ...(failure === 'stuck' ? { stuck: true } : failure ? { failure } : {}),
  }
}

/** The demo history, oldest first. */
export const DEMO_ACTIONS: readonly DemoAction[] = [
  A(0, 'create', 'compute-01'),
  A(0, 'stop', 'compute-01'),
  A(0, 'start', 'compute-01'),
  A(0, 'reboot', 'compute-01'),
  A(0, 'resize', 'compute-01', RESIZE_FAILURE),
  A(0, 'resize', 'compute-02'),
  A(0, 'confirmResize', 'compute-02'),
  A(0, 'attach_volume', 'compute-02'),
  A(0, 'extend_volume', 'compute-02'),
  A(0, 'createImage', 'compute-02'),
  A(0, 'lock', 'compute-02'),
  A(0, 'unlock', 'compute-02'),
  A(1, 'create', 'compute-02'),
  A(1, 'pause', 'compute-02'),
  A(1, 'unpause', 'compute-02'),
  A(1, 'suspend', 'compute-02'),
  A(1, 'resume', 'compute-02'),
  A(1, 'live-migration', 'compute-02', LIVE_MIGRATION_FAILURE),
  A(1, 'live-migration', 'compute-02'),
  A(1, 'attach_interface', 'compute-03'),
  A(1, 'detach_interface', 'compute-03'),
  A(1, 'rescue', 'compute-03'),
  A(1, 'unrescue', 'compute-03'),
  A(1, 'changePassword', 'compute-03'),
  A(2, 'create', 'compute-03'),
  A(2, 'createBackup', 'compute-03'),
  A(2, 'migrate', 'compute-03'),
  A(2, 'revertResize', 'compute-01'),
  A(2, 'shelve', 'compute-03'),
  A(2, 'shelveOffload', 'compute-03'),
  A(2, 'unshelve', 'compute-01'),
  A(2, 'rebuild', 'compute-01'),
  A(2, 'attach_volume', 'compute-01'),
  A(2, 'swap_volume', 'compute-01'),
  A(2, 'detach_volume', 'compute-01'),
  A(2, 'trigger_crash_dump', 'compute-01'),
  A(3, 'create', 'compute-01'),
  A(3, 'stop', 'compute-01'),
  A(3, 'delete', 'compute-01'),
  A(4, 'create', 'compute-02'),
  A(4, 'evacuate', 'compute-03', 'stuck'),
  A(4, 'reboot', 'compute-03'),
  A(5, 'create', 'compute-01', CREATE_FAILURE),
  A(5, 'create', 'compute-02'),
]

/** Deterministic request id of the n-th demo action. */
export function demoRequestId(n: number): string {
  const hex = (0xd3a0 + n).toString(16).padStart(12, '0')
  return `req-${(0x7e570000 + n).toString(16).padStart(8, '0')}-1c2d-4e3f-8a4b-${hex}`
}

/** What loading did. */
export interface DemoLoadResult {
  instances: number
  actionsAdded: number
}

/** Loads the demo history through the service; actions already present are skipped. */
export async function loadDemo(
  service: ActionService,
  base: Timestamp = '2026-11-01T08:00:00.000000' as Timestamp,
): Promise<DemoLoadResult> {
  let t = toEpochMicros(base)
  const tick = (seconds: number): string => {
    t += BigInt(Math.round(seconds * 1_000_000)) + 123_457n
    return fromEpochMicros(t)
  }
  for (const inst of DEMO_INSTANCES) {
    await service.putInstance({
      uuid: inst.uuid,
      name: inst.name,
      projectId: DEMO_PROJECTS[inst.project],
      userId: DEMO_USERS[inst.user],
    })
  }
  let actionsAdded = 0
  // Nova's create is recorded again (with a new request id) when a build is retried.
  for (const [n, a] of DEMO_ACTIONS.entries()) {
    const inst = DEMO_INSTANCES[a.instance] as DemoInstance
    const requestId = demoRequestId(n)
    tick(3600)
    if (await service.getAction(inst.uuid, requestId)) continue
    await service.actionStart({
      instanceUuid: inst.uuid,
      action: a.action,
      requestId,
      userId: DEMO_USERS[a.user],
      projectId: DEMO_PROJECTS[a.project],
      startTime: tick(0),
    })
    actionsAdded++
    for (const event of EVENTS[a.action] ?? []) {
      await service.eventStart({
        instanceUuid: inst.uuid,
        requestId,
        event,
        host: hostFor(event, a.host),
        startTime: tick(0.2),
      })
      if (a.stuck) break
      const failed = a.failure?.event === event
      await service.eventFinish({
        instanceUuid: inst.uuid,
        requestId,
        event,
        result: failed ? 'Error' : 'Success',
        finishTime: tick(failed ? 1.5 : 4),
        ...(failed && a.failure
          ? { details: a.failure.details, traceback: a.failure.traceback }
          : {}),
      })
      if (failed) break
    }
    // Half a second after its last event, without moving the clock: the other times stay as
    // they were before actions finished (the browser tests and screenshots name some).
    if (!a.stuck)
      await service.actionFinish({
        instanceUuid: inst.uuid,
        requestId,
        finishTime: fromEpochMicros(t + 500_000n),
      })
  }
  for (const inst of DEMO_INSTANCES) {
    if (inst.deleted) {
      const current = await service.getInstance(inst.uuid)
      if (current && current.deletedAt === null) await service.deleteInstance(inst.uuid)
    }
  }
  return { instances: DEMO_INSTANCES.length, actionsAdded }
}
