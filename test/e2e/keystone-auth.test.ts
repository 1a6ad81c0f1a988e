/**
 * Keystone mode against a real Keystone (test/helpers/keystone.ts): ActionTrail configured the way
 * an operator configures it (ACTIONTRAIL_AUTH=keystone and the ACTIONTRAIL_KEYSTONE_* variables),
 * listening on a port, registered as the `compute` endpoint of the test Keystone, and called with
 * real tokens: member, reader, admin (implied roles), another project's member, a system-scoped
 * admin, revoked, expired and garbage tokens; Keystone stopped and frozen mid-run; and the real
 * `openstack` client logging in with a password and finding ActionTrail in the catalog.
 *
 * The test Keystone issues tokens valid for TOKEN_SECONDS, so that a token really expires during
 * the run, and ActionTrail's own service token must be renewed for the later tests to pass.
 */
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/app.js'
import { AccessAudit } from '../../src/api/plugins/access-audit.js'
import { createAuthenticator } from '../../src/auth/create-authenticator.js'
import { KeystoneAuthenticator } from '../../src/auth/keystone/keystone-authenticator.js'
import type { Authenticator } from '../../src/auth/principal.js'
import { resolveServeConfig } from '../../src/config.js'
import { createActionService } from '../../src/local-service.js'
import { openStores, type Stores } from '../../src/store/open-store.js'
import { captureLogger, type CapturedLogger } from '../helpers/log-capture.js'
import { keystoneSkip, LocalKeystone } from '../helpers/keystone.js'

const run = promisify(execFile)
const skip = keystoneSkip()
const hasOpenstack =
  spawnSync('sh', ['-c', 'command -v openstack'], { encoding: 'utf8' }).status === 0

const TOKEN_SECONDS = 20
const ALPHA_SERVER = '0a1b2c3d-0000-4000-8000-00000000000a'
const BETA_SERVER = '0b1b2c3d-0000-4000-8000-00000000000b'
const REQ = 'req-11111111-2222-4333-8444-555555555555'
const PASSWORDS = {
  alice: 'alice-secret',
  bob: 'bob-secret',
  carol: 'carol-secret',
  dave: 'dave-secret',
  actiontrail: 'actiontrail-secret',
}

