/**
 * Where the client commands find the server and the token: `--url` / `--token`, else
 * ACTIONTRAIL_URL / ACTIONTRAIL_TOKEN (a flag wins). The token is only ever sent in the
 * `X-Auth-Token` header; no message of the CLI contains it.
 */
import type { Command } from 'commander'
import { usageError } from '../cli-error.js'

/** The server the client commands talk to. */
export interface Connection {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8774`. */
  url: string
  token: string
}

/** The flags every client command has. */
export interface ConnectionFlags {
  url?: string
  token?: string
}

/** Adds `--url` and `--token` to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option(
      '--url <url>',
      'ActionTrail server (env ACTIONTRAIL_URL, default http://127.0.0.1:8774)',
    )
    .option('--token <token>', 'X-Auth-Token to send (env ACTIONTRAIL_TOKEN)')
}

/** Resolves flags and environment into a Connection; a missing token or bad URL is a usage error. */
export function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const raw = flags.url ?? (env.ACTIONTRAIL_URL || 'http://127.0.0.1:8774')
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw usageError(`--url is not a URL: ${JSON.stringify(raw)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw usageError(`--url must be http:// or https://, not ${parsed.protocol}`)
  // Credentials in the URL would end up in error messages: refuse them rather than print them.
  if (parsed.username || parsed.password)
    throw usageError('--url must not contain credentials; use --token or ACTIONTRAIL_TOKEN')
  const token = flags.token ?? env.ACTIONTRAIL_TOKEN ?? ''
  if (token === '') throw usageError('no token: pass --token or set ACTIONTRAIL_TOKEN')
  // What a header can carry (and the server's token rule); checked here because fetch's own
  // refusal quotes the value, i.e. the token.
  if (!/^[\x21-\x7e]+$/.test(token))
    throw usageError('the token has characters other than printable ASCII (0x21-0x7e)')
  const url = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`
  return { url, token }
}
