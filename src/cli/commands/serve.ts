/** `actiontrail serve`: run the HTTP server (optionally with the demo history and tokens). */
import { join, dirname } from 'node:path'
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP, resolveServeConfig, type ServeFlags } from '../../config.js'
import { StaticTokenAuthenticator } from '../../auth/token-file.js'
import { startServer } from '../../server.js'
import { DEFAULT_HTTP_LIMITS } from '../../api/http-limits.js'
import { exitOnSignals } from '../graceful-shutdown.js'
import { redactAmqpUrl } from '../../nova/follow/follow-settings.js'
import { describeDatabase } from '../../store/open-store.js'
import { DEMO_INSTANCES, loadDemo } from '../demo-data.js'
import { ensureDemoTokens } from '../demo-tokens.js'

interface ServeOptions extends ServeFlags {
  demo?: boolean
}

/** Registers the serve command. */
export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP server (Nova-compatible os-instance-actions API)')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .option('--host <host>', 'address to listen on (env ACTIONTRAIL_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (env ACTIONTRAIL_PORT, default 8774)')
    .option(
      '--auth <mode>',
      'static (token file) | keystone | noauth (env ACTIONTRAIL_AUTH, default static)',
    )
    .option('--tokens <file>', 'token file, JSON or YAML (env ACTIONTRAIL_TOKENS)')
    .option(
      '--tokens-strict',
      'refuse a token file that every user can read (env ACTIONTRAIL_TOKENS_STRICT=1)',
    )
    .option(
      '--log-level <level>',
      'fatal|error|warn|info|debug|trace|silent (env ACTIONTRAIL_LOG_LEVEL)',
    )
    .option('--log-key <key>', 'HMAC key for id tags in logs (env ACTIONTRAIL_LOG_KEY)')
    .option(
      '--headers-timeout-ms <ms>',
      "time for a request's headers (env ACTIONTRAIL_HEADERS_TIMEOUT_MS, default 10000)",
    )
    .option(
      '--request-timeout-ms <ms>',
      'time for a whole request, body included (env ACTIONTRAIL_REQUEST_TIMEOUT_MS, default 60000)',
    )
    .option(
      '--keep-alive-timeout-ms <ms>',
      'idle kept-alive connections close after (env ACTIONTRAIL_KEEP_ALIVE_TIMEOUT_MS, default 5000)',
    )
    .option(
      '--idle-timeout-ms <ms>',
      'connections with no traffic close after (env ACTIONTRAIL_IDLE_TIMEOUT_MS, default 120000)',
    )
    .option(
      '--drain-timeout-ms <ms>',
      'on SIGTERM/SIGINT, time to finish requests in flight (env ACTIONTRAIL_DRAIN_TIMEOUT_MS, default 10000)',
    )
    .option(
      '--max-connections <n>',
      'connections held at once; more are refused (env ACTIONTRAIL_MAX_CONNECTIONS, default 1000)',
    )
    .option(
      '--policy-file <file>',
      'oslo.policy rules (YAML or JSON) overriding the defaults (env ACTIONTRAIL_POLICY_FILE)',
    )
    .option(
      '--stuck-after <duration>',
      'unfinished work older than this is stuck: 90s, 30m, 1h, 2d (env ACTIONTRAIL_STUCK_AFTER, default 1h)',
    )
    .option(
      '--keep-days <days>',
      'archive the history of instances deleted more than this many days ago ' +
        '(env ACTIONTRAIL_KEEP_DAYS; off by default)',
    )
    .option(
      '--keep-days-project <list>',
      'per-project keep periods, e.g. p1=30,p2=365 (env ACTIONTRAIL_KEEP_DAYS_PROJECT)',
    )
    .option(
      '--purge-after-days <days>',
      'delete archived rows of instances deleted more than this many days ago ' +
        '(env ACTIONTRAIL_PURGE_AFTER_DAYS; off by default)',
    )
    .option(
      '--stuck-after-actions <list>',
      'per action name, e.g. live-migration=6h,resize=2h (env ACTIONTRAIL_STUCK_AFTER_ACTIONS)',
    )
    .option(
      '--demo',
      'load the demo history on first start and create demo tokens next to the database',
    )
    .action(async (opts: ServeOptions) => {
      const config = resolveServeConfig(opts)
      let authenticator: StaticTokenAuthenticator | undefined
      let demoTokens: Awaited<ReturnType<typeof ensureDemoTokens>> | undefined
      if (opts.demo && !config.tokenFile && (config.authMode ?? 'static') === 'static') {
        // Next to a SQLite file; for a server database (a URL), in ./data like the default file.
        const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(config.database)
        config.tokenFile = join(isUrl ? './data' : dirname(config.database), 'tokens.json')
        demoTokens = await ensureDemoTokens(config.tokenFile)
        authenticator = new StaticTokenAuthenticator(demoTokens)
      }
      const server = await startServer(config, authenticator)
      if (opts.demo) {
        const known = await server.store.getInstance(DEMO_INSTANCES[0]?.uuid ?? '')
        if (!known) {
          const result = await loadDemo(server.service)
          console.log(
            `Loaded the demo history: ${result.instances} instances, ${result.actionsAdded} actions.`,
          )
        }
      }
      console.log(
        `ActionTrail is listening on ${server.url} (database ${describeDatabase(config.database)})`,
      )
      if (config.read)
        console.log(
          `Query API reads from ${describeDatabase(config.read.database)} while it is at most ` +
            `${config.read.maxLagMs} ms behind`,
        )
      console.log(`Compute API: ${server.url}/v2.1/`)
      console.log(`Action Log (web page): ${server.url}/ui/`)
      if (config.novaFollow)
        console.log(
          `Following Nova's notifications from ${redactAmqpUrl(config.novaFollow.url)} ` +
            `(exchange ${config.novaFollow.exchange}, queue ${config.novaFollow.queue})`,
        )
      if (demoTokens) {
        console.log(`Demo tokens (from ${config.tokenFile}):`)
        for (const t of demoTokens)
          console.log(`  ${t.roles.join(',').padEnd(8)} project ${t.project_id}  token ${t.token}`)
        const member = demoTokens.find((t) => t.roles.includes('member'))
        const admin = demoTokens.find((t) => t.roles.includes('admin'))
        const server0 = DEMO_INSTANCES[0]?.uuid
        if (member) {
          console.log('Try:')
          console.log(
            `  curl -s -H 'X-Auth-Token: ${member.token}' -H 'OpenStack-API-Version: compute 2.84' ` +
              `${server.url}/v2.1/servers/${server0}/os-instance-actions`,
          )
        }
        if (admin) {
          console.log(
            `  openstack --os-auth-type admin_token --os-endpoint ${server.url}/v2.1 ` +
              `--os-token=${admin.token} server event list ${server0}`,
          )
        }
      }
      exitOnSignals(server, config.httpLimits?.drainTimeoutMs ?? DEFAULT_HTTP_LIMITS.drainTimeoutMs)
    })
}
