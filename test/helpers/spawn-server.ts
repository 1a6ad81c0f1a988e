/**
 * Starts the real `actiontrail serve` as a child process on a free port and a temporary data
 * directory, and stops it after the test.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { TokenEntry } from '../../src/auth/token-file.js'
import { findLeaks } from './leak-scan.js'

/** Repository root. */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')

/** A server process started for a test. */
export interface SpawnedServer {
  url: string
  dataDir: string
  tokens: TokenEntry[]
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string
  process: ChildProcess
}

/**
 * The leaks in the JSON log lines of a server's output (its startup text prints the demo tokens
 * and paths to the operator on purpose, and is not scanned): the tokens, user and project ids of
 * its token file, and the patterns of test/helpers/leak-scan.ts.
 */
export function serverLogLeaks(output: string, tokens: readonly TokenEntry[]): string[] {
  const lines = output.split('\n').filter((line) => {
    if (!line.startsWith('{')) return false
    try {
      return typeof (JSON.parse(line) as { level?: unknown }).level === 'number'
    } catch {
      return false
    }
  })
  return findLeaks(
    lines.join('\n'),
    tokens.flatMap((e) => [e.token, e.user_id, e.project_id]),
  )
}

/** Options of spawnServe. */
export interface ServeOptions {
  /** Variables added to this process's environment (ACTIONTRAIL_LOG_KEY defaults to `e2e-key`). */
  env?: Record<string, string>
  /** The working directory of the server; this process's when absent. */
  cwd?: string
  /**
   * Runs on every `stop` (and so at the end of the test) once the process has exited, with its
   * output: where a test checks the log, e.g. for leaks.
   */
  onStop?: (output: string) => void | Promise<void>
}

/** An `actiontrail serve` process started by spawnServe. */
export interface RunningServe {
  url: string
  /** Sends SIGTERM and waits for the exit (nothing to wait for when it has exited), then onStop. */
  stop: () => Promise<void>
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string
  process: ChildProcess
}

/**
 * Runs `actiontrail serve` with args (give `--port 0` for a free port); resolves with its URL
 * once it prints `listening on`, and rejects with its output when it exits first or has not
 * started within 60 s. The test stops it at its end.
 */
export async function spawnServe(
  t: TestContext,
  args: string[],
  options: ServeOptions = {},
): Promise<RunningServe> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'actiontrail.js'), 'serve', ...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...process.env, ACTIONTRAIL_LOG_KEY: 'e2e-key', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')))
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    await options.onStop?.(output)
  }
  t.after(stop)
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
    child.stdout.on('data', () => {
      const m = /listening on (https?:\/\/[^\s]+)/.exec(output)
      if (m?.[1]) {
        clearTimeout(timer)
        resolveUrl(m[1])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code}:\n${output}`))
    })
  })
  return { url, stop, output: () => output, process: child }
}

/**
 * Runs `actiontrail serve --demo` with extra args (a later `--port N` wins over the default 0);
 * resolves once it prints its URL. The server
 * logs at trace level (unless the args say otherwise), and the test fails at its end when a log
 * line leaks (serverLogLeaks).
 */
export async function spawnDemoServer(
  t: TestContext,
  extraArgs: string[] = [],
  options: { dataDir?: string } = {},
): Promise<SpawnedServer> {
  // A given data directory (a restart on the same database) belongs to the caller, who removes it.
  const ownDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'actiontrail-e2e-'))
  let tokens: TokenEntry[] = []
  const server = await spawnServe(
    t,
    ['--demo', '--port', '0', '--db', join(dataDir, 'actiontrail.db'), ...extraArgs],
    {
      cwd: dataDir,
      env: { ACTIONTRAIL_LOG_LEVEL: 'trace' },
      onStop: (output) => {
        if (ownDir) rmSync(dataDir, { recursive: true, force: true })
        const leaks = serverLogLeaks(output, tokens)
        if (leaks.length > 0) throw new Error(`the server's log leaks:\n${leaks.join('\n')}`)
      },
    },
  )
  tokens = (
    JSON.parse(readFileSync(join(dataDir, 'tokens.json'), 'utf8')) as { tokens: TokenEntry[] }
  ).tokens
  return { url: server.url, dataDir, tokens, output: server.output, process: server.process }
}
