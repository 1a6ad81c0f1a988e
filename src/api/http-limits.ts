/**
 * Limits on HTTP connections, so that no client can hold the server's sockets: how long a client
 * may take to send its headers and its whole request, how long an idle keep-alive connection and
 * a silent socket stay open, and how many connections are held at once. Node's own defaults let a
 * client that sends one byte every 20 s keep its connection forever (issue 9). Measured before
 * these limits: a connection that sent nothing lived 90 s (Node's 60 s headers timeout, checked
 * every 30 s); a body trickling in at one byte per 5 s, and the same upload after its 401, were
 * still open after 150 s (Fastify's request timeout is off by default). With the defaults below:
 * the silent connection is closed after 10.0 s, headers trickling in after 11.0 s.
 */
import type { Server } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'

/** The connection limits of one server (`serve` flags / `ACTIONTRAIL_*` variables, in config.ts). */
export interface HttpLimits {
  /**
   * The whole header section must arrive within this time from the connection's first byte (or
   * from the previous answer on a kept-alive connection); a connection that sends nothing at all
   * is closed after it too. Answered 408.
   */
  headersTimeoutMs: number
  /** Headers and body must arrive within this time; answered 408. At least headersTimeoutMs. */
  requestTimeoutMs: number
  /** An idle kept-alive connection is closed after this time. */
  keepAliveTimeoutMs: number
  /**
   * A connection on which nothing moves in either direction for this time is closed without an
   * answer: a client that stops reading its answer. Paused while the server works on a request
   * (plugins/busy-connection.ts), so a slow batch is never cut.
   */
  idleTimeoutMs: number
  /** Connections beyond this many are closed as soon as they are accepted. */
  maxConnections: number
  /**
   * On SIGTERM/SIGINT, how long requests and commits in flight may take to finish before the
   * process exits anyway (graceful-shutdown.ts).
   */
  drainTimeoutMs: number
}

/**
 * Defaults. Headers: 10 s — a real client sends them in one write. Whole request: 60 s, which
 * lets the largest body (a 32 MiB batch) through at about 4.5 Mbit/s; slower links raise it.
 * Keep-alive: 5 s, Node's own default (Fastify's 72 s would let idle sockets pile up). Idle:
 * 120 s, twice the request timeout. Cap: 1000
 * connections — far above what one process serves well, far below any file-descriptor limit.
 */
export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxConnections: 1000,
  drainTimeoutMs: 10_000,
}

/**
 * Node checks the header and request deadlines on a timer (default every 30 s, so a 10 s
 * timeout could take 40 s); checking every tenth of the shorter timeout (10 ms to 1 s) makes a
 * deadline late by at most 10 %, for a walk over at most maxConnections sockets each time.
 */
function checkingIntervalMs(limits: HttpLimits): number {
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
  return Math.min(1000, Math.max(10, Math.floor(shortest / 10)))
}

/** Fastify's constructor options for the limits (all but the cap; see applyConnectionCap). */
export function fastifyLimitOptions(limits: HttpLimits): {
  requestTimeout: number
  connectionTimeout: number
  keepAliveTimeout: number
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number }
} {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Also here: Node checks headersTimeout <= requestTimeout when it creates the server.
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
  }
}

// One warning per minute at most while connections are being refused: an attack must not turn
// into a flood of log lines.
const DROP_WARNING_INTERVAL_MS = 60_000

/**
 * Caps the server's connections; a refused connection is closed at once, without an answer (Node
 * drops it before any byte is read). Refusals are logged as a count, at most once a minute.
 */
export function applyConnectionCap(
  server: Server,
  limits: HttpLimits,
  log: FastifyBaseLogger,
): void {
  server.maxConnections = limits.maxConnections
  let dropped = 0
  let lastWarning = -Infinity
  server.on('drop', () => {
    dropped += 1
    const now = performance.now()
    if (now - lastWarning < DROP_WARNING_INTERVAL_MS) return
    log.warn(
      { refused: dropped, maxConnections: limits.maxConnections },
      'connection cap reached: refusing connections',
    )
    lastWarning = now
    dropped = 0
  })
}