describe('Keystone mode against a real Keystone', { skip }, () => {
  let ks: LocalKeystone
  let app: FastifyInstance
  let url: string
  let stores: Stores
  let dir: string
  let log: CapturedLogger
  let authenticator: Authenticator
  const audit = new AccessAudit()
  const ids: Record<string, string> = {}

  before(async () => {
    ks = await LocalKeystone.start(TOKEN_SECONDS)
    ids.alpha = await ks.createProject('alpha')
    ids.beta = await ks.createProject('beta')
    ids.service = await ks.createProject('service')
    ids.alice = await ks.createUser('alice', PASSWORDS.alice, ids.alpha, 'member')
    ids.bob = await ks.createUser('bob', PASSWORDS.bob, ids.alpha, 'reader')
    ids.carol = await ks.createUser('carol', PASSWORDS.carol, ids.beta, 'member')
    ids.dave = await ks.createUser('dave', PASSWORDS.dave, ids.alpha, 'admin')
    // Least privilege: the `service` role may validate tokens (identity:validate_token), not more.
    ids.serviceUser = await ks.createUser(
      'actiontrail',
      PASSWORDS.actiontrail,
      ids.service,
      'service',
    )

    dir = mkdtempSync(join(tmpdir(), 'actiontrail-keystone-app-'))
    stores = await openStores(join(dir, 'actiontrail.db'))
    const service = createActionService(stores.actions)
    for (const [uuid, project] of [
      [ALPHA_SERVER, ids.alpha],
      [BETA_SERVER, ids.beta],
    ] as const) {
      await service.putInstance({
        uuid,
        name: `vm-${project.slice(0, 4)}`,
        projectId: project,
        userId: ids.alice!,
      })
      await service.actionStart({
        instanceUuid: uuid,
        action: 'create',
        requestId: REQ,
        userId: ids.alice!,
        projectId: project!,
      })
    }
    const config = resolveServeConfig(
      { port: '0' },
      {
        ACTIONTRAIL_AUTH: 'keystone',
        ACTIONTRAIL_KEYSTONE_URL: ks.url,
        ACTIONTRAIL_KEYSTONE_USERNAME: 'actiontrail',
        ACTIONTRAIL_KEYSTONE_PASSWORD: PASSWORDS.actiontrail,
        ACTIONTRAIL_KEYSTONE_PROJECT: 'service',
        ACTIONTRAIL_KEYSTONE_TIMEOUT_MS: '1500',
      },
    )
    log = captureLogger('info')
    authenticator = (await createAuthenticator(config, log.logger)).authenticator
    app = await buildApp({
      service,
      authenticator,
      logger: log.logger,
      idempotency: stores.idempotency,
      accessAudit: audit,
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    await ks.registerCompute(`${url}/v2.1`)
  })

  after(async () => {
    await app?.close()
    await stores?.close()
    await ks?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    // No token, user id or project id in any log line.
    const text = log?.text() ?? ''
    for (const id of Object.values(ids)) assert.ok(!text.includes(id), 'an id reached the log')
  })

  const actions = (server: string, token?: string) =>
    app.inject({
      url: `/v2.1/servers/${server}/os-instance-actions`,
      headers: token ? { 'x-auth-token': token } : {},
    })

  test('member, reader and admin tokens: roles with implied roles, project scoping', async () => {
    const alice = await ks.login('alice', PASSWORDS.alice, 'alpha')
    const bob = await ks.login('bob', PASSWORDS.bob, 'alpha')
    const carol = await ks.login('carol', PASSWORDS.carol, 'beta')
    const dave = await ks.login('dave', PASSWORDS.dave, 'alpha')
    const roles = async (token: string) =>
      [...((await authenticator.authenticate(token))?.roles ?? [])].sort()
    assert.deepEqual(await roles(alice), ['member', 'reader'])
    assert.deepEqual(await roles(bob), ['reader'])
    assert.deepEqual(await roles(dave), ['admin', 'member', 'reader'])
    // Keystone itself expanded the implied roles (roleNames are its answer, unexpanded by us).
    assert.deepEqual((await authenticator.authenticate(dave))?.roleNames, [
      'admin',
      'member',
      'reader',
    ])
    assert.deepEqual((await authenticator.authenticate(bob))?.roleNames, ['reader'])
    const p = await authenticator.authenticate(alice)
    assert.equal(p?.userId, ids.alice)
    assert.equal(p?.projectId, ids.alpha)
    assert.ok(p?.expiresAt && p.expiresAt.getTime() > Date.now())

    assert.equal((await actions(ALPHA_SERVER, alice)).statusCode, 200)
    assert.equal((await actions(ALPHA_SERVER, bob)).statusCode, 200)
    // Another project's member: the server does not exist for them (404, not 403).
    assert.equal((await actions(ALPHA_SERVER, carol)).statusCode, 404)
    assert.equal((await actions(BETA_SERVER, carol)).statusCode, 200)
    // An admin of alpha sees beta's server too (Nova's admin).
    const listed = await actions(BETA_SERVER, dave)
    assert.equal(listed.statusCode, 200)
    assert.equal((listed.json() as { instanceActions: unknown[] }).instanceActions.length, 1)
  })

  test('a system-scoped admin is an admin without a project', async () => {
    const system = await ks.login('admin', 'admin-secret', { system: 'all' })
    const p = await authenticator.authenticate(system)
    assert.equal(p?.systemScope, 'all')
    assert.equal(p?.projectId, '')
    assert.ok(p?.roles.has('admin'))
    assert.equal((await actions(BETA_SERVER, system)).statusCode, 200)
  })

  test('garbage, missing and revoked tokens get 401 pointing at Keystone, in each surface format', async () => {
    const alice = await ks.login('alice', PASSWORDS.alice, 'alpha')
    const revoked = await ks.login('alice', PASSWORDS.alice, 'alpha')
    await ks.revoke(revoked)
    for (const token of [`${alice}x`, 'garbage', revoked, undefined]) {
      const res = await actions(ALPHA_SERVER, token)
      assert.equal(res.statusCode, 401)
      assert.equal(res.headers['www-authenticate'], `Keystone uri="${ks.url.replace(/\/v3$/, '')}"`)
      assert.equal((res.json() as { unauthorized: { code: number } }).unauthorized.code, 401)
    }
    const v1 = await app.inject({ url: '/v1/actions', headers: { 'x-auth-token': revoked } })
    assert.equal(v1.statusCode, 401)
    assert.equal((v1.json() as { error: { code: string } }).error.code, 'unauthorized')
    // The token Keystone accepts still works: the revoked one was another.
    assert.equal((await actions(ALPHA_SERVER, alice)).statusCode, 200)
  })

  test('every 401 and 403 is logged with tagged ids and counted', async () => {
    const before401 = audit.totals()[401]
    const before403 = audit.totals()[403]
    const alice = await ks.login('alice', PASSWORDS.alice, 'alpha')
    const write = await app.inject({
      method: 'POST',
      url: `/v1/instances/${ALPHA_SERVER}/actions`,
      headers: { 'x-auth-token': alice, 'content-type': 'application/json' },
      payload: { action: 'reboot', request_id: 'req-21111111-2222-4333-8444-555555555555' },
    })
    assert.equal(write.statusCode, 403)
    assert.equal((await actions(ALPHA_SERVER, 'nope')).statusCode, 401)
    assert.deepEqual(audit.totals(), { 401: before401 + 1, 403: before403 + 1 })
    const denied = log.lines().filter((l) => l.msg === 'access denied')
    const last403 = denied.filter((l) => l.status === 403).at(-1)
    assert.equal(last403?.route, '/v1/instances/:uuid/actions')
    assert.match(String(last403?.userId), /^id:[0-9a-f]{16}$/)
    assert.match(String(last403?.projectId), /^id:[0-9a-f]{16}$/)
    assert.equal(last403?.denied_total, before403 + 1)
    assert.ok(!log.text().includes(alice), 'a token reached the log')
  })

  test('an expired token gets 401 even after a cached validation; the service token is renewed', async () => {
    const alice = await ks.login('alice', PASSWORDS.alice, 'alpha')
    assert.equal((await actions(ALPHA_SERVER, alice)).statusCode, 200)
    const expiry = (await authenticator.authenticate(alice))?.expiresAt?.getTime() ?? 0
    await new Promise((r) => setTimeout(r, Math.max(0, expiry - Date.now()) + 1500))
    assert.equal((await actions(ALPHA_SERVER, alice)).statusCode, 401)
    // ActionTrail's own service token (issued before this one) expired too: a new token is
    // validated only because it was renewed.
    const fresh = await ks.login('alice', PASSWORDS.alice, 'alpha')
    assert.equal((await actions(ALPHA_SERVER, fresh)).statusCode, 200)
  })

  test('a service token Keystone revoked is replaced after its 401, and the request succeeds', async () => {
    // A second authenticator, logged in just now; the real fetch, with the logins counted.
    let logins = 0
    const counting: typeof fetch = (input, init) => {
      if (init?.method === 'POST') logins += 1
      return fetch(input, init)
    }
    const second = new KeystoneAuthenticator({
      url: ks.url,
      credentials: {
        kind: 'password',
        username: 'actiontrail',
        password: PASSWORDS.actiontrail,
        project: 'service',
        userDomain: 'Default',
        projectDomain: 'Default',
      },
      fetch: counting,
    })
    await second.start()
    assert.equal(logins, 1)
    // Disabling a user revokes every token it holds; enabled again, it may log in (a second later:
    // Keystone compares issue times at whole seconds).
    const user = `/users/${ids.serviceUser}`
    await ks.admin('PATCH', user, { user: { enabled: false } })
    await ks.admin('PATCH', user, { user: { enabled: true } })
    await new Promise((r) => setTimeout(r, 1500))
    const alice = await ks.login('alice', PASSWORDS.alice, 'alpha')
    assert.equal((await second.authenticate(alice))?.userId, ids.alice)
    assert.equal(logins, 2)
  })

  test(
    'the openstack client logs in with a password and finds ActionTrail in the catalog',
    { skip: !hasOpenstack && 'openstack CLI not installed' },
    async () => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('OS_')),
      )
      const osc = (user: keyof typeof PASSWORDS, project: string, args: string[]) =>
        run(
          'openstack',
          [
            '--os-auth-url',
            ks.url,
            '--os-identity-api-version',
            '3',
            '--os-username',
            user,
            '--os-password',
            PASSWORDS[user],
            '--os-project-name',
            project,
            '--os-user-domain-name',
            'Default',
            '--os-project-domain-name',
            'Default',
            '--os-interface',
            'public',
            ...args,
            '-f',
            'json',
          ],
          { timeout: 90_000, env },
        )
      const { stdout } = await osc('alice', 'alpha', ['server', 'event', 'list', ALPHA_SERVER])
      const rows = JSON.parse(stdout) as Record<string, string>[]
      assert.deepEqual(
        rows.map((r) => [r['Request ID'], r.Action]),
        [[REQ, 'create']],
      )
      await assert.rejects(
        osc('carol', 'beta', ['server', 'event', 'list', ALPHA_SERVER]),
        /No server with a name or ID|could not be found|404/,
      )
    },
  )

  test('Keystone stopped or frozen: 503 with Retry-After in each surface format, then recovery', async () => {
    const cached = await ks.login('bob', PASSWORDS.bob, 'alpha')
    assert.equal((await actions(ALPHA_SERVER, cached)).statusCode, 200)
    const unseen = await ks.login('alice', PASSWORDS.alice, 'alpha')
    await ks.stop()
    const down = await actions(ALPHA_SERVER, unseen)
    assert.equal(down.statusCode, 503)
    assert.equal(down.headers['retry-after'], '1')
    assert.equal(
      (down.json() as { serviceUnavailable?: { code: number } }).serviceUnavailable?.code,
      503,
    )
    const v1 = await app.inject({ url: '/v1/actions', headers: { 'x-auth-token': unseen } })
    assert.equal(v1.statusCode, 503)
    assert.equal((v1.json() as { error: { code: string } }).error.code, 'identity_unavailable')
    // A validation already cached stays good for its TTL (keystonemiddleware's token_cache_time).
    assert.equal((await actions(ALPHA_SERVER, cached)).statusCode, 200)

    await ks.resume()
    assert.equal((await actions(ALPHA_SERVER, unseen)).statusCode, 200)

    // Frozen: connections are accepted and never answered; the timeout (1.5 s here) gives 503.
    const another = await ks.login('bob', PASSWORDS.bob, 'alpha')
    ks.freeze()
    try {
      const slow = await actions(ALPHA_SERVER, another)
      assert.equal(slow.statusCode, 503)
    } finally {
      ks.thaw()
    }
    assert.equal((await actions(ALPHA_SERVER, another)).statusCode, 200)
  })
})
