/**
 * Follows `GET /v1/stream` (Server-Sent Events, parsed by eventsource-parser) and keeps following
 * it: when the connection drops (server restart, proxy, network) it reconnects with exponential
 * backoff (from the server's `retry:` value, 1 s, doubling up to 30 s) and sends
 * `Last-Event-ID` = the last position it saw, so that nothing is missed or repeated; after an
 * `overflow` message it reconnects at once from its `resume_after`. A connection that delivers
 * nothing, not even the server's heartbeat comment, for IDLE_MS is treated as dropped (a dead
 * peer behind a silent network never closes the socket).
 *
 * Final failures reject with a CliError: the first connection finding no server (exit 3), or the
 * server refusing the request (400 bad filter, 401, 403: exit 1). A 5xx or a dropped connection
 * after the first success is retried for as long as the follower runs.
 */
import { createParser } from 'eventsource-parser'
import { ClientHttpError } from '../../client/client-errors.js'
import { describeThrown } from '../../client/failure-kind.js'
import { CliError, EXIT } from '../cli-error.js'
import { apiErrorMessage } from './api-reader.js'
import type { Connection } from './connection.js'

/** One change delivered by the stream. */
export interface StreamMessage {
  /** The change's position (decimal digits). */
  id: string
  /** `action` or `event`. */
  type: string
  /** The message's JSON data. */
  data: Record<string, unknown>
}

/** What followStream needs. */
export interface FollowOptions {
  connection: Connection
  /** The stream's filters (`instance`, `action`, `types`, …), without `after`. */
  params: URLSearchParams
  /** Start after this position (`--after`); undefined: from the server's current head. */
  after?: string
  onMessage: (message: StreamMessage) => void
  /** A line for the person watching (reconnects), printed on stderr. */
  onNotice: (text: string) => void
  /** Stops following (Ctrl-C); followStream then resolves. */
  signal: AbortSignal
  /** Longest wait between reconnects. Default 30000. */
  maxDelayMs?: number
  /** Silence after which a connection counts as dropped. Default 45000 (3 heartbeats). */
  idleMs?: number
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Refusals that will not change by trying again: the request itself is wrong. */
function isFinalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429
}

/** Follows the stream until `signal` aborts (resolves) or a final failure (rejects). */
export async function followStream(options: FollowOptions): Promise<void> {
  const { connection, signal } = options
  const maxDelayMs = options.maxDelayMs ?? 30_000
  const idleMs = options.idleMs ?? 45_000
  let lastId = options.after
  let baseDelayMs = 1000
  let delayMs = baseDelayMs
  let connectedOnce = false
  const url = `${connection.url}/v1/stream${options.params.size > 0 ? `?${options.params}` : ''}`

  while (!signal.aborted) {
    let resumeNow = false
    const attempt = new AbortController()
    let idleTimer: NodeJS.Timeout | undefined
    const touch = () => {
      clearTimeout(idleTimer)
      idleTimer = setTimeout(() => attempt.abort(), idleMs)
    }
    try {
      const headers: Record<string, string> = {
        accept: 'text/event-stream',
        'x-auth-token': connection.token,
        'user-agent': 'actiontrail-cli',
      }
      if (lastId !== undefined) headers['last-event-id'] = lastId
      touch()
      const response = await fetch(url, {
        headers,
        signal: AbortSignal.any([signal, attempt.signal]),
      })
      if (!response.ok) {
        const text = await response.text()
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          body = undefined
        }
        const error = ClientHttpError.fromAnswer(response.status, body, text)
        const message = apiErrorMessage(response.status, error.message)
        if (isFinalStatus(response.status)) throw new CliError(message, EXIT.api)
        options.onNotice(`stream refused: ${message}`)
      } else if (response.body) {
        connectedOnce = true
        const parser = createParser({
          onEvent(event) {
            // Any message proves the connection healthy: the next drop starts the backoff over.
            delayMs = baseDelayMs
            let data: Record<string, unknown>
            try {
              data = JSON.parse(event.data) as Record<string, unknown>
            } catch {
              options.onNotice('ignored a stream message that is not JSON')
              return
            }
            if (event.event === 'shutdown') {
              // The server is stopping (graceful shutdown): reconnect, after the position it gave.
              const resume = data.resume_after
              if (typeof resume === 'string' && /^\d+$/.test(resume)) lastId = resume
              options.onNotice(
                `the server is shutting down; resuming after ${lastId ?? 'the head'}`,
              )
              return
            }
            if (event.event === 'overflow') {
              const resume = data.resume_after
              if (typeof resume === 'string' && /^\d+$/.test(resume)) lastId = resume
              resumeNow = true
              options.onNotice(
                `too slow for the server (overflow); resuming after ${lastId ?? 'the head'}`,
              )
              return
            }
            if (event.id !== undefined) lastId = event.id
            options.onMessage({ id: event.id ?? '', type: event.event ?? 'message', data })
          },
          onRetry(ms) {
            baseDelayMs = ms
            delayMs = ms
          },
        })
        const reader = response.body.getReader()
        const decoder = new TextDecoder()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          touch()
          parser.feed(decoder.decode(value, { stream: true }))
        }
      }
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof CliError) throw err
      if (!connectedOnce)
        throw new CliError(
          `cannot reach ${connection.url}: ${describeThrown(err)}`,
          EXIT.unreachable,
        )
    } finally {
      clearTimeout(idleTimer)
    }
    if (signal.aborted) return
    if (resumeNow) continue
    options.onNotice(`stream interrupted; reconnecting in ${(delayMs / 1000).toFixed(1)} s`)
    await sleep(delayMs, signal)
    delayMs = Math.min(delayMs * 2, maxDelayMs)
  }
}
