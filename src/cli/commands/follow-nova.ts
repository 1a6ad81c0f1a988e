/**
 * `actiontrail follow-nova`: follow a Nova cloud's versioned notifications on RabbitMQ into the
 * configured database (docs/nova-integration.md). Runs until SIGINT/SIGTERM, then stops gracefully.
 * With `--metrics-port` it serves its Prometheus metrics (messages by outcome, dead letters, writes,
 * commits, pool, process) at `/metrics`, since it has no API server to serve them.
 */
import type { Command } from 'commander'
import {
  DATABASE_OPTION_HELP,
  resolveFollowMetricsAddress,
  resolveServeConfig,
} from '../../config.js'
import { startMetricsServer, type MetricsServer } from '../../metrics/metrics-server.js'
import { ServiceMetrics } from '../../metrics/service-metrics.js'
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
  metricsPort?: string
  metricsHost?: string
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
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at /metrics on this port, 0 for any free one ' +
        '(env ACTIONTRAIL_FOLLOW_METRICS_PORT; none by default)',
    )
    .option(
      '--metrics-host <host>',
      'address of the metrics server (env ACTIONTRAIL_FOLLOW_METRICS_HOST, default 127.0.0.1)',
    )
    .action(async (opts: FollowOptions) => {
      const settings = resolveFollowSettings(opts)
      if (!settings)
        throw new AppError('invalid_input', 'follow-nova needs --amqp or ACTIONTRAIL_NOVA_AMQP_URL')
      const metricsAddress = resolveFollowMetricsAddress(opts)
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
      const metrics = new ServiceMetrics()
      const stores = await openStores(config.database, {
        onLost: (message) => logger.error(message),
        commitObserver: metrics,
      })
      // Listening before following: a port in use stops start-up before any message is taken.
      let metricsServer: MetricsServer | undefined
      if (metricsAddress) {
        try {
          metricsServer = await startMetricsServer(metrics, {
            ...metricsAddress,
            ...(config.metricsToken ? { token: config.metricsToken } : {}),
          })
        } catch (err) {
          await stores.close()
          throw err
        }
      }
      const follower = startFollower(createActionService(stores.actions), settings, logger)
      metrics.attach({
        follower: () => follower.counters,
        ...(stores.poolStats ? { pool: stores.poolStats } : {}),
      })
      console.log(
        `ActionTrail is following Nova's notifications into ${describeDatabase(config.database)}`,
      )
      if (metricsServer) console.log(`Metrics at ${metricsServer.url}`)
      let stopping = false
      const stop = () => {
        if (stopping) return
        stopping = true
        void follower
          .stop()
          .then(() => metricsServer?.close())
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
