/**
 * `actiontrail import --from-nova-api` logged in at a real Keystone with a password, as an
 * operator with an openrc file does: a real Keystone (test/helpers/keystone.ts) and a real nova-api
 * that checks every token with keystonemiddleware against it (test/helpers/nova.ts), reached
 * through a recording proxy (test/helpers/recording-proxy.ts) registered as the compute endpoint
 * of Keystone's catalog, so the test sees which token each request carried and what Nova answered.
 *
 * Keystone issues tokens valid for TOKEN_SECONDS: an import slowed down by `--rate` outlives its
 * first token, which must then be renewed before Nova refuses it.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { freePort } from '../helpers/free-port.js'
import { KEYSTONE_ADMIN_PASSWORD, keystoneSkip, LocalKeystone } from '../helpers/keystone.js'
import { LocalNova, novaSkip } from '../helpers/nova.js'
import { recordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js'
import { runCli, startCli, type CliResult } from '../helpers/run-cli.js'

const skip = keystoneSkip() || novaSkip()
const TOKEN_SECONDS = 20
const PASSWORD = 'importer-secret'

describe(
  'import --from-nova-api with a Keystone login, against a real Keystone and nova-api',
  { skip },
  () => {
    let ks: LocalKeystone
    let nova: LocalNova
    let proxy: RecordingProxy
    let dir: string
    let computeId: string
    /** Every output of every run, searched for secrets at the end. */
    const outputs: string[] = []

    /** The openrc environment of the importer (an admin of project `ops`). */
    const openrc = (): Record<string, string> => ({
      OS_AUTH_URL: ks.url,
      OS_USERNAME: 'importer',
      OS_PASSWORD: PASSWORD,
      OS_PROJECT_NAME: 'ops',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
    })
    const servers = () => new RegExp(`: ${nova.servers.length} servers`)
    const run = async (args: string[], env: Record<string, string>): Promise<CliResult> => {
      const result = await runCli(['import', ...args], env)
      outputs.push(result.stdout, result.stderr)
      return result
    }
    const db = (name: string) => ['--db', join(dir, `${name}.db`)]

    before(async () => {
      ks = await LocalKeystone.start(TOKEN_SECONDS)
      const ops = await ks.createProject('ops')
      await ks.createUser('importer', PASSWORD, ops, 'admin')
      nova = await LocalNova.start({ url: ks.url, adminPassword: KEYSTONE_ADMIN_PASSWORD })
      proxy = await recordingProxy(new URL(nova.url).origin)
      computeId = await ks.registerCompute(`${proxy.origin}/v2.1`)
      dir = mkdtempSync(join(tmpdir(), 'actiontrail-nova-keystone-'))
    })

    after(async () => {
      await proxy?.close()
      await nova?.close()
      await ks?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
      // No token and no password in any output of any run.
      const text = outputs.join('\n')
      assert.ok(!text.includes(PASSWORD), 'the password was printed')
      for (const { token } of proxy?.seen ?? [])
        if (token) assert.ok(!text.includes(token), 'a token was printed')
    })

    test('openrc variables: login, nova-api from the catalog, import; the token is the project’s', async () => {
      const from = proxy.seen.length
      const checkpoint = join(dir, 'checkpoint.json')
      const result = await run(
        ['--from-nova-api', '--rate', '0', '--checkpoint', checkpoint, ...db('openrc')],
        openrc(),
      )
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, servers())
      const seen = proxy.seen.slice(from)
      assert.ok(seen.length > nova.servers.length)
      assert.ok(seen.every((r) => r.status === 200 || r.status === 404))
      // keystonemiddleware let every request in; Keystone confirms whose token it was.
      const tokens = [...new Set(seen.map((r) => r.token))]
      const last = tokens[tokens.length - 1]
      assert.ok(last)
      assert.deepEqual(await ks.tokenScope(last), { user: 'importer', project: 'ops' })
      // The checkpoint records the endpoint found in the catalog, and no token.
      const saved = readFileSync(checkpoint, 'utf8')
      assert.equal((JSON.parse(saved) as { url: string }).url, `${proxy.origin}/v2.1`)
      for (const token of tokens) assert.ok(token && !saved.includes(token))
    })

    test('a token that would expire mid-import is renewed before Nova refuses it', async () => {
      const from = proxy.seen.length
      // At 2 requests a second the import lasts longer than a whole token lifetime; the password
      // is on the command line here, and must not stay visible in the process's arguments.
      const child = startCli(
        [
          'import',
          '--from-nova-api',
          `${proxy.origin}/v2.1`,
          '--os-auth-url',
          ks.url,
          '--os-username',
          'importer',
          '--os-password',
          PASSWORD,
          '--os-project-name',
          'ops',
          '--rate',
          '2',
          ...db('renewed'),
        ],
        {},
      )
      let stdout = ''
      let stderr = ''
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
      const code = new Promise<number | null>((r) => child.once('close', r))
      while (proxy.seen.length < from + 3) await new Promise((r) => setTimeout(r, 100))
      if (existsSync(`/proc/${child.pid}/cmdline`)) {
        const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')
        assert.ok(!cmdline.includes(PASSWORD), 'the password is visible in ps')
      }
      assert.equal(await code, 0, stderr)
      outputs.push(stdout, stderr)
      assert.match(stdout, servers())
      const seen = proxy.seen.slice(from)
      assert.deepEqual(
        seen.filter((r) => r.status === 401),
        [],
        'a request was refused: the token was not renewed in time',
      )
      assert.ok(new Set(seen.map((r) => r.token)).size >= 2, 'the token was never renewed')
    })

    test('a token revoked mid-import: Nova answers 401, the importer logs in again once and goes on', async () => {
      const from = proxy.seen.length
      const passwordFile = join(dir, 'password')
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 })
      const running = run(
        ['--from-nova-api', '--os-password-file', passwordFile, '--rate', '5', ...db('revoked')],
        // The file wins over $OS_PASSWORD.
        { ...openrc(), OS_PASSWORD: 'not-the-password' },
      )
      while (proxy.seen.length < from + 4) await new Promise((r) => setTimeout(r, 50))
      const first = proxy.seen[from]?.token
      assert.ok(first)
      await ks.revoke(first)
      const result = await running
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, servers())
      const seen = proxy.seen.slice(from)
      const refused = seen.filter((r) => r.status === 401)
      assert.equal(refused.length, 1)
      assert.equal(refused[0]?.token, first)
      const later = seen.slice(seen.indexOf(refused[0]!) + 1)
      assert.ok(later.length > 0 && later.every((r) => r.token !== first && r.status !== 401))
      assert.deepEqual(await ks.tokenScope(first), undefined)
    })

    test('a wrong password: one line, exit 1, nothing secret; Keystone unreachable: exit 3', async () => {
      const wrong = await run(['--from-nova-api', ...db('wrong')], {
        ...openrc(),
        OS_PASSWORD: 'not-the-password',
      })
      assert.equal(wrong.code, 1, wrong.stderr)
      assert.match(wrong.stderr, /^actiontrail: keystone refused the login \(HTTP 401\): check /)
      assert.equal(wrong.stderr.trim().split('\n').length, 1)
      assert.ok(!wrong.stderr.includes('not-the-password'))
      assert.ok(!wrong.stderr.includes('importer'))

      const missing = await run(['--from-nova-api', ...db('missing')], {
        ...openrc(),
        OS_PASSWORD: '',
      })
      assert.equal(missing.code, 2, missing.stderr)
      assert.match(missing.stderr, /missing --os-password-file or \$OS_PASSWORD/)

      const nowhere = await run(['--from-nova-api', ...db('nowhere')], {
        ...openrc(),
        // A port nothing listens on.
        OS_AUTH_URL: `http://127.0.0.1:${await freePort()}/v3`,
      })
      assert.equal(nowhere.code, 3, nowhere.stderr)
      assert.match(nowhere.stderr, /^actiontrail: keystone login failed: ECONNREFUSED\n$/)
    })

    test('no compute endpoint in the catalog is a clear error; a URL given explicitly still works', async (t) => {
      const admin = await run(
        ['--from-nova-api', '--os-interface', 'admin', ...db('admin')],
        openrc(),
      )
      assert.equal(admin.code, 1, admin.stderr)
      assert.equal(
        admin.stderr,
        'actiontrail: keystone: the catalog has no compute endpoint with interface admin; ' +
          "give nova-api's URL: --from-nova-api URL\n",
      )
      // Keystone leaves a disabled service out of the catalog.
      await ks.admin('PATCH', `/services/${computeId}`, { service: { enabled: false } })
      t.after(() => ks.admin('PATCH', `/services/${computeId}`, { service: { enabled: true } }))
      const none = await run(['--from-nova-api', ...db('nocompute')], openrc())
      assert.equal(none.code, 1, none.stderr)
      assert.equal(
        none.stderr,
        "actiontrail: keystone: the catalog has no compute service; give nova-api's URL: " +
          '--from-nova-api URL\n',
      )
      const direct = await run(
        ['--from-nova-api', `${proxy.origin}/v2.1`, '--rate', '0', ...db('direct')],
        openrc(),
      )
      assert.equal(direct.code, 0, direct.stderr)
      assert.match(direct.stdout, servers())
    })
  },
)
