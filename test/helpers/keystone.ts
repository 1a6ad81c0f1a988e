/**
 * A real Keystone for a test file: scripts/keystone-test-server.sh (Debian's python3-keystone,
 * SQLite, fernet tokens) in a temporary directory on a free port, with REST helpers to create
 * projects, users and role grants, log in, and revoke. Installs nothing: without the package the
 * suites are skipped loudly, and with ACTIONTRAIL_REQUIRE_BACKENDS=1 (CI) they fail instead.
 * Starting takes 15–30 s (four keystone-manage runs), so each file starts one and shares it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './spawn-server.js'
import { REQUIRE_BACKENDS } from './backends.js'
import { freePort } from './free-port.js'

/** Why the Keystone suites cannot run here, or undefined when they can. */
export function keystoneProblem(): string | undefined {
  const found = spawnSync('/usr/bin/python3', ['-c', 'import keystone'], { encoding: 'utf8' })
  const manage = spawnSync('sh', ['-c', 'command -v keystone-manage'], { encoding: 'utf8' })
  if (found.status === 0 && manage.status === 0) return undefined
  return 'python3-keystone is not installed (apt-get install --no-install-recommends python3-keystone)'
}

/**
 * The `skip` option of a Keystone suite: false when Keystone can run (or CI requires it), else the
 * reason, printed loudly once.
 */
export function keystoneSkip(): string | false {
  const problem = keystoneProblem()
  if (!problem || REQUIRE_BACKENDS) return false
  console.error(`\n*** ${problem}: the Keystone suites are SKIPPED ***\n`)
  return problem
}

/** The admin password the script gives the bootstrap admin. */
export const KEYSTONE_ADMIN_PASSWORD = 'admin-secret'

/** A running test Keystone. */
export class LocalKeystone {
  /** `http://127.0.0.1:PORT/v3` */
  readonly url: string
  readonly #dir: string
  readonly #port: number
  readonly #expiration: number
  #child: ChildProcess | undefined
  #output = ''

  private constructor(dir: string, port: number, expiration: number) {
    this.#dir = dir
    this.#port = port
    this.#expiration = expiration
    this.url = `http://127.0.0.1:${port}/v3`
  }

  /** Initialises and starts Keystone; `expiration` is the token lifetime in seconds. */
  static async start(expiration = 3600): Promise<LocalKeystone> {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-keystone-'))
    const ks = new LocalKeystone(dir, await freePort(), expiration)
    await ks.resume()
    return ks
  }

