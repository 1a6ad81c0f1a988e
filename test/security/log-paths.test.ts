/**
 * A logged error keeps its stack frames (file, line, column, function) but no absolute path: the
 * install directory of a deployment (`/srv/…/releases/…`, a home directory) is what an attacker
 * who reads logs would want. Found by the leak scan at trace level (issue 9): a store failure's
 * 500 logged `/work/…/test/api-v1/batch.test.ts:250:32`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildApp } from '../../src/api/app.js'
import { StaticTokenAuthenticator } from '../../src/auth/token-file.js'
import { createActionService } from '../../src/local-service.js'
import { openStores } from '../../src/store/open-store.js'
import { headers, TOKEN_ENTRIES, TOKENS } from '../helpers/build-app.js'
import { captureLogger } from '../helpers/log-capture.js'
import { ROOT } from '../helpers/spawn-server.js'

// A deployment's frames: the package installed under a release directory, a dependency, and a
// home directory.
const DEPLOYED = [
  'Error: connection reset',
  '    at Client.query (/srv/deploy/releases/20261201/customer-acme/node_modules/pg/lib/client.js:526:17)',
  '    at SqlStore.apply (/home/alice/actiontrail/dist/store/sql-store.js:88:9)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
].join('\n')

test('a logged error keeps its frames, without absolute paths', () => {
  const log = captureLogger('trace')
  const err = new Error('connection reset')
  err.stack = DEPLOYED
  log.logger.error({ err }, 'store failed')
  log.logger.error(new Error('thrown here'), 'direct')
  const text = log.text()
  for (const path of ['/srv/', 'customer-acme', '/home/', 'alice', ROOT]) {
    assert.ok(!text.includes(path), `log contains ${path}: ${text}`)
  }
  assert.match(text, /pg\/lib\/client\.js:526:17/, 'a dependency frame stays, package-relative')
  assert.match(text, /sql-store\.js:88:9/, 'the file name and position stay')
  assert.match(text, /node:internal\/process\/task_queues:95:5/)
  assert.match(text, /test\/security\/log-paths\.test\.ts:\d+:\d+/, 'own frames, repo-relative')
})

test("an unexpected failure's 500 logs the error without the install directory", async (t) => {
  const log = captureLogger('trace')
  const stores = await openStores(':memory:')
  t.after(() => stores.close())
  stores.actions.getInstance = () => Promise.reject(new Error('disk I/O error'))
  const app = await buildApp({
    service: createActionService(stores.actions),
    authenticator: new StaticTokenAuthenticator(TOKEN_ENTRIES),
    logger: log.logger,
    idempotency: stores.idempotency,
  })
  t.after(() => app.close())
  const res = await app.inject({
    url: '/v2.1/servers/3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
    headers: headers(TOKENS.memberA),
  })
  assert.equal(res.statusCode, 500)
  const text = log.text()
  assert.match(text, /disk I\/O error/, 'the error is logged')
  assert.match(text, /log-paths\.test\.ts:\d+:\d+/, 'with its frames')
  assert.ok(!text.includes(ROOT), `log contains the repository path: ${text}`)
})
