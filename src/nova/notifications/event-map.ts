/**
 * Which action and which Nova DB event a notification belongs to (spec nova-notifications.md
 * §3.2), as data: one row per `instance.<family>` and per `compute_task.<method>.error`. The
 * request decides the final name (§3.3): a row's `replaces` lists the guesses its name corrects
 * when both arrive under one request, in either order (store ActionMerge); the few rules that read
 * the payload are the `variant` functions.
 */

/** How a family relates to its action (§3.2 "role"). */
export type FamilyRole =
  /** The main step: its `.end` finishes the action. */
  | 'main'
  /** A step of a larger action, which names the action only when nothing better is known. */
  | 'step'
  /** A point in time that is the whole action (lock, unlock). */
  | 'whole'
  /** A point in time within an action (evacuate from the API, rebuild_scheduled). */
  | 'marker'
  /** A failure signal only (compute_task.*.error). */
  | 'failure'

/** What a family maps to. */
export interface FamilyRule {
  action: string
  /** The DB event it brackets; null for notifications emitted outside any event. */
  event: string | null
  role: FamilyRole
  /** The event of an `.error` when it is another one (resize.error is prep's failure, §3.2 #25). */
  errorEvent?: string
  /** Action names this one corrects under the same request (§3.3 rules 2–4, 6). */
  replaces?: readonly string[]
  /** The `.end` of this step is the successful end of the action (live_migration_post, #30). */
  endsAction?: boolean
  /** May run under a service context (null payload request_id) and still be an action (§3.3 rule 8). */
  serviceContext?: boolean
  /** A payload-dependent choice of action (and event). */
  variant?: (data: Readonly<Record<string, unknown>>) => Partial<FamilyRule> | undefined
}

// Sub-steps of delete, rebuild and failed builds default to these names (§3.3 rule 6), so the
// actions that own them replace them.
const STEP_DEFAULTS = ['detach_volume', 'delete'] as const

// What every family named `delete` corrects (one list, so that a name means the same whichever
// family wrote it: src/nova/recorded-name.ts relies on it). §3.3 rule 7: deleting a server that
// waits for resize confirmation confirms it under the delete's request; ActionTrail keeps one
// action per request, the newest (`delete`: what Nova's lookup by request id returns), with the
// events of both.
const DELETE_CORRECTS = ['detach_volume', 'confirmResize'] as const

function flavorId(flavor: unknown): unknown {
  const data = (flavor as { 'nova_object.data'?: { flavorid?: unknown } } | null)?.[
    'nova_object.data'
  ]
  return data?.flavorid
}