  /** Starts the server again after `stop` (same database and keys: issued tokens stay valid). */
  async resume(): Promise<void> {
    const child = spawn(
      'bash',
      [
        join(ROOT, 'scripts', 'keystone-test-server.sh'),
        this.#dir,
        String(this.#port),
        String(this.#expiration),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KS_ADMIN_PASSWORD: KEYSTONE_ADMIN_PASSWORD },
      },
    )
    this.#child = child
    child.stdout.on('data', (d: Buffer) => (this.#output += d.toString('utf8')))
    child.stderr.on('data', (d: Buffer) => (this.#output += d.toString('utf8')))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`keystone did not start:\n${this.#output}`)),
        120_000,
      )
      const check = () => {
        if (this.#output.includes('keystone listening on')) {
          clearTimeout(timer)
          child.stdout.off('data', check)
          child.off('exit', exited)
          resolve()
        }
      }
      const exited = (code: number | null) => {
        clearTimeout(timer)
        reject(new Error(`keystone exited with ${code}:\n${this.#output}`))
      }
      child.stdout.on('data', check)
      child.once('exit', exited)
    })
  }

  /** Stops the server (SIGTERM, then waits for the exit). */
  async stop(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
  }

  /** Freezes the server (SIGSTOP): connections are accepted by the kernel, never answered. */
  freeze(): void {
    this.#child?.kill('SIGSTOP')
  }

  /** Lets a frozen server run again. */
  thaw(): void {
    this.#child?.kill('SIGCONT')
  }

  /** Stops the server and removes its directory. */
  async close(): Promise<void> {
    this.thaw()
    await this.stop()
    rmSync(this.#dir, { recursive: true, force: true })
  }

  /**
   * Logs in with a password; `scope` is a project name, `{ system: 'all' }` or none (unscoped).
   * Returns the token, or throws with the status.
   */
  async login(user: string, password: string, scope?: string | { system: 'all' }): Promise<string> {
    const auth: Record<string, unknown> = {
      identity: {
        methods: ['password'],
        password: { user: { name: user, domain: { id: 'default' }, password } },
      },
    }
    if (typeof scope === 'string')
      auth.scope = { project: { name: scope, domain: { id: 'default' } } }
    else if (scope) auth.scope = { system: { all: true } }
    const res = await fetch(`${this.url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth }),
    })
    await res.arrayBuffer()
    const token = res.headers.get('x-subject-token')
    if (res.status !== 201 || !token) throw new Error(`login of ${user} failed: ${res.status}`)
    return token
  }

  /** Revokes a token (its owner may: X-Auth-Token = X-Subject-Token). */
  async revoke(token: string): Promise<void> {
    const res = await fetch(`${this.url}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    })
    if (res.status !== 204) throw new Error(`revoke failed: ${res.status}`)
  }

  /** An admin REST call; returns the parsed body. */
  async admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    // A new admin token each time: the suites run Keystone with short-lived tokens.
    const admin = await this.login('admin', KEYSTONE_ADMIN_PASSWORD, 'admin')
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? (JSON.parse(text) as Record<string, unknown>) : {}
  }

  /** Creates a project; returns its id. */
  async createProject(name: string): Promise<string> {
    const out = await this.admin('POST', '/projects', {
      project: { name, domain_id: 'default', enabled: true },
    })
    return (out.project as { id: string }).id
  }

  /** Creates a user with `role` on `projectId`; returns the user's id. */
  async createUser(
    name: string,
    password: string,
    projectId: string,
    role: string,
  ): Promise<string> {
    const out = await this.admin('POST', '/users', {
      user: { name, domain_id: 'default', enabled: true, password, default_project_id: projectId },
    })
    const userId = (out.user as { id: string }).id
    await this.admin(
      'PUT',
      `/projects/${projectId}/users/${userId}/roles/${await this.roleId(role)}`,
    )
    return userId
  }

  /** The id of a role, created when missing. */
  async roleId(name: string): Promise<string> {
    const found = (await this.admin('GET', `/roles?name=${encodeURIComponent(name)}`)).roles as {
      id: string
    }[]
    if (found[0]) return found[0].id
    return ((await this.admin('POST', '/roles', { role: { name } })).role as { id: string }).id
  }

  /**
   * What Keystone says of `token` (validated with an admin token): its user's and project's
   * names, or undefined when Keystone does not know it (revoked, expired, garbage).
   */
  async tokenScope(
    token: string,
  ): Promise<{ user: string; project: string | undefined } | undefined> {
    const admin = await this.login('admin', KEYSTONE_ADMIN_PASSWORD, 'admin')
    const res = await fetch(`${this.url}/auth/tokens?nocatalog`, {
      headers: { 'x-auth-token': admin, 'x-subject-token': token },
    })
    const text = await res.text()
    if (res.status === 404) return undefined
    if (res.status !== 200) throw new Error(`token validation: ${res.status}`)
    const body = JSON.parse(text) as {
      token: { user: { name: string }; project?: { name: string } }
    }
    return { user: body.token.user.name, project: body.token.project?.name }
  }

  /**
   * Registers `url` as the public and internal `compute` endpoint, so clients find it in the
   * catalog; returns the service's id.
   */
  async registerCompute(url: string): Promise<string> {
    const service = await this.admin('POST', '/services', {
      service: { type: 'compute', name: 'nova', enabled: true },
    })
    const serviceId = (service.service as { id: string }).id
    for (const iface of ['public', 'internal']) {
      await this.admin('POST', '/endpoints', {
        endpoint: {
          service_id: serviceId,
          interface: iface,
          url,
          region_id: 'RegionOne',
          enabled: true,
        },
      })
    }
    return serviceId
  }
}
