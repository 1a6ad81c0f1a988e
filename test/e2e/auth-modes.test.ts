/**
 * The static and no-auth modes through the real `actiontrail` command: a token file holding only
 * SHA-256 digests (made with `actiontrail token hash`), reloaded on SIGHUP, a broken file that
 * keeps the tokens in use; and the no-auth development mode, refused off loopback, announced at
 * start and on every response.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { spawnSync } from 'node:child_process'
import { ROOT, spawnServe, type RunningServe } from '../helpers/spawn-server.js'

const run = promisify(execFile)
const HAS_OPENSTACK =
  spawnSync('sh', ['-c', 'command -v openstack'], { encoding: 'utf8' }).status === 0

const CLI = join(ROOT, 'bin', 'actiontrail.js')
const UNKNOWN = '/v2.1/servers/99999999-8888-4777-8666-555555555555/os-instance-actions'

function dataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-auth-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs `actiontrail serve` with args and env; resolves with its URL, or rejects with its output. */
function serve(
  t: TestContext,
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningServe> {
  return spawnServe(t, ['--port', '0', '--db', join(dir, 'at.db'), ...args], {
    cwd: dir,
    env: { ACTIONTRAIL_LOG_KEY: 'k', ...env },
  })
}

async function status(url: string, token?: string): Promise<number> {
  const res = await fetch(`${url}${UNKNOWN}`, { headers: token ? { 'x-auth-token': token } : {} })
  await res.arrayBuffer()
  return res.status
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.fail(`never happened: ${what}`)
}

async function hashToken(token: string): Promise<string> {
  const child = execFile(process.execPath, [CLI, 'token', 'hash'])
  child.stdin?.end(`${token}\n`)
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')))
  const code = await new Promise((r) => child.once('exit', r))
  assert.equal(code, 0)
  return out.trim()
}

function writeTokens(path: string, entries: { token: string; roles: string[] }[]): void {
  const tokens = entries.map((e) => ({ ...e, user_id: 'u1', project_id: 'p1' }))
  writeFileSync(path, JSON.stringify({ tokens }))
  chmodSync(path, 0o600)
}

describe('static tokens', () => {
  test('a file of SHA-256 digests authenticates; SIGHUP reloads it; a broken file keeps the old', async (t) => {
    const dir = dataDir(t)
    const file = join(dir, 'tokens.json')
    const first = 'first-Token-4f1a'
    const hashed = await hashToken(first)
    assert.match(hashed, /^sha256:[0-9a-f]{64}$/)
    writeTokens(file, [{ token: hashed, roles: ['member'] }])
    const server = await serve(t, dir, ['--tokens', file])

    assert.equal(await status(server.url, first), 404) // authenticated: the server is unknown
    assert.equal(await status(server.url, hashed), 401) // the file's content is not a token
    assert.equal(await status(server.url, first.toUpperCase()), 401)

    const second = 'second-Token-9b2c'
    writeTokens(file, [{ token: second, roles: ['reader'] }])
    server.process.kill('SIGHUP')
    await eventually(async () => (await status(server.url, second)) === 404, 'reload')
    assert.equal(await status(server.url, first), 401)

    writeFileSync(file, '{"tokens": [{"token": "broken-Token-77"')
    server.process.kill('SIGHUP')
    await eventually(
      async () => server.output().includes('token file not reloaded'),
      'the broken file is reported',
    )
    assert.equal(await status(server.url, second), 404)
    for (const secret of [first, second, 'broken-Token-77']) {
      assert.ok(!server.output().includes(secret), 'a token reached the output')
    }
  })

  test('token hash refuses empty input', async () => {
    const child = execFile(process.execPath, [CLI, 'token', 'hash'])
    child.stdin?.end('')
    assert.equal(await new Promise((r) => child.once('exit', r)), 2)
  })
})

describe('noauth development mode', () => {
  test('refused unless listening on loopback', async (t) => {
    const dir = dataDir(t)
    await assert.rejects(
      serve(t, dir, ['--host', '0.0.0.0'], { ACTIONTRAIL_AUTH: 'noauth' }),
      /refused on "0\.0\.0\.0".*loopback/s,
    )
  })

  test('user:project tokens, admin for `admin`, announced at start and on every response', async (t) => {
    const dir = dataDir(t)
    const server = await serve(t, dir, ['--host', '127.0.0.1'], { ACTIONTRAIL_AUTH: 'noauth' })
    assert.match(server.output(), /AUTHENTICATION IS OFF/)
    const health = await fetch(`${server.url}/healthz`)
    assert.equal(health.headers.get('x-actiontrail-auth'), 'noauth')
    const anonymous = await fetch(`${server.url}${UNKNOWN}`)
    assert.equal(anonymous.status, 401)
    assert.equal(anonymous.headers.get('x-actiontrail-auth'), 'noauth')
    assert.equal(await status(server.url, 'no-colon'), 401)

    const write = (token: string) =>
      fetch(`${server.url}/v1/instances/0a1b2c3d-0000-4000-8000-00000000000a`, {
        method: 'PUT',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'vm', project_id: 'p1', user_id: 'u1' }),
      })
    const member = await write('alice:p1')
    assert.equal(member.status, 403)
    assert.equal(member.headers.get('x-actiontrail-auth'), 'noauth')
    const admin = await write('admin:p1')
    assert.ok(admin.status < 300, `admin write answered ${admin.status}`)
    // The member sees the instance of their own project; another project's member does not.
    const read = async (token: string) => {
      const res = await fetch(
        `${server.url}/v2.1/servers/0a1b2c3d-0000-4000-8000-00000000000a/os-instance-actions`,
        { headers: { 'x-auth-token': token } },
      )
      await res.arrayBuffer()
      return res.status
    }
    assert.equal(await read('alice:p1'), 200)
    assert.equal(await read('bob:p2'), 404)
  })

  test(
    'the real openstack client lists events with a user:project token',
    { skip: !HAS_OPENSTACK && 'openstack CLI not installed' },
    async (t) => {
      const dir = dataDir(t)
      const server = await serve(t, dir, ['--host', '127.0.0.1'], { ACTIONTRAIL_AUTH: 'noauth' })
      const uuid = '0a1b2c3d-0000-4000-8000-00000000000b'
      const post = async (path: string, method: string, body: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { 'x-auth-token': 'admin:p1', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
        assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${await res.text()}`)
      }
      await post(`/v1/instances/${uuid}`, 'PUT', { name: 'vm', project_id: 'p1', user_id: 'u1' })
      await post(`/v1/instances/${uuid}/actions`, 'POST', {
        action: 'reboot',
        request_id: 'req-11111111-2222-4333-8444-555555555555',
        user_id: 'u1',
        project_id: 'p1',
      })
      // noauth believes the token as it stands; the client sends it as any token.
      const list = (token: string) =>
        run('openstack', [
          '--os-auth-type',
          'admin_token',
          '--os-endpoint',
          `${server.url}/v2.1`,
          `--os-token=${token}`,
          'server',
          'event',
          'list',
          uuid,
          '-f',
          'json',
        ])
      const rows = JSON.parse((await list('alice:p1')).stdout) as Record<string, string>[]
      assert.deepEqual(
        rows.map((r) => [r['Request ID'], r.Action]),
        [['req-11111111-2222-4333-8444-555555555555', 'reboot']],
      )
      await assert.rejects(list('bob:p2'), /could not be found\. \(HTTP 404\)/)
    },
  )
})
