/**
 * Server configuration from `ACTIONTRAIL_*` environment variables, overridden by command-line
 * flags, validated into one typed object.
 */
import { parsePublicUrl } from './api/plugins/public-url.js'
import { DEFAULT_OVERLOAD_LIMITS, type OverloadLimits } from './api/plugins/overload.js'
import { DEFAULT_CHECKPOINT_INTERVAL_S } from './store/chain/periodic-checkpoints.js'
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './api/http-limits.js'
import type { KeystoneCredentials } from './auth/keystone/keystone-credentials.js'
import type { StreamSettings } from './api/v1/stream/stream-hub.js'
import type { RateLimitSettings } from './api/plugins/rate-limit.js'
import { AppError } from './domain/errors.js'
import { DEFAULT_STUCK_AFTER, parseStuckPolicy, type StuckPolicy } from './domain/stuck-work.js'
import { resolveFollowSettings, type FollowSettings } from './nova/follow/follow-settings.js'
import { resolveRetentionPolicy, type RetentionPolicy } from './retention/retention-policy.js'

/** Everything `actiontrail serve` needs. */
export interface ServeConfig {
  /**
   * The database: a SQLite file path (or `sqlite:`/`file:` URL), or a `postgres://` /
   * `postgresql://` / `mysql://` / `mariadb://` URL (see store/open-store.ts); default
   * `./data/actiontrail.db`.
   */
  database: string
  /**
   * A read replica for the query API, exports and the stream's catch-up (ACTIONTRAIL_DB_READ: a
   * PostgreSQL hot standby's URL), skipped while more than `maxLagMs` behind
   * (ACTIONTRAIL_DB_READ_MAX_LAG_MS, default 5000) or down; absent when not set.
   */
  read?: { database: string; maxLagMs: number }
  host: string
  port: number
  /** Token file path; required to serve (there is no auth bypass). */
  tokenFile?: string
  /** Refuse a world-readable token file instead of logging a warning. */
  tokensStrict?: boolean
  logLevel: string
  /** HMAC key for log id tags. */
  logKey?: string
  /** Connection timeouts and cap (DEFAULT_HTTP_LIMITS where unset). */
  httpLimits?: HttpLimits
  /**
   * Caps on remembered Idempotency-Key answers, in bytes (ACTIONTRAIL_IDEMPOTENCY_MAX_ANSWER_BYTES,
   * ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES); the defaults of api/v1/idempotency-limits.ts when
   * absent.
   */
  idempotencyLimits?: { maxAnswerBytes?: number; maxCallerBytes?: number }
  /**
   * The secret that signs the query API's page cursors (ACTIONTRAIL_CURSOR_SECRET); give every node
   * the same one so a cursor works on all of them and after a restart. Random per process if absent.
   */
  cursorSecret?: string
  /** The bearer token `GET /metrics` requires (ACTIONTRAIL_METRICS_TOKEN); open when absent. */
  metricsToken?: string
  /** Where clients reach the server, for its links (ACTIONTRAIL_PUBLIC_URL); checked. */
  publicUrl?: string
  /** Proxies whose X-Forwarded-* headers are believed (ACTIONTRAIL_TRUST_PROXY); none when absent. */
  trustProxy?: boolean | string
  /** Overload bounds (ACTIONTRAIL_MAX_EVENT_LOOP_DELAY_MS, ACTIONTRAIL_MAX_RSS_BYTES; 0 = off). */
  overload?: OverloadLimits
  /** Certificate and key files for HTTPS (ACTIONTRAIL_TLS_CERT, ACTIONTRAIL_TLS_KEY): both or none. */
  tls?: { certFile: string; keyFile: string }
  /**
   * How long work may run before the query API's `state=stuck` finds it: ACTIONTRAIL_STUCK_AFTER
   * (`--stuck-after`, default 1h) and per action name ACTIONTRAIL_STUCK_AFTER_ACTIONS
   * (`--stuck-after-actions`, e.g. `live-migration=6h,resize=2h`).
   */
  stuck: StuckPolicy
  /**
   * `GET /v1/stream` settings from ACTIONTRAIL_STREAM_POLL_MS, _BUFFER_BYTES, _MAX_SUBSCRIBERS and
   * _HEARTBEAT_MS; the defaults of api/v1/stream/stream-hub.ts for those not set.
   */
  stream?: Partial<StreamSettings>
  /**
   * The hash chain's signing key (ACTIONTRAIL_SIGNING_KEY: an Ed25519 private key's PEM file):
   * with it the server writes a signed checkpoint every `checkpointIntervalS` seconds
   * (ACTIONTRAIL_CHECKPOINT_INTERVAL, default 300) when the chain's head has moved.
   */
  signingKey?: string
  /** Seconds between periodic checkpoints (used with `signingKey`). */
  checkpointIntervalS?: number
  /**
   * False when ACTIONTRAIL_BENCH_UNCHAINED=1: writes do not extend the hash chain. Only for
   * bench:ingest's chain-on/off comparison; verify reports every change written so.
   */
  chain?: false
  /**
   * An oslo.policy file (YAML or JSON) overriding the default rules (ACTIONTRAIL_POLICY_FILE,
   * `--policy-file`); the defaults alone when absent. See docs/identity.md, "Policy".
   */
  policyFile?: string
  /**
   * How callers are authenticated (ACTIONTRAIL_AUTH, `--auth`): `static` (the token file, the
   * default), `keystone` (tokens validated by Keystone) or `noauth` (development only).
   */
  authMode?: AuthMode
  /** Keystone mode's settings (ACTIONTRAIL_KEYSTONE_*); present when authMode is `keystone`. */
  keystone?: KeystoneSettings
  /**
   * Following Nova's notifications alongside the server: present when ACTIONTRAIL_NOVA_AMQP_URL is
   * set (with ACTIONTRAIL_NOVA_EXCHANGE, _QUEUE, _PREFETCH); see docs/nova-integration.md.
   */
  novaFollow?: FollowSettings
  /**
   * The retention policy the server applies periodically (issue 13): present when
   * ACTIONTRAIL_KEEP_DAYS (`--keep-days`) or ACTIONTRAIL_KEEP_DAYS_PROJECT (`--keep-days-project`)
   * is set; see retention/retention-policy.ts and docs/operations.md, "Retention".
   */
  retention?: RetentionPolicy
  /**
   * The per-principal rate limit (ACTIONTRAIL_RATE_LIMIT requests per second, ACTIONTRAIL_RATE_LIMIT_BURST);
   * absent when off (the default). See api/plugins/rate-limit.ts.
   */
  rateLimit?: RateLimitSettings
}

