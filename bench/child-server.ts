/** Starts a server script in a child process (its own core) and waits for its URL. */
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A running child server. */
export interface ChildServer {
  url: string
  /** The child's process id (its memory is read from /proc by bench:freeze). */
  pid: number
  stop(): Promise<void>
}

/**
 * Extra node options of the child server, for profiling it (`BENCH_SERVER_NODE_ARGS='--cpu-prof
 * --cpu-prof-dir=/tmp/prof'`: node refuses --cpu-prof in NODE_OPTIONS, and the child is the
 * server whose time is measured, not the bench client).
 */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)

/** Spawns `node <args>` and resolves when it prints `listening on http://…`. */
export function startChildServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, [...SERVER_NODE_ARGS, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString('utf8')
      const m = /listening on (http:\/\/[^\s]+)/.exec(output)
      if (m?.[1]) {
        child.stdout?.off('data', onData)
        resolve({
          url: m[1],
          pid: child.pid ?? 0,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done())
              child.kill('SIGTERM')
            }),
        })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)))
  })
}

/** One entry of the token file written for a benchmark's server. */
export interface BenchToken {
  token: string
  user_id: string
  project_id: string
  roles: string[]
}

/** Where `actiontrail serve` runs from, and what it is given. */
export interface ActionTrailOptions {
  /** A scratch directory: the token file goes there, and the SQLite file unless `db` is given. */
  dir: string
  tokens: BenchToken[]
  /** A database URL or file; `<dir>/bench.db` when absent. */
  db?: string
  /** Extra environment of the server (ACTIONTRAIL_* settings). */
  env?: Record<string, string>
}

/** Starts the checkout's `actiontrail serve` on a free port, logging warnings only. */
export function startActionTrail({
  dir,
  tokens,
  db,
  env = {},
}: ActionTrailOptions): Promise<ChildServer> {
  const tokenFile = join(dir, 'tokens.json')
  writeFileSync(tokenFile, JSON.stringify({ tokens }))
  const bin = join(new URL('..', import.meta.url).pathname, 'bin', 'actiontrail.js')
  return startChildServer(
    [
      bin,
      'serve',
      '--db',
      db ?? join(dir, 'bench.db'),
      '--tokens',
      tokenFile,
      '--port',
      '0',
      '--log-level',
      'warn',
    ],
    env,
  )
}
