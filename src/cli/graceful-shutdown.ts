/**
 * How `actiontrail serve` stops (issue 14). The first SIGTERM or SIGINT closes the server: it stops
 * accepting connections, answers new requests on open ones with 503, lets the requests in flight
 * finish (and with them their commits: a write is answered only after it committed), ends every
 * stream with a final `shutdown` event, stops the Nova follower after its notifications are
 * committed and acknowledged, closes the database, and exits 0. If that takes longer than the drain
 * timeout the process exits 1 anyway (an orchestrator would kill it soon after). A second signal
 * exits at once: an operator who presses Ctrl-C twice means it.
 *
 * Under an npm script (`npm start`), npm does not pass a SIGTERM it gets on to the script's
 * process: killing npm left the server listening, orphaned (seen with npm 11). So when npm started
 * it, the server also stops — the same way — once its parent is gone (it is re-parented: its
 * parent process id changes).
 */

/** What the shutdown needs of a running server. */
export interface Closable {
  close(): Promise<void>
  logger: { info(msg: string): void; error(msg: string): void; flush(): void }
}

/** Installs the SIGTERM/SIGINT handlers for `server`; `exit` is process.exit unless a test says. */
export function exitOnSignals(
  server: Closable,
  drainTimeoutMs: number,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.error(`${signal} again: exiting without waiting for requests in flight`)
      server.logger.flush()
      exit(1)
      return
    }
    stopping = true
    server.logger.info(`${signal}: finishing requests in flight (up to ${drainTimeoutMs} ms)`)
    const timer = setTimeout(() => {
      server.logger.error(`requests still in flight after ${drainTimeoutMs} ms: exiting anyway`)
      server.logger.flush()
      exit(1)
    }, drainTimeoutMs)
    timer.unref()
    server.close().then(
      () => {
        clearTimeout(timer)
        exit(0)
      },
      (err: unknown) => {
        clearTimeout(timer)
        server.logger.error(`shutdown failed: ${(err as Error).message}`)
        server.logger.flush()
        exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  if (process.env.npm_lifecycle_event !== undefined) {
    const parent = process.ppid
    const watch = setInterval(() => {
      if (process.ppid === parent) return
      clearInterval(watch)
      server.logger.info('the npm process that started the server is gone')
      onSignal('SIGTERM')
    }, PARENT_CHECK_MS)
    watch.unref()
  }
}

/** How often a server started by npm checks that npm is still there. */
const PARENT_CHECK_MS = 500