/** The authentication modes. */
export type AuthMode = 'static' | 'keystone' | 'noauth'

/** Keystone mode's settings. */
export interface KeystoneSettings {
  /** ACTIONTRAIL_KEYSTONE_URL: Keystone's public URL, with or without `/v3`. */
  url: string
  /** The service user's password (_USERNAME, _PASSWORD, …) or application credential. */
  credentials: KeystoneCredentials
  /** ACTIONTRAIL_KEYSTONE_CACHE_SECONDS (default 300; 0 disables the cache). */
  cacheSeconds: number
  /** ACTIONTRAIL_KEYSTONE_TIMEOUT_MS (default 3000). */
  timeoutMs: number
}

/** Flags as parsed by the CLI; absent flags fall back to the environment. */
export interface ServeFlags {
  db?: string
  host?: string
  port?: string
  tokens?: string
  tokensStrict?: boolean
  logLevel?: string
  logKey?: string
  headersTimeoutMs?: string
  requestTimeoutMs?: string
  keepAliveTimeoutMs?: string
  idleTimeoutMs?: string
  maxConnections?: string
  drainTimeoutMs?: string
  policyFile?: string
  auth?: string
  stuckAfter?: string
  stuckAfterActions?: string
  keepDays?: string
  keepDaysProject?: string
  purgeAfterDays?: string
}

