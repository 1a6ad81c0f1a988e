/**
 * The one list of ActionTrail's settings: for each its environment variable, its key in the YAML
 * configuration file, its type and range, its default, whether it is secret, and what it does.
 * The file's validation (settings-file.ts), `actiontrail config show` and docs/settings.md
 * (`npm run docs:settings`) are all generated from this list.
 */
import { DEFAULT_HTTP_LIMITS } from '../api/http-limits.js'
import { MAX_RATE } from '../config.js'
import { DEFAULT_STREAM_SETTINGS } from '../api/v1/stream/stream-hub.js'
import { DEFAULT_STUCK_AFTER } from '../domain/stuck-work.js'
import { DEFAULT_CHECKPOINT_INTERVAL_S } from '../store/chain/periodic-checkpoints.js'
import { DEFAULT_POOL_MAX } from '../store/open-store.js'
import { MAX_TIMED_BATCH_ACTIONS } from '../store/retention-store.js'
import {
  DEFAULT_RETENTION_BATCH_MS,
  DEFAULT_RETENTION_PAUSE_MS,
} from '../retention/retention-policy.js'

/** What values a setting takes. */
export type SettingType =
  | { kind: 'integer'; min: number; max: number }
  /** A number with decimals allowed (at most 6). */
  | { kind: 'number'; min: number; max: number }
  /** Free text; `pattern` (a regular expression) and `hint` (its words) when it has a shape. */
  | { kind: 'string'; pattern?: string; hint?: string }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] }
  /**
   * `NAME=VALUE` pairs: in the file a mapping (or the environment's comma-separated text), each
   * value an integer or text matching `valuePattern`.
   */
  | { kind: 'pairs'; valuePattern: string; hint: string }
  /** `true`, `false`, or a list of entries (in the environment: separated by commas). */
  | { kind: 'list' }

/** How a secret's value is shown: not at all, or a URL with its password masked. */
export type SecretKind = 'value' | 'url'

/** One setting. */
export interface SettingDefinition {
  /** Its environment variable. */
  env: string
  /** Its dotted key in the configuration file: `section.name`. */
  key: string
  type: SettingType
  /** The value used when nothing sets it, as the environment would spell it; absent: unset. */
  default?: string
  /** What happens when it is unset, for the docs, when that is not a plain value. */
  unsetMeans?: string
  /** Never printed (`value`), or printed with a URL's password masked (`url`). */
  secret?: SecretKind
  /** The `serve` flag that overrides it, if any. */
  flag?: string
  /** One line for operators (Markdown). */
  description: string
}

const HOUR_MS = 3_600_000
const int = (min: number, max: number): SettingType => ({ kind: 'integer', min, max })
const text: SettingType = { kind: 'string' }
const DURATION: SettingType = {
  kind: 'string',
  pattern: '^\\d{1,9}[smhd]$',
  hint: 'a duration such as 90s, 30m, 1h or 2d',
}
const AMQP_NAME: SettingType = {
  kind: 'string',
  pattern: '^[A-Za-z0-9_.:-]{1,200}$',
  hint: 'a name of letters, digits and _ . : - (at most 200)',
}

