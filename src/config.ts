/**
 * Server configuration from `ACTIONTRAIL_*` environment variables, overridden by command-line
 * flags, validated into one typed object.
 */
import { AppError } from './domain/errors.js'

/** Everything `actiontrail serve` needs. */
export interface ServeConfig {
  /**
   * The database: a SQLite file path (or `sqlite:`/`file:` URL), or a `postgres://` /
   * `postgresql://` / `mysql://` / `mariadb://` URL (see store/open-store.ts); default
   * `./data/actiontrail.db`.
   */
  database: string
  host: string
  port: number
  /** Token file path; required to serve (there is no auth bypass). */
  tokenFile?: string
  /** Refuse a world-readable token file instead of logging a warning. */
  tokensStrict?: boolean
  logLevel: string
  /** HMAC key for log id tags. */
  logKey?: string
  /**
   * Caps on remembered Idempotency-Key answers, in bytes (ACTIONTRAIL_IDEMPOTENCY_MAX_ANSWER_BYTES,
   * ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES); the defaults of api/v1/idempotency-limits.ts when
   * absent.
   */
  idempotencyLimits?: { maxAnswerBytes?: number; maxCallerBytes?: number }
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
  }
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
  const limits = idempotencyLimits(env)
  if (limits) config.idempotencyLimits = limits
  return config
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

/** Resolves just the database setting (migrate, demo). */
export function resolveDatabase(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return flag ?? env.ACTIONTRAIL_DB ?? DEFAULT_DATABASE
}