/** Default SQLite file, relative to the working directory. */
export const DEFAULT_DATABASE = './data/actiontrail.db'

/** Help text of the `--db` option, shared by the commands that open the database. */
export const DATABASE_OPTION_HELP =
  'SQLite file, or postgres:// / mysql:// URL (env ACTIONTRAIL_DB, default ./data/actiontrail.db)'
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Resolves the serve configuration from flags and an environment. */
export function resolveServeConfig(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  const portText = flags.port ?? env.ACTIONTRAIL_PORT ?? '8774'
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new AppError(
      'invalid_input',
      `port must be an integer from 0 to 65535, got ${JSON.stringify(portText)}`,
    )
  }
  const logLevel = flags.logLevel ?? env.ACTIONTRAIL_LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new AppError('invalid_input', `log level must be one of ${LOG_LEVELS.join(', ')}`)
  }
  const config: ServeConfig = {
    database: flags.db ?? env.ACTIONTRAIL_DB ?? DEFAULT_DATABASE,
    host: flags.host ?? env.ACTIONTRAIL_HOST ?? '127.0.0.1',
    port: Number(portText),
    logLevel,
    stuck: parseStuckPolicy(
      flags.stuckAfter ?? env.ACTIONTRAIL_STUCK_AFTER ?? DEFAULT_STUCK_AFTER,
      flags.stuckAfterActions ?? env.ACTIONTRAIL_STUCK_AFTER_ACTIONS ?? '',
    ),
  }
  const read = resolveReadReplica(env)
  if (read) config.read = read
  const tokenFile = flags.tokens ?? env.ACTIONTRAIL_TOKENS
  if (tokenFile) config.tokenFile = tokenFile
  if (
    flags.tokensStrict === true ||
    /^(1|true|yes|on)$/i.test(env.ACTIONTRAIL_TOKENS_STRICT ?? '')
  ) {
    config.tokensStrict = true
  }
  const logKey = flags.logKey ?? env.ACTIONTRAIL_LOG_KEY
  if (logKey) config.logKey = logKey
  config.httpLimits = resolveHttpLimits(flags, env)
  const idempotency = idempotencyLimits(env)
  if (idempotency) config.idempotencyLimits = idempotency
  if (env.ACTIONTRAIL_CURSOR_SECRET) config.cursorSecret = env.ACTIONTRAIL_CURSOR_SECRET
  if (env.ACTIONTRAIL_METRICS_TOKEN) config.metricsToken = env.ACTIONTRAIL_METRICS_TOKEN
  Object.assign(config, proxySettings(env))
  config.overload = overloadLimits(env)
  const policyFile = flags.policyFile ?? env.ACTIONTRAIL_POLICY_FILE
  if (policyFile) config.policyFile = policyFile
  const authMode = flags.auth ?? env.ACTIONTRAIL_AUTH ?? 'static'
  if (!AUTH_MODES.includes(authMode as AuthMode)) {
    throw new AppError(
      'invalid_input',
      `ACTIONTRAIL_AUTH (--auth) must be one of ${AUTH_MODES.join(', ')}, ` +
        `got ${JSON.stringify(authMode.slice(0, 40))}`,
    )
  }
  config.authMode = authMode as AuthMode
  if (authMode === 'keystone') config.keystone = resolveKeystoneSettings(env)
  const stream = resolveStreamSettings(env)
  if (stream) config.stream = stream
  if (env.ACTIONTRAIL_BENCH_UNCHAINED === '1') config.chain = false
  if (env.ACTIONTRAIL_SIGNING_KEY) {
    config.signingKey = env.ACTIONTRAIL_SIGNING_KEY
    config.checkpointIntervalS = wholeNumber(
      env,
      'ACTIONTRAIL_CHECKPOINT_INTERVAL',
      DEFAULT_CHECKPOINT_INTERVAL_S,
      1,
      7 * 24 * 3600,
    )
  }
  const novaFollow = resolveFollowSettings({}, env)
  if (novaFollow) config.novaFollow = novaFollow
  const retention = resolveRetentionPolicy(flags, env)
  if (retention) config.retention = retention
  const rateLimit = resolveRateLimit(env)
  if (rateLimit) config.rateLimit = rateLimit
  return config
}

