/**
 * `actiontrail follow-nova`: follow a Nova cloud's versioned notifications on RabbitMQ into the
 * configured database (docs/nova-integration.md). Runs until SIGINT/SIGTERM, then stops gracefully.
 */
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP, resolveServeConfig } from '../../config.js'
import { AppError } from '../../domain/errors.js'
import { createActionService } from '../../local-service.js'
import { resolveFollowSettings, type FollowFlags } from '../../nova/follow/follow-settings.js'
import { startFollower } from '../../nova/follow/start-follower.js'
import { createLogger } from '../../security/redacting-logger.js'
import { describeDatabase, openStores } from '../../store/open-store.js'

interface FollowOptions extends FollowFlags {
  db?: string
  logLevel?: string
  logKey?: string
}

/** Registers the follow-nova command. */
export function followNovaCommand(program: Command): void {
  program
    .command('follow-nova')
    .description("record a Nova cloud's instance actions from its RabbitMQ notifications")
    .option('--amqp <url>', 'amqp://user:password@host:5672/vhost (env ACTIONTRAIL_NOVA_AMQP_URL)')
    .option(
      '--exchange <name>',
      "Nova's control_exchange (env ACTIONTRAIL_NOVA_EXCHANGE, default nova)",
    )
    .option(
      '--queue <name>',
      "ActionTrail's own queue; <name>.dead is its dead-letter queue " +
        '(env ACTIONTRAIL_NOVA_QUEUE, default actiontrail.nova)',
    )
    .option(
      '--prefetch <n>',
      'unacknowledged messages at once (env ACTIONTRAIL_NOVA_PREFETCH, default 512)',
    )
    .option('--db <path>', DATABASE_OPTION_HELP)
    .option(
      '--log-level <level>',
      'fatal|error|warn|info|debug|trace|silent (env ACTIONTRAIL_LOG_LEVEL)',
    )
    .option('--log-key <key>', 'HMAC key for id tags in logs (env ACTIONTRAIL_LOG_KEY)')
    .action(async (opts: FollowOptions) => {
      const settings = resolveFollowSettings(opts)
      if (!settings)
        throw new AppError('invalid_input', 'follow-nova needs --amqp or ACTIONTRAIL_NOVA_AMQP_URL')
      // The same database, log level and log key settings as serve.
      const config = resolveServeConfig({
        ...(opts.db ? { db: opts.db } : {}),
        ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
        ...(opts.logKey ? { logKey: opts.logKey } : {}),
      })
      const { logger } = createLogger({
        level: config.logLevel,
        ...(config.logKey ? { key: config.logKey } : {}),
      })
      const stores = await openStores(config.database, {
        onLost: (message) => logger.error(message),
      })
      const follower = startFollower(createActionService(stores.actions), settings, logger)
      console.log(
        `ActionTrail is following Nova's notifications into ${describeDatabase(config.database)}`,
      )
      let stopping = false
      const stop = () => {
        if (stopping) return
        stopping = true
        void follower
          .stop()
          .then(() => stores.close())
          .then(() => {
            logger.flush()
            process.exit(0)
          })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
}