/** Every setting, grouped by the file's sections, in the order the docs list them. */
export const SETTINGS: readonly SettingDefinition[] = [
  // database
  {
    env: 'ACTIONTRAIL_DB',
    key: 'database.url',
    type: text,
    default: './data/actiontrail.db',
    secret: 'url',
    flag: '--db',
    description: 'SQLite file, or `postgres://…` / `mysql://…` (`mariadb://…`) URL',
  },
  {
    env: 'ACTIONTRAIL_DB_POOL_MAX',
    key: 'database.pool_max',
    type: int(1, 1000),
    default: String(DEFAULT_POOL_MAX),
    description:
      'connections per process on PostgreSQL/MariaDB (URL parameter `pool_max` wins); half of ' +
      'them, at most 4, run write transactions at once',
  },
  {
    env: 'ACTIONTRAIL_SQLITE_LOCK_WAIT_MS',
    key: 'database.sqlite_lock_wait_ms',
    type: int(0, 600_000),
    default: '5000',
    description:
      'how long a SQLite write waits for a lock another process holds before answering 503',
  },
  {
    env: 'ACTIONTRAIL_DB_READ',
    key: 'database.read_url',
    type: text,
    secret: 'url',
    unsetMeans: 'reads go to `database.url`',
    description:
      'a PostgreSQL hot standby (`postgres://…`) of `database.url` that serves the query API, ' +
      'exports and the stream’s catch-up while it keeps up (docs/deployment.md)',
  },
  {
    env: 'ACTIONTRAIL_DB_READ_MAX_LAG_MS',
    key: 'database.read_max_lag_ms',
    // At least 100: lag is measured every 100 ms at best (config.ts, resolveReadReplica).
    type: int(100, HOUR_MS),
    default: '5000',
    description: 'a standby further behind than this is not read from (the primary answers)',
  },
  {
    env: 'ACTIONTRAIL_DB_CONFLICT_RETRIES',
    key: 'database.conflict_retries',
    type: int(1, 100),
    default: '5',
    description:
      'attempts a write transaction gets, the first included, when it loses a race (a deadlock, ' +
      'a Galera certification conflict, a lost connection) before it is answered 503',
  },
  // http
  {
    env: 'ACTIONTRAIL_HOST',
    key: 'http.host',
    type: text,
    default: '127.0.0.1',
    flag: '--host',
    description: 'listen address (`0.0.0.0` to listen beyond the machine)',
  },
  {
    env: 'ACTIONTRAIL_PORT',
    key: 'http.port',
    type: int(0, 65535),
    default: '8774',
    flag: '--port',
    description: 'listen port',
  },
  {
    env: 'ACTIONTRAIL_PUBLIC_URL',
    key: 'http.public_url',
    type: { kind: 'string', pattern: '^https?://', hint: 'an http(s) URL' },
    unsetMeans: "the request's own scheme and host",
    description:
      'where clients reach the server, e.g. `https://cloud.example/actiontrail`, for the links it ' +
      "writes (version discovery, `next` links, a 401's `WWW-Authenticate`); like Nova's " +
      '`compute_link_prefix`',
  },
  {
    env: 'ACTIONTRAIL_TRUST_PROXY',
    key: 'http.trust_proxy',
    type: { kind: 'list' },
    unsetMeans: 'none',
    description:
      '`true`, or addresses/CIDRs (`10.0.0.5,10.1.0.0/16`; in the file a list): the proxies whose ' +
      '`X-Forwarded-Proto`/`-Host`/`-For` are believed; from anyone else they are ignored',
  },
  {
    env: 'ACTIONTRAIL_TLS_CERT',
    key: 'http.tls_cert',
    type: text,
    unsetMeans: 'HTTP',
    description: 'PEM certificate (chain) file: serve HTTPS without a proxy (with `http.tls_key`)',
  },
  {
    env: 'ACTIONTRAIL_TLS_KEY',
    key: 'http.tls_key',
    type: text,
    unsetMeans: 'HTTP',
    description: "the certificate's PEM key file (a path; both or neither)",
  },
  {
    env: 'ACTIONTRAIL_HEADERS_TIMEOUT_MS',
    key: 'http.headers_timeout_ms',
    type: int(1, HOUR_MS),
    default: String(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
    flag: '--headers-timeout-ms',
    description:
      "a request's headers must arrive within this time (also a connection that sends nothing); " +
      'else 408 and the connection is closed; at most the request timeout',
  },
  {
    env: 'ACTIONTRAIL_REQUEST_TIMEOUT_MS',
    key: 'http.request_timeout_ms',
    type: int(1, HOUR_MS),
    default: String(DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    flag: '--request-timeout-ms',
    description:
      'the whole request, body included, must arrive within this time; else 408. A full 32 MiB ' +
      'batch needs about 4.5 Mbit/s: raise it for slower links',
  },
  {
    env: 'ACTIONTRAIL_KEEP_ALIVE_TIMEOUT_MS',
    key: 'http.keep_alive_timeout_ms',
    type: int(1, HOUR_MS),
    default: String(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
    flag: '--keep-alive-timeout-ms',
    description: 'an idle kept-alive connection is closed after this time',
  },
  {
    env: 'ACTIONTRAIL_IDLE_TIMEOUT_MS',
    key: 'http.idle_timeout_ms',
    type: int(1, HOUR_MS),
    default: String(DEFAULT_HTTP_LIMITS.idleTimeoutMs),
    flag: '--idle-timeout-ms',
    description:
      'a connection with no traffic either way for this time is closed; paused while the server ' +
      'works on a request, so a slow batch is never cut',
  },
  {
    env: 'ACTIONTRAIL_MAX_CONNECTIONS',
    key: 'http.max_connections',
    type: int(1, 1_000_000),
    default: String(DEFAULT_HTTP_LIMITS.maxConnections),
    flag: '--max-connections',
    description: 'connections held at once; more are closed as soon as they are accepted',
  },
  {
    env: 'ACTIONTRAIL_DRAIN_TIMEOUT_MS',
    key: 'http.drain_timeout_ms',
    type: int(1, HOUR_MS),
    default: String(DEFAULT_HTTP_LIMITS.drainTimeoutMs),
    flag: '--drain-timeout-ms',
    description:
      'on SIGTERM/SIGINT, time to finish the requests in flight and their commits; past it the ' +
      "process exits 1 anyway (keep it under the orchestrator's kill timeout)",
  },
  {
    env: 'ACTIONTRAIL_MAX_EVENT_LOOP_DELAY_MS',
    key: 'http.max_event_loop_delay_ms',
    type: int(0, 999_999_999_999_999),
    default: '0',
    description:
      'overload bound (e.g. `1000`): past it requests get 503 `overloaded` with `Retry-After` and ' +
      '`/readyz` answers 503; `0` turns it off',
  },
  {
    env: 'ACTIONTRAIL_MAX_RSS_BYTES',
    key: 'http.max_rss_bytes',
    type: int(0, 999_999_999_999_999),
    default: '0',
    description:
      "overload bound on the process's memory (the container's limit less a margin); `0` is off",
  },
  {
    env: 'ACTIONTRAIL_RATE_LIMIT',
    key: 'http.rate_limit',
    type: { kind: 'number', min: 0, max: MAX_RATE },
    default: '0',
    description:
      'requests per second per principal (token bucket); more get 429 with `Retry-After`; `0` is off',
  },
  {
    env: 'ACTIONTRAIL_RATE_LIMIT_BURST',
    key: 'http.rate_limit_burst',
    type: int(1, 2 * MAX_RATE),
    unsetMeans: 'twice the rate, rounded up',
    description: "the bucket's size: requests a principal may send at once above the rate",
  },
  // auth
  {
    env: 'ACTIONTRAIL_AUTH',
    key: 'auth.mode',
    type: { kind: 'enum', values: ['static', 'keystone', 'noauth'] },
    default: 'static',
    flag: '--auth',
    description:
      'how callers are authenticated: `static` (token file), `keystone`, `noauth` (development, ' +
      'loopback only); [identity.md](identity.md)',
  },
  {
    env: 'ACTIONTRAIL_TOKENS',
    key: 'auth.tokens_file',
    type: text,
    flag: '--tokens',
    description:
      'token file (static mode; required by `serve` unless `--demo`); entries may hold ' +
      '`sha256:<hex>` instead of the token; re-read on SIGHUP',
  },
  {
    env: 'ACTIONTRAIL_TOKENS_STRICT',
    key: 'auth.tokens_strict',
    type: { kind: 'boolean' },
    default: 'false',
    flag: '--tokens-strict',
    description: 'refuse a token file every user can read; otherwise a warning is logged',
  },
  {
    env: 'ACTIONTRAIL_POLICY_FILE',
    key: 'auth.policy_file',
    type: text,
    flag: '--policy-file',
    unsetMeans: 'the default rules',
    description:
      'an oslo.policy file (YAML or JSON) overriding the default access rules; one that does not ' +
      'parse stops start-up naming the line ([identity.md](identity.md#policy))',
  },
  // keystone
  {
    env: 'ACTIONTRAIL_KEYSTONE_URL',
    key: 'keystone.url',
    type: { kind: 'string', pattern: '^https?://', hint: 'an http(s) URL' },
    description: "Keystone mode: Keystone's public URL (`http://keystone:5000/v3`)",
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_USERNAME',
    key: 'keystone.username',
    type: text,
    description: "Keystone mode: ActionTrail's service user",
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_PASSWORD',
    key: 'keystone.password',
    type: text,
    secret: 'value',
    description: "the service user's password",
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_PROJECT',
    key: 'keystone.project',
    type: text,
    description: "the project the service user's token is scoped to",
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_USER_DOMAIN',
    key: 'keystone.user_domain',
    type: text,
    default: 'Default',
    description: "the service user's domain name",
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_PROJECT_DOMAIN',
    key: 'keystone.project_domain',
    type: text,
    default: 'Default',
    description: "the service project's domain name",
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_APP_CRED_ID',
    key: 'keystone.app_cred_id',
    type: text,
    description: 'instead of the password: an application credential’s id',
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET',
    key: 'keystone.app_cred_secret',
    type: text,
    secret: 'value',
    description: 'and its secret',
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_CACHE_SECONDS',
    key: 'keystone.cache_seconds',
    type: int(0, 86_400),
    default: '300',
    description:
      "how long a token validation is reused (never past the token's expiry); `0` asks Keystone " +
      'every time. A revoked token stays usable until its cached validation ends',
  },
  {
    env: 'ACTIONTRAIL_KEYSTONE_TIMEOUT_MS',
    key: 'keystone.timeout_ms',
    type: int(1, 60_000),
    default: '3000',
    description: 'how long ActionTrail waits for Keystone; then 503 with `Retry-After`',
  },
  // log
  {
    env: 'ACTIONTRAIL_LOG_LEVEL',
    key: 'log.level',
    type: { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    default: 'info',
    flag: '--log-level',
    description: 'the least severe level logged',
  },
  {
    env: 'ACTIONTRAIL_LOG_KEY',
    key: 'log.key',
    type: text,
    secret: 'value',
    flag: '--log-key',
    unsetMeans: 'random per process',
    description:
      'HMAC key for the id tags in logs; the same on every node so tags correlate (and ' +
      '`actiontrail log-tag` can compute them)',
  },
  // api
  {
    env: 'ACTIONTRAIL_CURSOR_SECRET',
    key: 'api.cursor_secret',
    type: text,
    secret: 'value',
    unsetMeans: 'random per process',
    description:
      "HMAC key of the query API's page cursors; give every node the same one, or cursors fail " +
      '(400) after a restart and on another node',
  },
  {
    env: 'ACTIONTRAIL_METRICS_TOKEN',
    key: 'api.metrics_token',
    type: text,
    secret: 'value',
    unsetMeans: 'open',
    description:
      '`GET /metrics` then needs `Authorization: Bearer <token>`; without it the scrape is open ' +
      '([operations.md](operations.md#metrics))',
  },
  {
    env: 'ACTIONTRAIL_IDEMPOTENCY_MAX_ANSWER_BYTES',
    key: 'api.idempotency_max_answer_bytes',
    type: int(0, 999_999_999_999_999),
    default: String(256 * 1024),
    description: 'the largest (compressed) answer remembered per Idempotency-Key',
  },
  {
    env: 'ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES',
    key: 'api.idempotency_max_caller_bytes',
    type: int(0, 999_999_999_999_999),
    default: String(256 * 1024 * 1024),
    description: 'remembered answers per caller over 24 hours; past it a new key gets 429',
  },
  {
    env: 'ACTIONTRAIL_STUCK_AFTER',
    key: 'api.stuck_after',
    type: DURATION,
    default: DEFAULT_STUCK_AFTER,
    flag: '--stuck-after',
    description:
      'unfinished work that started longer ago than this is stuck (`state=stuck` on ' +
      '`GET /v1/actions` and `/v1/events`)',
  },
  {
    env: 'ACTIONTRAIL_STUCK_AFTER_ACTIONS',
    key: 'api.stuck_after_actions',
    type: { kind: 'pairs', valuePattern: '^\\d{1,9}[smhd]$', hint: 'ACTION: DURATION' },
    flag: '--stuck-after-actions',
    description:
      'per action name, overriding the default: `live-migration=6h,resize=2h` (in the file a ' +
      'mapping `live-migration: 6h`)',
  },
  // stream
  {
    env: 'ACTIONTRAIL_STREAM_POLL_MS',
    key: 'stream.poll_ms',
    type: int(5, 60_000),
    default: String(DEFAULT_STREAM_SETTINGS.pollMs),
    description: "how often each node's stream reader polls the change feed while anyone streams",
  },
  {
    env: 'ACTIONTRAIL_STREAM_BUFFER_BYTES',
    key: 'stream.buffer_bytes',
    type: int(4096, 1 << 30),
    default: String(DEFAULT_STREAM_SETTINGS.bufferBytes),
    description: 'bytes a stream may have queued before it gets `overflow` and is closed',
  },
  {
    env: 'ACTIONTRAIL_STREAM_MAX_SUBSCRIBERS',
    key: 'stream.max_subscribers',
    type: int(0, 1_000_000),
    default: String(DEFAULT_STREAM_SETTINGS.maxSubscribers),
    description:
      'streams per node (never more than 90 % of `http.max_connections`); more get 503 ' +
      '`too_many_streams`',
  },
  {
    env: 'ACTIONTRAIL_STREAM_HEARTBEAT_MS',
    key: 'stream.heartbeat_ms',
    type: int(100, HOUR_MS),
    default: String(DEFAULT_STREAM_SETTINGS.heartbeatMs),
    description: '`: heartbeat` comment interval on streams (at most half the idle timeout)',
  },
  // chain
  {
    env: 'ACTIONTRAIL_SIGNING_KEY',
    key: 'chain.signing_key',
    type: text,
    unsetMeans: 'no checkpoints',
    description:
      "Ed25519 private key (a PEM file's path) that signs the hash chain's checkpoints " +
      '([operations.md](operations.md#verification))',
  },
  {
    env: 'ACTIONTRAIL_CHECKPOINT_INTERVAL',
    key: 'chain.checkpoint_interval',
    type: int(1, 7 * 24 * 3600),
    default: String(DEFAULT_CHECKPOINT_INTERVAL_S),
    description: 'seconds between signed checkpoints (when the chain moved)',
  },
  // retention
  {
    env: 'ACTIONTRAIL_KEEP_DAYS',
    key: 'retention.keep_days',
    type: int(1, 36_500),
    flag: '--keep-days',
    unsetMeans: 'keep everything',
    description:
      'archive the history of instances deleted more than this many days ago, on one node at a ' +
      'time ([operations.md](operations.md#retention))',
  },
  {
    env: 'ACTIONTRAIL_KEEP_DAYS_PROJECT',
    key: 'retention.keep_days_project',
    type: { kind: 'pairs', valuePattern: '^\\d{1,5}$', hint: 'PROJECT: DAYS' },
    flag: '--keep-days-project',
    description: 'per-project keep periods: `p1=30,p2=365` (in the file a mapping `p1: 30`)',
  },
  {
    env: 'ACTIONTRAIL_PURGE_AFTER_DAYS',
    key: 'retention.purge_after_days',
    type: int(1, 36_500),
    flag: '--purge-after-days',
    unsetMeans: 'never purge',
    description: 'delete archived rows of instances deleted more than this many days ago',
  },
  {
    env: 'ACTIONTRAIL_RETENTION_INTERVAL_MS',
    key: 'retention.interval_ms',
    type: int(1000, 604_800_000),
    default: '3600000',
    description: 'time between retention passes',
  },
  {
    env: 'ACTIONTRAIL_RETENTION_BATCH_MS',
    key: 'retention.batch_ms',
    type: int(1, 60_000),
    default: String(DEFAULT_RETENTION_BATCH_MS),
    description:
      'time a batch of a pass aims at (its size follows from the previous batch): on SQLite a ' +
      'write waits for at most about one batch',
  },
  {
    env: 'ACTIONTRAIL_RETENTION_PAUSE_MS',
    key: 'retention.pause_ms',
    type: int(0, 60_000),
    default: String(DEFAULT_RETENTION_PAUSE_MS),
    description: 'pause between two batches of a pass, so that writes keep their latency',
  },
  {
    env: 'ACTIONTRAIL_RETENTION_BATCH',
    key: 'retention.batch',
    type: int(1, 10_000),
    default: String(MAX_TIMED_BATCH_ACTIONS),
    description: 'the most actions archived or purged per transaction',
  },
  // nova
  {
    env: 'ACTIONTRAIL_NOVA_AMQP_URL',
    key: 'nova.amqp_url',
    type: { kind: 'string', pattern: '^amqps?://', hint: 'an amqp:// or amqps:// URL' },
    secret: 'url',
    unsetMeans: 'not following',
    description:
      "follow a Nova cloud's notifications: `amqp://user:password@rabbit:5672/vhost`; `serve` " +
      'then also follows ([nova-integration.md](nova-integration.md))',
  },
  {
    env: 'ACTIONTRAIL_NOVA_EXCHANGE',
    key: 'nova.exchange',
    type: AMQP_NAME,
    default: 'nova',
    description: "Nova's `control_exchange`; only checked, never declared",
  },
  {
    env: 'ACTIONTRAIL_NOVA_QUEUE',
    key: 'nova.queue',
    type: AMQP_NAME,
    default: 'actiontrail.nova',
    description: "ActionTrail's own durable queue; `<queue>.dead` is its dead-letter queue",
  },
  {
    env: 'ACTIONTRAIL_NOVA_PREFETCH',
    key: 'nova.prefetch',
    type: int(1, 65535),
    default: '512',
    description: 'notifications handled at once (unacknowledged)',
  },
  {
    env: 'ACTIONTRAIL_FOLLOW_METRICS_PORT',
    key: 'nova.metrics_port',
    type: int(0, 65535),
    unsetMeans: 'no metrics server',
    description:
      '`follow-nova` run on its own: serve `GET /metrics` on this port (`0`: any free one)',
  },
  {
    env: 'ACTIONTRAIL_FOLLOW_METRICS_HOST',
    key: 'nova.metrics_host',
    type: text,
    default: '127.0.0.1',
    description: "the address of `follow-nova`'s metrics server",
  },
]

/**
 * Variables read only from the environment: the configuration file's own location, and the
 * client commands' settings (per user, not per server), listed in the docs beside the table.
 */
export const ENVIRONMENT_ONLY: readonly { env: string; description: string }[] = [
  {
    env: 'ACTIONTRAIL_CONFIG',
    description: 'the configuration file (`--config FILE` wins); none when unset',
  },
  {
    env: 'ACTIONTRAIL_URL',
    description: 'client commands (`actions`, `events`, `instances`): the server (`--url`)',
  },
  {
    env: 'ACTIONTRAIL_TOKEN',
    description: 'client commands: the token sent (`--token`)',
  },
  {
    env: 'ACTIONTRAIL_NOVA_TOKEN',
    description: '`import --from-nova-api`: Nova admin token sent as `X-Auth-Token` (`--token`)',
  },
]

/** The setting with this file key, if any. */
export function settingByKey(key: string): SettingDefinition | undefined {
  return SETTINGS.find((s) => s.key === key)
}
