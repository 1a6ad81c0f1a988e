/** Builds and starts the follower over a service: what `follow-nova` and `serve` both run. */
import type { Logger } from 'pino'
import type { ActionService } from '../../domain/action-service.js'
import type { FollowSettings } from './follow-settings.js'
import { startFollowerThread, type Follower } from './follower-thread.js'
import { createNotificationHandler } from '../notifications/notification-handler.js'

/**
 * Starts following with the notification handler (nova/notifications/) over `service`: the AMQP
 * side on a thread of its own, the handler and the store on this one (follower-thread.ts).
 */
export function startFollower(
  service: ActionService,
  settings: FollowSettings,
  logger: Logger,
): Follower {
  return startFollowerThread({
    settings,
    handler: createNotificationHandler({ service, log: logger }),
    logger,
  })
}