const AUTH_MODES: readonly AuthMode[] = ['static', 'keystone', 'noauth']

function wholeNumber(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = env[variable]
  if (text === undefined || text === '') return fallback
  if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new AppError('invalid_input', `${variable} must be an integer from ${min} to ${max}`)
  }
  return Number(text)
}

/**
 * Keystone mode's settings from ACTIONTRAIL_KEYSTONE_*: the URL, and either an application
 * credential (_APP_CRED_ID and _APP_CRED_SECRET) or a service user (_USERNAME, _PASSWORD,
 * _PROJECT, with _USER_DOMAIN and _PROJECT_DOMAIN defaulting to `Default`). Messages name the
 * variables, never their values.
 */
export function resolveKeystoneSettings(env: NodeJS.ProcessEnv = process.env): KeystoneSettings {
  const url = env.ACTIONTRAIL_KEYSTONE_URL ?? ''
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) {
    throw new AppError(
      'invalid_input',
      'ACTIONTRAIL_AUTH=keystone needs ACTIONTRAIL_KEYSTONE_URL, an http(s) URL such as http://keystone:5000/v3',
    )
  }
  let credentials: KeystoneCredentials
  if (env.ACTIONTRAIL_KEYSTONE_APP_CRED_ID || env.ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET) {
    if (!env.ACTIONTRAIL_KEYSTONE_APP_CRED_ID || !env.ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET) {
      throw new AppError(
        'invalid_input',
        'an application credential needs both ACTIONTRAIL_KEYSTONE_APP_CRED_ID and ' +
          'ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET',
      )
    }
    credentials = {
      kind: 'application_credential',
      id: env.ACTIONTRAIL_KEYSTONE_APP_CRED_ID,
      secret: env.ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET,
    }
  } else {
    const missing = ['USERNAME', 'PASSWORD', 'PROJECT'].filter(
      (k) => !env[`ACTIONTRAIL_KEYSTONE_${k}`],
    )
    if (missing.length > 0) {
      throw new AppError(
        'invalid_input',
        `ACTIONTRAIL_AUTH=keystone needs ActionTrail's service credentials: set ` +
          `${missing.map((k) => `ACTIONTRAIL_KEYSTONE_${k}`).join(', ')} ` +
          '(or ACTIONTRAIL_KEYSTONE_APP_CRED_ID and _APP_CRED_SECRET)',
      )
    }
    credentials = {
      kind: 'password',
      username: env.ACTIONTRAIL_KEYSTONE_USERNAME ?? '',
      password: env.ACTIONTRAIL_KEYSTONE_PASSWORD ?? '',
      project: env.ACTIONTRAIL_KEYSTONE_PROJECT ?? '',
      userDomain: env.ACTIONTRAIL_KEYSTONE_USER_DOMAIN || 'Default',
      projectDomain: env.ACTIONTRAIL_KEYSTONE_PROJECT_DOMAIN || 'Default',
    }
  }
  return {
    url,
    credentials,
    cacheSeconds: wholeNumber(env, 'ACTIONTRAIL_KEYSTONE_CACHE_SECONDS', 300, 0, 86_400),
    timeoutMs: wholeNumber(env, 'ACTIONTRAIL_KEYSTONE_TIMEOUT_MS', 3000, 1, 60_000),
  }
}

