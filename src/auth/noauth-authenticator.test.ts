import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../domain/errors.js'
import { assertLoopback, isLoopbackHost, NoAuthAuthenticator } from './noauth-authenticator.js'

test('noauth believes user:project; admin only for the user `admin`', async () => {
  const auth = new NoAuthAuthenticator()
  const admin = await auth.authenticate('admin:p1')
  assert.deepEqual([...(admin?.roles ?? [])].sort(), ['admin', 'member', 'reader'])
  const member = await auth.authenticate('alice:p:with:colons')
  assert.equal(member?.projectId, 'p:with:colons')
  assert.deepEqual([...(member?.roles ?? [])].sort(), ['member', 'reader'])
  for (const bad of ['alice', ':p', 'alice:', 'a\u0000b:p', `${'u'.repeat(256)}:p`]) {
    assert.equal(await auth.authenticate(bad), undefined, bad)
  }
})

test('noauth is refused on anything but loopback', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
    assert.ok(isLoopbackHost(host), host)
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.org', '128.0.0.1']) {
    assert.throws(
      () => assertLoopback(host),
      (e) => isAppError(e, 'invalid_input'),
      host,
    )
  }
})
