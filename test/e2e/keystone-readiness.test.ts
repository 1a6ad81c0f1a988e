/**
 * `/readyz` in Keystone mode (issue 14 item 1), against a real Keystone (test/helpers/keystone.ts):
 * ready while Keystone answers; once Keystone is stopped, 503 after the bound (here 1 s) without
 * any detail in the answer; ready again as soon as Keystone is back. `/healthz` stays 200 all along:
 * a restart would not bring Keystone back. A node whose own validations keep reaching Keystone
 * sends nothing more for readiness (checked through a recording proxy in front of Keystone).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/app.js'
import { createAuthenticator } from '../../src/auth/create-authenticator.js'
import { resolveServeConfig } from '../../src/config.js'
import { createActionService } from '../../src/local-service.js'
import { openStores, type Stores } from '../../src/store/open-store.js'
import { keystoneSkip, LocalKeystone } from '../helpers/keystone.js'
import { captureLogger, type CapturedLogger } from '../helpers/log-capture.js'
import { recordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js'

const skip = keystoneSkip()
const BOUND_MS = 1000
const SERVICE_PASSWORD = 'actiontrail-secret'

describe('/readyz in Keystone mode', { skip }, () => {
  let ks: LocalKeystone
  let stores: Stores
  let dir: string
  let log: CapturedLogger
  let proxy: RecordingProxy
  const apps: FastifyInstance[] = []

  before(async () => {
    ks = await LocalKeystone.start()
    const project = await ks.createProject('service')
    await ks.createUser('actiontrail', SERVICE_PASSWORD, project, 'service')
    await ks.createUser('alice', 'alice-secret', project, 'reader')
    dir = mkdtempSync(join(tmpdir(), 'actiontrail-keystone-ready-'))
    stores = await openStores(join(dir, 'actiontrail.db'))
    log = captureLogger('info')
    proxy = await recordingProxy(new URL(ks.url).origin)
  })

  after(async () => {
    await Promise.all(apps.map((app) => app.close()))
    await proxy?.close()
    await stores?.close()
    await ks?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** The app as `serve` builds it in Keystone mode, talking to Keystone at `url`. */
  async function start(url: string): Promise<FastifyInstance> {
    const config = resolveServeConfig(
      { port: '0' },
      {
        ACTIONTRAIL_AUTH: 'keystone',
        ACTIONTRAIL_KEYSTONE_URL: url,
        ACTIONTRAIL_KEYSTONE_USERNAME: 'actiontrail',
        ACTIONTRAIL_KEYSTONE_PASSWORD: SERVICE_PASSWORD,
        ACTIONTRAIL_KEYSTONE_PROJECT: 'service',
        ACTIONTRAIL_KEYSTONE_TIMEOUT_MS: '1500',
        // Every request asks Keystone, so each counts as contact.
        ACTIONTRAIL_KEYSTONE_CACHE_SECONDS: '0',
      },
    )
    const { authenticator } = await createAuthenticator(config, log.logger)
    const app = await buildApp({
      service: createActionService(stores.actions),
      authenticator,
      logger: log.logger,
      idempotency: stores.idempotency,
      readinessProbe: () => stores.ready(),
      keystoneReadyWithinMs: BOUND_MS,
    })
    apps.push(app)
    return app
  }

  const probe = async (app: FastifyInstance, url: string) => {
    const res = await app.inject(url)
    return { status: res.statusCode, body: res.body }
  }

  test('a node whose requests reach Keystone sends no extra readiness requests', async () => {
    const app = await start(proxy.origin)
    const token = await ks.login('alice', 'alice-secret', 'service')
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ url: '/v1/actions', headers: { 'x-auth-token': token } })
      assert.equal(res.statusCode, 200)
      const before = proxy.seen.length
      assert.equal((await probe(app, '/readyz')).status, 200)
      // Just asked Keystone (well within the bound): the probe asked nothing more.
      assert.equal(proxy.seen.length, before)
    }
  })

  test('Keystone stopped: 503 after the bound, no detail; back: 200 at once', async () => {
    const app = await start(ks.url)
    assert.deepEqual(await probe(app, '/readyz'), { status: 200, body: '{"status":"ok"}' })
    await ks.stop()
    await sleep(BOUND_MS + 300)
    assert.deepEqual(await probe(app, '/readyz'), {
      status: 503,
      body: '{"status":"unavailable"}',
    })
    // Liveness is not readiness: restarting this node would not bring Keystone back.
    assert.equal((await probe(app, '/healthz')).status, 200)
    // The reason is in the log (the answer said nothing).
    assert.match(log.text(), /keystone has not answered/)
    await ks.resume()
    assert.deepEqual(await probe(app, '/readyz'), { status: 200, body: '{"status":"ok"}' })
  })
})
