/**
 * The Nova follower with its AMQP side on a thread of its own (follower-worker.ts) and its handler
 * on the calling thread, which owns the store (handler-bridge.ts).
 *
 * Why a thread: on SQLite a batch's transaction runs on the store's thread and blocks it, and
 * amqplib's work — reading frames, parsing them, acknowledging — ran on that same thread, between
 * transactions. On their own thread, deliveries are read and acknowledged while the store commits,
 * so the store's thread does only what the store alone would do (bench:follow; docs/benchmarks.md).
 *
 * The thread's failure is not the follower's end: its connection closes with it, so the broker
 * hands every unacknowledged message out again, and a new thread is started after a growing delay.
 * The counters add up across threads. Where no thread can be started, the follower runs on the
 * calling thread as before.
 */
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import type { NotificationHandler } from '../notifications/notification-handler.js'
import { backoffDelay } from './backoff.js'
import { zeroCounters, type FollowCounters } from './follow-counters.js'
import type { FollowSettings } from './follow-settings.js'
import type {
  FollowerThreadCommand,
  FollowerThreadData,
  FollowerThreadMessage,
} from './follower-worker.js'
import { serveHandler } from './handler-bridge.js'
import { NovaFollower } from './nova-follower.js'

/** A running follower, on a thread of its own or not. */
export interface Follower {
  /** What it has done since it started (a snapshot). */
  readonly counters: FollowCounters
  /** True while consuming. */
  readonly consuming: boolean
  /** Resolves when the follower is (again) consuming. */
  whenConsuming(): Promise<void>
  /** Stops: no new deliveries; waits for the notifications being handled; closes. */
  stop(): Promise<void>
}

/** Options of a follower thread. */
export interface FollowerThreadOptions {
  settings: FollowSettings
  handler: NotificationHandler
  logger: Logger
  /** How often the counters are logged (default 60 s; 0: never). */
  statsIntervalMs?: number
  /** Called with each thread started (tests stop one to see the next take over). */
  onThread?: (worker: Worker) => void
}

/**
 * Starts the thread. From the compiled package it is follower-worker.js beside this file; in a
 * checkout the sources run through tsx, which the thread registers first (as
 * db-import/cell-reader-thread.ts does).
 */
function startWorker(workerData: FollowerThreadData): Worker {
  const here = import.meta.url
  if (!here.endsWith('.ts'))
    return new Worker(new URL('./follower-worker.js', here), { workerData })
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./follower-worker.ts', here).href)
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${entry}) })`,
    { eval: true, workerData },
  )
}

function sum(a: FollowCounters, b: FollowCounters): FollowCounters {
  const out = zeroCounters()
  for (const key of Object.keys(out) as (keyof FollowCounters)[]) out[key] = a[key] + b[key]
  return out
}

/** Starts following on a thread of its own; falls back to this thread when none can start. */
export function startFollowerThread(options: FollowerThreadOptions): Follower {
  const { logger } = options
  const data: FollowerThreadData = {
    settings: options.settings,
    ...(options.statsIntervalMs !== undefined ? { statsIntervalMs: options.statsIntervalMs } : {}),
  }
  let worker: Worker | undefined
  let inThread: NovaFollower | undefined
  let stopping = false
  let stopped: Promise<void> | undefined
  /** Counters of the threads that ended, and of the current one. */
  let ended = zeroCounters()
  let current = zeroCounters()
  let consuming = false
  let waiters: (() => void)[] = []
  let failures = 0
  let restart: NodeJS.Timeout | undefined

  const fallBack = () => {
    logger.warn('nova follower: no thread of its own could start, following on this thread')
    inThread = new NovaFollower({
      settings: options.settings,
      handler: options.handler,
      logger,
      ...(options.statsIntervalMs !== undefined
        ? { statsIntervalMs: options.statsIntervalMs }
        : {}),
    })
    inThread.start()
    for (const resolve of waiters.splice(0)) void inThread.whenConsuming().then(resolve)
  }

  const launch = () => {
    let heard = false
    let w: Worker
    try {
      w = startWorker(data)
    } catch {
      fallBack()
      return
    }
    worker = w
    options.onThread?.(w)
    const unserve = serveHandler(w, options.handler)
    w.on('message', (message: FollowerThreadMessage | { kind: string }) => {
      heard = true
      const m = message as FollowerThreadMessage
      if (m.kind === 'log') {
        // The follower logs a message, or an object and a message (nova-follower.ts FollowerLog).
        const [first, message] = m.args
        if (typeof message === 'string') logger[m.level](first as object, message)
        else logger[m.level](String(first))
      } else if (m.kind === 'status') {
        current = m.counters
        consuming = m.consuming
        if (consuming) {
          failures = 0
          for (const resolve of waiters.splice(0)) resolve()
        }
      }
    })
    w.on('error', (err) => {
      logger.error(`nova follower: its thread failed (${err.message.slice(0, 200)})`)
    })
    w.on('exit', () => {
      unserve()
      worker = undefined
      consuming = false
      ended = sum(ended, current)
      current = zeroCounters()
      if (stopping) return
      if (!heard) {
        fallBack()
        return
      }
      // Its connection closed with it: the broker hands its unacknowledged messages out again.
      const delay = backoffDelay({ initialMs: 500, maxMs: 30_000 }, failures++)
      logger.warn(`nova follower: its thread stopped, starting another in ${Math.round(delay)} ms`)
      restart = setTimeout(launch, delay)
    })
  }
  launch()

  return {
    get counters() {
      return inThread ? sum(ended, inThread.counters) : sum(ended, current)
    },
    get consuming() {
      return inThread ? inThread.consuming : consuming
    },
    whenConsuming() {
      if (inThread) return inThread.whenConsuming()
      if (consuming) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
    stop() {
      stopped ??= (async () => {
        stopping = true
        clearTimeout(restart)
        waiters = []
        const w = worker
        if (w) {
          const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()))
          w.postMessage({ kind: 'stop' } satisfies FollowerThreadCommand)
          await exited
        }
        await inThread?.stop()
      })()
      return stopped
    },
  }
}
