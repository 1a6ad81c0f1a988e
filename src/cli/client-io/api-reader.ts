/**
 * The client commands' HTTP reader: GET a `/v1` path as JSON through the package's own
 * HttpTransport (timeouts, a couple of retries on 503/network failures), and turn its failures
 * into one-line CliErrors: the server's `error.message` with the status for API errors (saying
 * so for 401/403), "cannot reach <url>: …" when no answer came. The token never appears in them.
 */
import { ClientHttpError, ClientNetworkError } from '../../client/client-errors.js'
import { describeThrown } from '../../client/failure-kind.js'
import { HttpTransport } from '../../client/transport.js'
import { CliError, EXIT } from '../cli-error.js'
import type { Connection } from './connection.js'

/** Reads JSON from one server with one token. */
export interface ApiReader {
  /** GETs `path` (with its query string) and returns the parsed JSON body of a 2xx answer. */
  get(path: string): Promise<unknown>
}

/** Builds the one-line message of an API error answer (also used by the stream follower). */
export function apiErrorMessage(status: number, message: string): string {
  if (status === 401)
    return `authentication failed (401): ${message} (check --token / ACTIONTRAIL_TOKEN)`
  if (status === 403) return `permission denied (403): ${message}`
  return `${message} (HTTP ${status})`
}

/** Turns anything a request threw into a CliError whose message is safe to print. */
export function toCliError(err: unknown, url: string): CliError {
  if (err instanceof CliError) return err
  if (err instanceof ClientHttpError)
    return new CliError(apiErrorMessage(err.status, err.message), EXIT.api)
  if (err instanceof ClientNetworkError)
    return new CliError(`cannot reach ${url}: ${describeThrown(err.cause)}`, EXIT.unreachable)
  // The transport's own messages name only the request's label; anything else prints its class,
  // never its message, which for fetch may quote header values (the token).
  const what = err instanceof Error ? err.name : typeof err
  return new CliError(`request to ${url} failed (${what})`, EXIT.unreachable)
}

/** An ApiReader over HttpTransport. */
export function createApiReader(connection: Connection, timeoutMs = 30_000): ApiReader {
  const transport = new HttpTransport({
    baseUrl: connection.url,
    token: connection.token,
    timeoutMs,
    retries: 2,
    userAgent: 'actiontrail-cli',
  })
  return {
    async get(path) {
      try {
        const answer = await transport.send({ label: 'query', method: 'GET', path })
        return answer.body
      } catch (err) {
        throw toCliError(err, connection.url)
      }
    },
  }
}
