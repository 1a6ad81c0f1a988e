/** Builds and starts the follower over a service: what `follow-nova` and `serve` both run. */
import type { Logger } from 'pino'
import type { ActionService } from '../../domain/action-service.js'
import type { FollowSettings } from './follow-settings.js'
import { NovaFollower } from './nova-follower.js'
import { StandInNotificationHandler } from './stand-in-handler.js'

/**
 * Starts following with the notification handler over `service`. (Until helper E1's handler
 * lands, the stand-in; the integrator swaps it here.)
 */
export function startFollower(
  service: ActionService,
  settings: FollowSettings,
  logger: Logger,
): NovaFollower {
  const follower = new NovaFollower({
    settings,
    handler: new StandInNotificationHandler(service),
    logger,
  })
  follower.start()
  return follower
}