// Each limit: its flag, its variable, and the largest value accepted. No limit can be switched
// off (Node's 0): an unbounded one is what let a slow client hold a connection forever.
const HOUR_MS = 3_600_000
const LIMIT_SETTINGS: readonly {
  key: keyof HttpLimits
  flag: keyof ServeFlags
  variable: string
  max: number
}[] = [
  {
    key: 'headersTimeoutMs',
    flag: 'headersTimeoutMs',
    variable: 'ACTIONTRAIL_HEADERS_TIMEOUT_MS',
    max: HOUR_MS,
  },
  {
    key: 'requestTimeoutMs',
    flag: 'requestTimeoutMs',
    variable: 'ACTIONTRAIL_REQUEST_TIMEOUT_MS',
    max: HOUR_MS,
  },
  {
    key: 'keepAliveTimeoutMs',
    flag: 'keepAliveTimeoutMs',
    variable: 'ACTIONTRAIL_KEEP_ALIVE_TIMEOUT_MS',
    max: HOUR_MS,
  },
  {
    key: 'idleTimeoutMs',
    flag: 'idleTimeoutMs',
    variable: 'ACTIONTRAIL_IDLE_TIMEOUT_MS',
    max: HOUR_MS,
  },
  {
    key: 'maxConnections',
    flag: 'maxConnections',
    variable: 'ACTIONTRAIL_MAX_CONNECTIONS',
    max: 1_000_000,
  },
  {
    key: 'drainTimeoutMs',
    flag: 'drainTimeoutMs',
    variable: 'ACTIONTRAIL_DRAIN_TIMEOUT_MS',
    max: HOUR_MS,
  },
]

