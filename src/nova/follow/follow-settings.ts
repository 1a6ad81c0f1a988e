/**
 * Settings of the Nova notification follower, from `follow-nova`'s flags and the
 * ACTIONTRAIL_NOVA_* environment (docs/nova-integration.md).
 */
import { AppError } from '../../domain/errors.js'

/** Where and how the follower consumes. */
export interface FollowSettings {
  /** amqp:// or amqps:// URL of Nova's notification transport (it may hold a password). */
  url: string
  /** Nova's control_exchange (a topic exchange Nova declares; only ever checked, never declared). */
  exchange: string
  /** ActionTrail's own durable queue, bound to the exchange. */
  queue: string
  /** Where messages that can never be processed go (a durable queue, via the default exchange). */
  deadLetterQueue: string
  /** Unacknowledged messages held at once. */
  prefetch: number
  /** Routing keys bound: Nova's versioned notifications. */
  routingKeys: readonly string[]
}

/** Flags of `follow-nova` (absent ones fall back to the environment). */
export interface FollowFlags {
  amqp?: string
  exchange?: string
  queue?: string
  prefetch?: string
}

/** The versioned notifications' routing keys (spec §1.2). */
export const VERSIONED_ROUTING_KEYS = [
  'versioned_notifications.info',
  'versioned_notifications.error',
] as const

// Enough unacknowledged messages in flight for the store's group commit to gather large
// transactions (each handle commits before its ack); not yet tuned by bench:follow, which ran
// only on an overloaded machine (see the report of issue 12).
const DEFAULT_PREFETCH = 512
const NAME = /^[A-Za-z0-9_.:-]{1,200}$/

/** The URL with its password replaced by `***` (for messages and logs). */
export function redactAmqpUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

/**
 * The settings when a URL is given (flag, or ACTIONTRAIL_NOVA_AMQP_URL), else undefined. Bad
 * values throw `invalid_input` naming the variable, never the URL's password.
 */
export function resolveFollowSettings(
  flags: FollowFlags,
  env: NodeJS.ProcessEnv = process.env,
): FollowSettings | undefined {
  const url = flags.amqp ?? env.ACTIONTRAIL_NOVA_AMQP_URL
  if (url === undefined || url === '') return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!parsed || !/^amqps?:$/.test(parsed.protocol) || !parsed.hostname)
    throw new AppError(
      'invalid_input',
      '--amqp (ACTIONTRAIL_NOVA_AMQP_URL) must be an amqp:// or amqps:// URL, ' +
        'e.g. amqp://actiontrail:secret@rabbit:5672/',
    )
  const exchange = flags.exchange ?? env.ACTIONTRAIL_NOVA_EXCHANGE ?? 'nova'
  const queue = flags.queue ?? env.ACTIONTRAIL_NOVA_QUEUE ?? 'actiontrail.nova'
  for (const [name, value] of [
    ['--exchange (ACTIONTRAIL_NOVA_EXCHANGE)', exchange],
    ['--queue (ACTIONTRAIL_NOVA_QUEUE)', queue],
  ] as const) {
    if (!NAME.test(value))
      throw new AppError(
        'invalid_input',
        `${name} must be 1 to 200 letters, digits or _ . : -, got ${JSON.stringify(value.slice(0, 40))}`,
      )
  }
  const prefetchText = flags.prefetch ?? env.ACTIONTRAIL_NOVA_PREFETCH ?? String(DEFAULT_PREFETCH)
  if (!/^\d{1,5}$/.test(prefetchText) || Number(prefetchText) < 1 || Number(prefetchText) > 65535)
    throw new AppError(
      'invalid_input',
      '--prefetch (ACTIONTRAIL_NOVA_PREFETCH) must be an integer from 1 to 65535, ' +
        `got ${JSON.stringify(prefetchText.slice(0, 40))}`,
    )
  return {
    url,
    exchange,
    queue,
    deadLetterQueue: `${queue}.dead`,
    prefetch: Number(prefetchText),
    routingKeys: VERSIONED_ROUTING_KEYS,
  }
}
