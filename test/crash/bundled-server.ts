/**
 * The real `actiontrail serve` as a child process that a test may SIGKILL and start again on the
 * same database. The CLI is bundled once per test process with esbuild (the transform tsx applies
 * on the fly), its dependencies included except the native SQLite driver, because the suite starts
 * the server dozens of times and loading modules is most of a start (a CPU profile: ~0.9 s of
 * ~1.5 s in the module loader). Measured on the loaded 2-core test machine, time to listen:
 * `bin/actiontrail.js` (tsx) 2.6–6.0 s, a bundle with external dependencies 1.0–3.3 s, the full
 * bundle 0.9–2.4 s.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { ROOT } from '../helpers/spawn-server.js'

/** A token with the `service` role (writes) and one with `admin` (reads everything). */
export const SERVICE_TOKEN = 'tok-crash-service'
/** Admin token of the token file written by {@link makeWorkDir}. */
export const ADMIN_TOKEN = 'tok-crash-admin'

/** A test's temporary directory (its database, the token file) and the bundled CLI. */
export interface WorkDir {
  dir: string
  /** The bundled CLI entry. */
  cli: string
  /** The token file (mode 0600). */
  tokens: string
  remove(): void
}

let bundled: Promise<string> | undefined

/**
 * The bundled CLI, built once per test process into a temporary directory that is removed when
 * the process exits. The directory gets a `node_modules` link to the checkout's, so the native
 * driver resolves.
 */
function bundledCli(): Promise<string> {
  bundled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-crash-cli-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const cli = join(dir, 'actiontrail.mjs')
    await build({
      absWorkingDir: ROOT,
      entryPoints: ['src/cli/main.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // The native driver is loaded from node_modules; pg-native is pg's optional native binding.
      external: ['better-sqlite3', 'pg-native'],
      // Bundled CommonJS packages call require() for Node's built-ins. The banner is raw text that
      // esbuild does not rename around, so its import has a name no module of the bundle uses
      // (a module importing `createRequire` itself made the bundle a SyntaxError).
      banner: {
        js:
          "import { createRequire as __bannerCreateRequire } from 'node:module'; " +
          'const require = __bannerCreateRequire(import.meta.url);',
      },
      outfile: cli,
      logLevel: 'warning',
    })
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    return cli
  })()
  return bundled
}

/** A fresh temporary directory with a token file (mode 0600), and the bundled CLI. */
export async function makeWorkDir(): Promise<WorkDir> {
  const cli = await bundledCli()
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-crash-'))
  const tokens = join(dir, 'tokens.json')
  writeFileSync(
    tokens,
    JSON.stringify({
      tokens: [
        { token: SERVICE_TOKEN, user_id: 'u-crash', project_id: 'p-crash', roles: ['service'] },
        { token: ADMIN_TOKEN, user_id: 'u-admin', project_id: 'p-admin', roles: ['admin'] },
      ],
    }),
    { mode: 0o600 },
  )
  return { dir, cli, tokens, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A running server process. */
export interface ServerProcess {
  url: string
  /** Everything it wrote to stdout and stderr. */
  output(): string
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>
  /** SIGTERM (a clean shutdown); resolves once the process is gone. */
  stop(): Promise<void>
  process: ChildProcess
}

function exitOf(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  return exited
}

/** Starts `serve` on `database`; resolves once it listens (rejects with its output if it exits). */
export async function startServer(work: WorkDir, database: string): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      work.cli,
      'serve',
      '--db',
      database,
      '--tokens',
      work.tokens,
      '--port',
      '0',
      '--log-level',
      'warn',
    ],
    {
      cwd: work.dir,
      env: {
        ...process.env,
        ACTIONTRAIL_LOG_KEY: 'crash-key',
        // A two-chunk batch on a server database, retried after a dropped connection, took up to
        // 92 s on the loaded test machine (load average 27): more than 120 s would be cut by the
        // default idle timeout, which is not what these suites test.
        ACTIONTRAIL_IDLE_TIMEOUT_MS: '600000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')))
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server did not start within 60 s:\n${output}`))
    }, 60_000)
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(output)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
  return {
    url,
    output: () => output,
    kill: () => exitOf(child, 'SIGKILL'),
    stop: () => exitOf(child, 'SIGTERM'),
    process: child,
  }
}
