/**
 * A real nova-api for a test file: scripts/nova-test-server.sh (Debian's python3-nova, SQLite,
 * noauth2) in a temporary directory on a free port, filled with the fixed data set of
 * scripts/nova-test-server.py. Installs nothing: without the package the suites are skipped
 * loudly, and with ACTIONTRAIL_REQUIRE_BACKENDS=1 (CI) they fail instead. Starting takes 15–30 s
 * (Nova's migrations), so each file starts one and shares it. Given a test Keystone, nova-api
 * checks tokens with keystonemiddleware against it instead of noauth2.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REQUIRE_BACKENDS } from './backends.js'
import { ROOT } from './spawn-server.js'
import { freePort } from './free-port.js'

/** Why the Nova suites cannot run here, or undefined when they can. */
export function novaProblem(): string | undefined {
  const found = spawnSync('/usr/bin/python3', ['-c', 'import nova.api.openstack'], {
    encoding: 'utf8',
  })
  if (found.status === 0) return undefined
  return 'python3-nova is not installed (apt-get install --no-install-recommends python3-nova)'
}

/** The `skip` option of a Nova suite: false when Nova can run (or CI requires it), else the reason. */
export function novaSkip(): string | false {
  const problem = novaProblem()
  if (!problem || REQUIRE_BACKENDS) return false
  console.error(`\n*** ${problem}: the Nova suites are SKIPPED ***\n`)
  return problem
}

/** noauth2's admin token ("user:project"; user admin is an administrator). */
export const NOVA_ADMIN_TOKEN = 'admin:admin'

/** A test Keystone for nova-api's keystonemiddleware: its v3 URL and bootstrap admin's password. */
export interface NovaKeystone {
  url: string
  adminPassword: string
}

/** A server of the fixture, as the script reports it. */
export interface NovaFixtureServer {
  uuid: string
  name: string
  project: string
  deleted: boolean
  actions: number
}

/** A running test nova-api. */
export class LocalNova {
  /** `http://127.0.0.1:PORT/v2.1`, the compute endpoint. */
  readonly url: string
  /** The servers of the data set (deleted ones included). */
  servers: NovaFixtureServer[] = []
  readonly #dir: string
  readonly #port: number
  #child: ChildProcess | undefined
  #output = ''

  private constructor(dir: string, port: number) {
    this.#dir = dir
    this.#port = port
    this.url = `http://127.0.0.1:${port}/v2.1`
  }

  /** Builds the databases and starts nova-api (noauth2, or keystonemiddleware with `keystone`). */
  static async start(keystone?: NovaKeystone): Promise<LocalNova> {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-nova-'))
    const nova = new LocalNova(dir, await freePort())
    await nova.#run(keystone)
    return nova
  }

  async #run(keystone: NovaKeystone | undefined): Promise<void> {
    const env = keystone
      ? {
          ...process.env,
          NOVA_TEST_KEYSTONE_URL: keystone.url,
          NOVA_TEST_KEYSTONE_PASSWORD: keystone.adminPassword,
        }
      : process.env
    const child = spawn(
      'bash',
      [join(ROOT, 'scripts', 'nova-test-server.sh'), this.#dir, String(this.#port)],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    )
    this.#child = child
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => {
      // Nova is chatty (deprecation warnings); keep the tail for a failure message.
      this.#output = (this.#output + d.toString('utf8')).slice(-8000)
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nova-api did not start:\n${this.#output}`)),
        180_000,
      )
      const check = () => {
        const line = stdout.split('\n').find((l) => l.startsWith('{"nova"'))
        if (line) {
          clearTimeout(timer)
          child.stdout.off('data', check)
          child.off('exit', exited)
          this.servers = (JSON.parse(line) as { servers: NovaFixtureServer[] }).servers
          resolve()
        }
      }
      const exited = (code: number | null) => {
        clearTimeout(timer)
        reject(new Error(`nova-api exited with ${code}:\n${this.#output}`))
      }
      child.stdout.on('data', check)
      child.once('exit', exited)
    })
  }

  /** A GET as Nova's admin at `version`; status and parsed body. */
  async get(path: string, version: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.url}${path}`, {
      headers: {
        'x-auth-token': NOVA_ADMIN_TOKEN,
        'openstack-api-version': `compute ${version}`,
        accept: 'application/json',
      },
    })
    const text = await res.text()
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined }
  }

  /** Stops nova-api and removes its directory. */
  async close(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
