/**
 * The Action Log page in Keystone mode, against a real Keystone (test/helpers/keystone.ts):
 * `POST /ui/sign-in` exchanges a user name, password and project for a token that the /v1 API
 * accepts; wrong credentials are 401, a malformed form 400, a Keystone that is down 503 — each in
 * the /v1 format, none repeating what was sent, and no password or token in any log line. Then the
 * page itself, in Chromium, signs in with the Keystone form and shows the project's actions.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/app.js'
import { createAuthenticator } from '../../src/auth/create-authenticator.js'
import { resolveServeConfig } from '../../src/config.js'
import { createActionService } from '../../src/local-service.js'
import { openStores, type Stores } from '../../src/store/open-store.js'
import { ensureWebBuilt } from '../../web/build.js'
import { keystoneSkip, LocalKeystone } from '../helpers/keystone.js'
import { captureLogger, type CapturedLogger } from '../helpers/log-capture.js'
import { chromiumSkip, launchChromium, watchPage } from './web-rig.js'

const skip = keystoneSkip()
const SERVER = '0c1b2c3d-0000-4000-8000-00000000000c'
const OTHER_SERVER = '0d1b2c3d-0000-4000-8000-00000000000d'
const PASSWORDS = { erin: 'erin-web-secret', actiontrail: 'actiontrail-web-secret' }

describe('the Action Log page in Keystone mode', { skip }, () => {
  let ks: LocalKeystone
  let app: FastifyInstance
  let url: string
  let stores: Stores
  let dir: string
  let log: CapturedLogger
  const ids: Record<string, string> = {}

  before(async () => {
    await ensureWebBuilt()
    ks = await LocalKeystone.start()
    ids.gamma = await ks.createProject('gamma')
    ids.delta = await ks.createProject('delta')
    ids.service = await ks.createProject('service')
    ids.erin = await ks.createUser('erin', PASSWORDS.erin, ids.gamma, 'reader')
    await ks.createUser('actiontrail', PASSWORDS.actiontrail, ids.service, 'service')
    dir = mkdtempSync(join(tmpdir(), 'actiontrail-web-keystone-'))
    stores = await openStores(join(dir, 'actiontrail.db'))
    const service = createActionService(stores.actions)
    for (const [uuid, project, name] of [
      [SERVER, ids.gamma, 'gamma-vm'],
      [OTHER_SERVER, ids.delta, 'delta-vm'],
    ] as const) {
      await service.putInstance({ uuid, name, projectId: project as string, userId: ids.erin })
      await service.actionStart({
        instanceUuid: uuid,
        action: 'create',
        requestId: `req-${uuid.slice(0, 8)}-1111-4222-8333-444444444444`,
        userId: ids.erin,
        projectId: project as string,
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
    log = captureLogger('trace')
    const { authenticator } = await createAuthenticator(config, log.logger)
    app = await buildApp({
      service,
      authenticator,
      logger: log.logger,
      idempotency: stores.idempotency,
      stream: { feed: stores.changes },
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  })

  after(async () => {
    await app?.close()
    await stores?.close()
    await ks?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
    const text = log?.text() ?? ''
    for (const secret of Object.values(PASSWORDS))
      assert.ok(!text.includes(secret), 'a password reached the log')
    for (const id of Object.values(ids)) assert.ok(!text.includes(id), 'an id reached the log')
  })

  const signIn = (payload: unknown) =>
    app.inject({ method: 'POST', url: '/ui/sign-in', payload: payload as Record<string, unknown> })

  test('the page asks for a Keystone login', async () => {
    const res = await app.inject('/ui/config.json')
    assert.deepEqual(res.json(), { auth: 'keystone' })
  })

  test('a password becomes a project-scoped token the API accepts', async () => {
    const res = await signIn({ username: 'erin', password: PASSWORDS.erin, project: 'gamma' })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['cache-control'], 'no-store')
    const body = res.json() as { token: string; expires_at: string }
    assert.ok(body.token.length > 20)
    assert.ok(Date.parse(body.expires_at) > Date.now())
    assert.deepEqual(await ks.tokenScope(body.token), { user: 'erin', project: 'gamma' })
    const actions = await app.inject({
      url: '/v1/actions',
      headers: { 'x-auth-token': body.token },
    })
    assert.equal(actions.statusCode, 200)
    // A reader of gamma: gamma's instance only.
    assert.deepEqual(
      (actions.json() as { actions: { instance_uuid: string }[] }).actions.map(
        (a) => a.instance_uuid,
      ),
      [SERVER],
    )
    assert.ok(!log.text().includes(body.token), 'the token reached the log')
  })

  test('wrong credentials are 401, a malformed form 400, in the /v1 format', async () => {
    for (const form of [
      { username: 'erin', password: 'wrong', project: 'gamma' },
      { username: 'nobody', password: PASSWORDS.erin, project: 'gamma' },
      // A project the user has no role on.
      { username: 'erin', password: PASSWORDS.erin, project: 'delta' },
    ]) {
      const res = await signIn(form)
      assert.equal(res.statusCode, 401, JSON.stringify(form.username))
      const error = (res.json() as { error: { code: string; message: string } }).error
      assert.equal(error.code, 'unauthorized')
      assert.ok(!error.message.includes(form.username) && !error.message.includes(form.password))
    }
    for (const form of [
      {},
      { username: 'erin', password: PASSWORDS.erin },
      { username: '', password: 'x', project: 'gamma' },
      { username: 'erin', password: PASSWORDS.erin, project: 'gamma', extra: 1 },
      { username: 'erin', password: 'x'.repeat(5000), project: 'gamma' },
    ]) {
      const res = await signIn(form)
      assert.equal(res.statusCode, 400, JSON.stringify(Object.keys(form)))
      assert.equal((res.json() as { error: { code: string } }).error.code, 'invalid_input')
    }
    const notJson = await app.inject({
      method: 'POST',
      url: '/ui/sign-in',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":',
    })
    assert.equal(notJson.statusCode, 400)
  })

  test(
    'the page signs in with the Keystone form in Chromium',
    { skip: chromiumSkip() },
    async (t) => {
      const browser = await launchChromium()
      t.after(() => browser.close())
      const page = await browser.newPage()
      const problems = watchPage(page)
      await page.goto(`${url}/ui/`)
      await page.getByLabel('User name').fill('erin')
      await page.getByLabel('Password').fill('wrong')
      await page.getByLabel('Project').fill('gamma')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByRole('alert').filter({ hasText: 'Keystone refused' }).waitFor()
      await page.getByLabel('Password').fill(PASSWORDS.erin)
      await page.getByRole('button', { name: 'Sign in' }).click()
      const row = page.locator('table.actions tbody tr')
      await row.first().waitFor()
      assert.equal(await row.count(), 1)
      assert.equal(await row.locator('td').nth(1).innerText(), 'gamma-vm')
      // The password is nowhere in the page's storage; the token is in this tab's session only.
      const storage = await page.evaluate(() =>
        JSON.stringify({ ...sessionStorage, ...localStorage }),
      )
      assert.ok(!storage.includes(PASSWORDS.erin))
      assert.ok(!page.url().includes('token'))
      await page.locator('#live[data-state="live"]').waitFor()
      assert.deepEqual(problems, [])
    },
  )

  test('a Keystone that is down is a 503 with Retry-After', async () => {
    await ks.stop()
    try {
      const res = await signIn({ username: 'erin', password: PASSWORDS.erin, project: 'gamma' })
      assert.equal(res.statusCode, 503)
      assert.equal((res.json() as { error: { code: string } }).error.code, 'identity_unavailable')
      assert.ok(res.headers['retry-after'])
    } finally {
      await ks.resume()
    }
  })
})