/** The `instance.<family>` rows (§3.2 #1–43). */
export const INSTANCE_FAMILIES: Readonly<Record<string, FamilyRule>> = {
  create: {
    action: 'create',
    event: 'compute__do_build_and_run_instance',
    role: 'main',
    replaces: STEP_DEFAULTS,
  },
  delete: {
    action: 'delete',
    event: 'compute_terminate_instance',
    role: 'main',
    replaces: DELETE_CORRECTS,
  },
  soft_delete: {
    action: 'delete',
    event: 'compute_soft_delete_instance',
    role: 'main',
    replaces: DELETE_CORRECTS,
  },
  shutdown: {
    action: 'delete',
    event: 'compute_terminate_instance',
    role: 'step',
    replaces: DELETE_CORRECTS,
  },
  restore: { action: 'restore', event: 'compute_restore_instance', role: 'main' },
  power_off: {
    action: 'stop',
    event: 'compute_stop_instance',
    role: 'main',
    serviceContext: true,
  },
  power_on: { action: 'start', event: 'compute_start_instance', role: 'main' },
  reboot: { action: 'reboot', event: 'compute_reboot_instance', role: 'main' },
  trigger_crash_dump: {
    action: 'trigger_crash_dump',
    event: 'compute_trigger_crash_dump',
    role: 'main',
  },
  pause: { action: 'pause', event: 'compute_pause_instance', role: 'main' },
  unpause: { action: 'unpause', event: 'compute_unpause_instance', role: 'main' },
  suspend: { action: 'suspend', event: 'compute_suspend_instance', role: 'main' },
  resume: { action: 'resume', event: 'compute_resume_instance', role: 'main' },
  rescue: { action: 'rescue', event: 'compute_rescue_instance', role: 'main' },
  unrescue: { action: 'unrescue', event: 'compute_unrescue_instance', role: 'main' },
  snapshot: {
    action: 'createImage',
    event: 'compute_snapshot_instance',
    role: 'main',
    // §3.3 rule 5.
    variant: (data) =>
      data.task_state === 'image_backup'
        ? { action: 'createBackup', event: 'compute_backup_instance' }
        : undefined,
  },
  shelve: {
    action: 'shelve',
    event: 'compute_shelve_instance',
    role: 'main',
    replaces: ['shelveOffload'],
  },
  shelve_offload: {
    action: 'shelveOffload',
    event: 'compute_shelve_offload_instance',
    role: 'main',
  },
  unshelve: { action: 'unshelve', event: 'compute_unshelve_instance', role: 'main' },
  rebuild_scheduled: { action: 'rebuild', event: null, role: 'marker' },
  rebuild: {
    action: 'rebuild',
    event: 'compute_rebuild_instance',
    role: 'main',
    replaces: STEP_DEFAULTS,
  },
  evacuate: {
    action: 'evacuate',
    event: null,
    role: 'marker',
    replaces: ['rebuild', ...STEP_DEFAULTS],
  },
  resize_prep: {
    action: 'resize',
    event: 'compute_prep_resize',
    role: 'step',
    // §3.3 rule 2: the same flavor is a cold migration; only prep carries the new flavor.
    variant: (data) =>
      flavorId(data.new_flavor) !== undefined && flavorId(data.new_flavor) === flavorId(data.flavor)
        ? { action: 'migrate', replaces: ['resize'] }
        : undefined,
  },
  resize: {
    action: 'resize',
    event: 'compute_resize_instance',
    role: 'step',
    errorEvent: 'compute_prep_resize',
  },
  resize_finish: { action: 'resize', event: 'compute_finish_resize', role: 'step' },
  resize_confirm: {
    action: 'confirmResize',
    event: 'compute_confirm_resize',
    role: 'main',
    serviceContext: true,
  },
  resize_revert: { action: 'revertResize', event: 'compute_finish_revert_resize', role: 'main' },
  live_migration_pre: {
    action: 'live-migration',
    event: 'compute_pre_live_migration',
    role: 'step',
    replaces: ['live_migration_cancel'],
  },
  live_migration_post: {
    action: 'live-migration',
    event: null,
    role: 'step',
    endsAction: true,
    replaces: ['live_migration_cancel'],
  },
  live_migration_post_dest: {
    action: 'live-migration',
    event: 'compute_post_live_migration_at_destination',
    role: 'step',
    replaces: ['live_migration_cancel'],
  },
  live_migration_rollback: {
    action: 'live-migration',
    event: null,
    role: 'step',
    replaces: ['live_migration_cancel'],
  },
  live_migration_rollback_dest: {
    action: 'live-migration',
    event: 'compute_rollback_live_migration_at_destination',
    role: 'step',
    replaces: ['live_migration_cancel'],
  },
  live_migration_abort: {
    action: 'live_migration_cancel',
    event: 'compute_live_migration_abort',
    role: 'main',
  },
  live_migration_force_complete: {
    action: 'live_migration_force_complete',
    event: 'compute_live_migration_force_complete',
    role: 'main',
  },
  interface_attach: { action: 'attach_interface', event: 'compute_attach_interface', role: 'main' },
  interface_detach: { action: 'detach_interface', event: 'compute_detach_interface', role: 'main' },
  volume_attach: { action: 'attach_volume', event: 'compute_attach_volume', role: 'main' },
  volume_detach: { action: 'detach_volume', event: 'compute_detach_volume', role: 'step' },
  volume_swap: { action: 'swap_volume', event: 'compute_swap_volume', role: 'main' },
  share_attach: { action: 'attach_share', event: 'compute_allow_share', role: 'main' },
  share_detach: { action: 'detach_share', event: 'compute_deny_share', role: 'main' },
  lock: { action: 'lock', event: null, role: 'whole' },
  unlock: { action: 'unlock', event: null, role: 'whole' },
}

/** The `compute_task.<method>.error` rows (§3.2 #44–46): conductor failures. */
export const COMPUTE_TASK_FAILURES: Readonly<Record<string, FamilyRule>> = {
  build_instances: {
    action: 'create',
    event: 'conductor_schedule_and_build_instances',
    role: 'failure',
  },
  migrate_server: { action: 'resize', event: 'conductor_migrate_server', role: 'failure' },
  rebuild_server: { action: 'rebuild', event: 'rebuild_server', role: 'failure' },
}

/**
 * Event types that are valid but are not (on their own) instance actions (§3.2 #48–50, §3.5).
 * `compute.exception` (#47) is not one of them: it fails the events of its request and host
 * (notification-writes.ts).
 */
export const NOT_ACTIONS: Readonly<Record<string, string>> = {
  'instance.update': 'a state change, not an action step',
  'instance.exists': 'a usage audit, not an action step',
}

/** The event type of a failure known only by its request and host (§2.5, §3.2 #47). */
export const REQUEST_FAILURE = 'compute.exception'

// What each action name corrects: the union over the families of that name. A name then means
// one thing in a merge whichever family wrote it (rebuild_scheduled's `rebuild` corrects a step
// default as rebuild.start's does), so the order in which a request's notifications, or the other
// sources' records (src/nova/recorded-name.ts), arrive does not decide the name.
const NAME_REPLACES = new Map<string, readonly string[]>()
for (const r of [...Object.values(INSTANCE_FAMILIES), ...Object.values(COMPUTE_TASK_FAILURES)])
  NAME_REPLACES.set(r.action, [
    ...new Set([...(NAME_REPLACES.get(r.action) ?? []), ...(r.replaces ?? [])]),
  ])

/** The names a rule's action corrects: its own and those of every family of the same name. */
export function replacesOf(rule: Pick<FamilyRule, 'action' | 'replaces'>): readonly string[] {
  const shared = NAME_REPLACES.get(rule.action) ?? []
  return rule.replaces ? [...new Set([...rule.replaces, ...shared])] : shared
}

/** The rule for a family, with its payload variant applied and its name's `replaces`. */
export function resolveRule(rule: FamilyRule, data: Readonly<Record<string, unknown>>): FamilyRule {
  const variant = rule.variant?.(data)
  const resolved = variant ? { ...rule, ...variant } : rule
  return { ...resolved, replaces: replacesOf(resolved) }
}