/** Resolves the connection timeouts and cap; each is a whole number from 1 to its maximum. */
export function resolveHttpLimits(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv = process.env,
): HttpLimits {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS }
  for (const { key, flag, variable, max } of LIMIT_SETTINGS) {
    const text = (flags[flag] as string | undefined) ?? env[variable]
    if (text === undefined) continue
    if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > max) {
      const option = `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
      throw new AppError(
        'invalid_input',
        `${option} (${variable}) must be an integer from 1 to ${max}, ` +
          `got ${JSON.stringify(text.slice(0, 40))}`,
      )
    }
    limits[key] = Number(text)
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new AppError(
      'invalid_input',
      `the headers timeout (${limits.headersTimeoutMs} ms) must not exceed the request timeout ` +
        `(${limits.requestTimeoutMs} ms): the headers are part of the request`,
    )
  }
  return limits
}

const IDEMPOTENCY_LIMIT_VARS = {
  maxAnswerBytes: 'ACTIONTRAIL_IDEMPOTENCY_MAX_ANSWER_BYTES',
  maxCallerBytes: 'ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES',
} as const

// The caps an operator set: a whole number of bytes each (their relation is checked by the app).
function idempotencyLimits(env: NodeJS.ProcessEnv): ServeConfig['idempotencyLimits'] {
  const out: NonNullable<ServeConfig['idempotencyLimits']> = {}
  for (const [name, variable] of Object.entries(IDEMPOTENCY_LIMIT_VARS)) {
    const text = env[variable]
    if (text === undefined || text === '') continue
    if (!/^\d{1,15}$/.test(text))
      throw new AppError('invalid_input', `${variable} must be a whole number of bytes`)
    out[name as keyof typeof IDEMPOTENCY_LIMIT_VARS] = Number(text)
  }
  return Object.keys(out).length > 0 ? out : undefined
}

// Each stream setting: its variable and its range (a poll of at least 5 ms keeps an idle node's
// polling cheap; a buffer of at least 4 KiB holds any one message of ordinary size).
const STREAM_SETTINGS: readonly {
  key: keyof StreamSettings
  variable: string
  min: number
  max: number
}[] = [
  { key: 'pollMs', variable: 'ACTIONTRAIL_STREAM_POLL_MS', min: 5, max: 60_000 },
  { key: 'bufferBytes', variable: 'ACTIONTRAIL_STREAM_BUFFER_BYTES', min: 4096, max: 1 << 30 },
  { key: 'maxSubscribers', variable: 'ACTIONTRAIL_STREAM_MAX_SUBSCRIBERS', min: 0, max: 1_000_000 },
  { key: 'heartbeatMs', variable: 'ACTIONTRAIL_STREAM_HEARTBEAT_MS', min: 100, max: HOUR_MS },
]

/** The stream settings an operator set; each a whole number in its range. */
export function resolveStreamSettings(
  env: NodeJS.ProcessEnv = process.env,
): Partial<StreamSettings> | undefined {
  const out: Partial<StreamSettings> = {}
  for (const { key, variable, min, max } of STREAM_SETTINGS) {
    const text = env[variable]
    if (text === undefined || text === '') continue
    if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max)
      throw new AppError(
        'invalid_input',
        `${variable} must be an integer from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 40))}`,
      )
    out[key] = Number(text)
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** The default of ACTIONTRAIL_DB_READ_MAX_LAG_MS. */
export const DEFAULT_READ_MAX_LAG_MS = 5000

/**
 * The read replica: ACTIONTRAIL_DB_READ (a PostgreSQL hot standby's URL; its use is checked when
 * the stores open) and ACTIONTRAIL_DB_READ_MAX_LAG_MS (100 to 3,600,000: lag is measured every
 * 100 ms at best, so a smaller bound would never be met under writes); absent when unset.
 */
export function resolveReadReplica(
  env: NodeJS.ProcessEnv = process.env,
): { database: string; maxLagMs: number } | undefined {
  const database = env.ACTIONTRAIL_DB_READ?.trim()
  if (!database) return undefined
  const maxLagMs = wholeNumber(
    env,
    'ACTIONTRAIL_DB_READ_MAX_LAG_MS',
    DEFAULT_READ_MAX_LAG_MS,
    100,
    3_600_000,
  )
  return { database, maxLagMs }
}

/** Resolves just the database setting (migrate, demo). */
export function resolveDatabase(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return flag ?? env.ACTIONTRAIL_DB ?? DEFAULT_DATABASE
}

/**
 * ACTIONTRAIL_PUBLIC_URL (checked), ACTIONTRAIL_TRUST_PROXY (`true`, or a comma-separated list of
 * addresses and CIDRs; `false` or empty trusts none) and ACTIONTRAIL_TLS_CERT / _KEY (both or
 * neither).
 */
function proxySettings(
  env: NodeJS.ProcessEnv,
): Pick<ServeConfig, 'publicUrl' | 'trustProxy' | 'tls'> {
  const out: Pick<ServeConfig, 'publicUrl' | 'trustProxy' | 'tls'> = {}
  if (env.ACTIONTRAIL_PUBLIC_URL) {
    try {
      out.publicUrl = parsePublicUrl(env.ACTIONTRAIL_PUBLIC_URL)
    } catch (err) {
      throw new AppError('invalid_input', (err as Error).message)
    }
  }
  const trust = (env.ACTIONTRAIL_TRUST_PROXY ?? '').trim()
  if (/^true$/i.test(trust)) out.trustProxy = true
  else if (trust !== '' && !/^false$/i.test(trust)) {
    const entries = trust.split(',').map((e) => e.trim())
    for (const entry of entries)
      if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry))
        throw new AppError(
          'invalid_input',
          `ACTIONTRAIL_TRUST_PROXY must be true, false, or addresses and CIDRs separated by commas; ` +
            `got ${JSON.stringify(entry.slice(0, 60))}`,
        )
    out.trustProxy = entries.join(',')
  }
  const cert = env.ACTIONTRAIL_TLS_CERT
  const key = env.ACTIONTRAIL_TLS_KEY
  if (Boolean(cert) !== Boolean(key))
    throw new AppError('invalid_input', 'ACTIONTRAIL_TLS_CERT and ACTIONTRAIL_TLS_KEY go together')
  if (cert && key) out.tls = { certFile: cert, keyFile: key }
  return out
}

/** ACTIONTRAIL_MAX_EVENT_LOOP_DELAY_MS and ACTIONTRAIL_MAX_RSS_BYTES: whole numbers, 0 turns off. */
function overloadLimits(env: NodeJS.ProcessEnv): OverloadLimits {
  const limits = { ...DEFAULT_OVERLOAD_LIMITS }
  const read = (variable: string): number | undefined => {
    const text = env[variable]
    if (text === undefined || text === '') return undefined
    if (!/^\d{1,15}$/.test(text))
      throw new AppError('invalid_input', `${variable} must be a whole number (0 turns it off)`)
    return Number(text)
  }
  limits.maxEventLoopDelayMs =
    read('ACTIONTRAIL_MAX_EVENT_LOOP_DELAY_MS') ?? limits.maxEventLoopDelayMs
  limits.maxRssBytes = read('ACTIONTRAIL_MAX_RSS_BYTES') ?? limits.maxRssBytes
  return limits
}

/**
 * The largest ACTIONTRAIL_RATE_LIMIT accepted (requests per second): far above any real
 * per-caller rate; the bound only keeps the numbers finite and sane.
 */
export const MAX_RATE = 1_000_000

/**
 * ACTIONTRAIL_RATE_LIMIT (requests per second per principal; decimals allowed, 0 or unset = off)
 * and ACTIONTRAIL_RATE_LIMIT_BURST (the bucket size: a whole number ≥ 1; default twice the rate,
 * rounded up, at least 1). Undefined when the limit is off.
 */
export function resolveRateLimit(
  env: NodeJS.ProcessEnv = process.env,
): RateLimitSettings | undefined {
  const rateText = (env.ACTIONTRAIL_RATE_LIMIT ?? '').trim()
  const burstText = (env.ACTIONTRAIL_RATE_LIMIT_BURST ?? '').trim()
  let rate = 0
  if (rateText !== '') {
    rate = Number(rateText)
    if (!/^\d{1,7}(\.\d{1,6})?$/.test(rateText) || rate > MAX_RATE)
      throw new AppError(
        'invalid_input',
        `ACTIONTRAIL_RATE_LIMIT must be a number of requests per second from 0 (off) to ${MAX_RATE}, ` +
          `e.g. 10 or 0.5; got ${JSON.stringify(rateText.slice(0, 40))}`,
      )
  }
  let burst: number | undefined
  if (burstText !== '') {
    burst = Number(burstText)
    if (!/^\d{1,10}$/.test(burstText) || burst < 1 || burst > 2 * MAX_RATE)
      throw new AppError(
        'invalid_input',
        `ACTIONTRAIL_RATE_LIMIT_BURST must be a whole number of requests from 1 to ${2 * MAX_RATE}, ` +
          `got ${JSON.stringify(burstText.slice(0, 40))}`,
      )
  }
  if (rate === 0) return undefined
  return { rate, burst: burst ?? Math.max(1, Math.ceil(2 * rate)) }
}

/**
 * Where `actiontrail follow-nova` serves its metrics: `--metrics-port` (ACTIONTRAIL_FOLLOW_METRICS_PORT,
 * 0 picks a free port) on `--metrics-host` (ACTIONTRAIL_FOLLOW_METRICS_HOST, default 127.0.0.1);
 * undefined when no port is set (no metrics server).
 */
export function resolveFollowMetricsAddress(
  flags: { metricsPort?: string; metricsHost?: string },
  env: NodeJS.ProcessEnv = process.env,
): { host: string; port: number } | undefined {
  const portText = flags.metricsPort ?? env.ACTIONTRAIL_FOLLOW_METRICS_PORT
  if (portText === undefined || portText === '') return undefined
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw new AppError(
      'invalid_input',
      `--metrics-port (ACTIONTRAIL_FOLLOW_METRICS_PORT) must be an integer from 0 to 65535, ` +
        `got ${JSON.stringify(portText.slice(0, 40))}`,
    )
  const host = flags.metricsHost || env.ACTIONTRAIL_FOLLOW_METRICS_HOST || '127.0.0.1'
  return { host, port: Number(portText) }
}
