/**
 * bench:scale's http column client: a child process that sends GET requests on one keep-alive
 * connection, one at a time, and times them.
 *
 * A process of its own because the client's pauses are part of what it measures: in the bench's
 * own process, whose heap holds the history, the recordings and the in-process app (whose
 * `app.inject` answers survive young-generation collections), the client's scavenges took a median
 * 3.9 ms and put 10–13 ms into the http p99 of queries whose p99 from a bare client process was
 * 6 ms (session 14, docs/benchmarks.md). Here the client holds nothing but its timings.
 */
import { fork, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { send } from './load.js'

/** How one line is timed: as bench:scale's own timer does (warm-up, runs, time limit). */
export interface HttpTiming {
  runs: number
  warmup: number
  /** Stop the measured runs after this long, once `minRuns` are done. */
  lineMs: number
  minRuns: number
}

/** The client process. */
export interface HttpTimer {
  /** One GET: status and body text. */
  get(path: string, token: string): Promise<{ status: number; body: string }>
  /** Sorted latencies in ms of GETs cycling over `paths` (every answer must be 200). */
  time(paths: readonly string[], token: string, timing: HttpTiming): Promise<number[]>
  close(): Promise<void>
}

type Ask =
  | { kind: 'get'; path: string; token: string }
  | { kind: 'time'; paths: readonly string[]; token: string; timing: HttpTiming }
type Request = Ask & { id: number }
type Answer = { id: number; error?: string; status?: number; body?: string; times?: number[] }

/** Starts the client process for the server at `baseUrl`. */
export function startHttpTimer(baseUrl: string): HttpTimer {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child', baseUrl], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let next = 0
  const waiting = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>()
  child.on('message', (a: Answer) => {
    const w = waiting.get(a.id)
    waiting.delete(a.id)
    if (a.error !== undefined) w?.reject(new Error(a.error))
    else w?.resolve(a)
  })
  child.once('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`http timer exited with ${code}`))
    waiting.clear()
  })
  const ask = (r: Ask) =>
    new Promise<Answer>((resolve, reject) => {
      const id = next++
      waiting.set(id, { resolve, reject })
      child.send({ ...r, id })
    })
  return {
    get: async (path, token) => {
      const a = await ask({ kind: 'get', path, token })
      return { status: a.status ?? 0, body: a.body ?? '' }
    },
    time: async (paths, token, timing) =>
      (await ask({ kind: 'time', paths, token, timing })).times ?? [],
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

function serve(baseUrl: string): void {
  const base = new URL(baseUrl)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = (path: string, token: string) =>
    send(agent, base, { method: 'GET', path, headers: { 'x-auth-token': token } })
  const time = async (paths: readonly string[], token: string, t: HttpTiming) => {
    const once = async (i: number) => {
      const res = await get(paths[i % paths.length] as string, token)
      if (res.status !== 200) throw new Error(`http ${res.status}: ${res.body.slice(0, 300)}`)
    }
    const started = performance.now()
    for (let i = 0; i < t.warmup && performance.now() - started < t.lineMs / 10; i++)
      await once(i + t.runs)
    const measured = performance.now()
    const out: number[] = []
    for (let i = 0; i < t.runs && (i < t.minRuns || performance.now() - measured < t.lineMs); i++) {
      const t0 = performance.now()
      await once(i)
      out.push(performance.now() - t0)
    }
    return out.sort((a, b) => a - b)
  }
  process.on('message', (r: Request) => {
    const work =
      r.kind === 'get'
        ? get(r.path, r.token).then((res) => ({ id: r.id, ...res }))
        : time(r.paths, r.token, r.timing).then((times) => ({ id: r.id, times }))
    work.then(
      (a: Answer) => process.send?.(a),
      (err: unknown) => process.send?.({ id: r.id, error: String(err) } satisfies Answer),
    )
  })
  process.once('SIGTERM', () => {
    agent.destroy()
    process.exit(0)
  })
}

const at = process.argv.indexOf('--child')
if (at !== -1 && process.send) serve(process.argv[at + 1] as string)
