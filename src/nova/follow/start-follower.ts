/** Builds and starts the follower over a service: what `follow-nova` and `serve` both run. */
import type { Logger } from 'pino'
import type { ActionService } from '../../domain/action-service.js'
import type { FollowSettings } from './follow-settings.js'
import { NovaFollower } from './nova-follower.js'
import { createNotificationHandler } from '../notifications/notification-handler.js'

/** Starts following with the notification handler (nova/notifications/) over `service`. */
export function startFollower(
  service: ActionService,
  settings: FollowSettings,
  logger: Logger,
): NovaFollower {
  const follower = new NovaFollower({
    settings,
    handler: createNotificationHandler({ service, log: logger }),
    logger,
  })
  follower.start()
  return follower
}
