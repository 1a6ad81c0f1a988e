/**
 * Nova's action names (nova/compute/instance_actions.py), exactly as stored and shown. Writers may
 * record other names; these are the ones operators and the demo data rely on.
 */
export const ACTION_NAMES = [
  'create',
  'delete',
  'evacuate',
  'restore',
  'stop',
  'start',
  'reboot',
  'rebuild',
  'revertResize',
  'confirmResize',
  'resize',
  'migrate',
  'pause',
  'unpause',
  'suspend',
  'resume',
  'rescue',
  'unrescue',
  'changePassword',
  'shelve',
  'shelveOffload',
  'unshelve',
  'live-migration',
  'live_migration_cancel',
  'live_migration_force_complete',
  'trigger_crash_dump',
  'extend_volume',
  'attach_interface',
  'detach_interface',
  'attach_volume',
  'detach_volume',
  'attach_share',
  'detach_share',
  'swap_volume',
  'lock',
  'unlock',
  'createBackup',
  'createImage',
  'resetState',
  'refresh_volume_attachment',
] as const

/** A Nova action name. */
export type ActionName = (typeof ACTION_NAMES)[number]
