/**
 * The body of the follower's AMQP thread (started by follower-thread.ts): the NovaFollower itself —
 * connection, deliveries, batching, acks, dead-lettering, reconnects — with a handler that hands
 * each batch to the thread owning the store (handler-bridge.ts). What it logs goes to that thread's
 * logger; its counters and whether it is consuming are posted whenever they change.
 * @module
 */
import { isDeepStrictEqual } from 'node:util'
import { parentPort, workerData } from 'node:worker_threads'
import { remoteHandler } from './handler-bridge.js'
import { NovaFollower, type FollowerLog } from './nova-follower.js'
import type { FollowSettings } from './follow-settings.js'
import type { FollowCounters } from './follow-counters.js'

/** What the thread is started with. */
export interface FollowerThreadData {
  settings: FollowSettings
  statsIntervalMs?: number
}

/** What the thread posts besides the bridge's batches. */
export type FollowerThreadMessage =
  | { kind: 'log'; level: 'info' | 'warn'; args: [unknown, ...unknown[]] }
  | { kind: 'status'; counters: FollowCounters; consuming: boolean }
  | { kind: 'stopped' }

/** What the thread is told: stop (let the batches being handled finish, then close). */
export type FollowerThreadCommand = { kind: 'stop' }

// How often the counters are looked at: metrics scrapes and the periodic log read the last posted.
const STATUS_MS = 50

const port = parentPort
if (port) {
  const data = workerData as FollowerThreadData
  const post = (message: FollowerThreadMessage) => port.postMessage(message)
  const logger: FollowerLog = {
    info: (...args: [unknown, ...unknown[]]) => post({ kind: 'log', level: 'info', args }),
    warn: (...args: [unknown, ...unknown[]]) => post({ kind: 'log', level: 'warn', args }),
  }
  const follower = new NovaFollower({
    settings: data.settings,
    handler: remoteHandler(port),
    logger,
    ...(data.statsIntervalMs !== undefined ? { statsIntervalMs: data.statsIntervalMs } : {}),
  })
  let last: { counters: FollowCounters; consuming: boolean } | undefined
  const status = () => {
    const now = { counters: follower.counters, consuming: follower.consuming }
    if (last && isDeepStrictEqual(now, last)) return
    last = now
    post({ kind: 'status', ...now })
  }
  const timer = setInterval(status, STATUS_MS)
  port.on('message', (command: FollowerThreadCommand | { kind: string }) => {
    if (command.kind !== 'stop') return
    void follower.stop().finally(() => {
      clearInterval(timer)
      status()
      post({ kind: 'stopped' })
      port.close()
    })
  })
  follower.start()
}
