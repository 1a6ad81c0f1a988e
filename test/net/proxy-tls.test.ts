/**
 * Behind a proxy, and without one (issue 14): ACTIONTRAIL_PUBLIC_URL sets the links the server
 * writes (version discovery, the 401's WWW-Authenticate); X-Forwarded-Proto/Host are honoured
 * only from the proxies ACTIONTRAIL_TRUST_PROXY names; ACTIONTRAIL_TLS_CERT/_KEY serve HTTPS
 * (a real `actiontrail serve` with a certificate made by openssl), and bad settings stop start-up.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import https from 'node:https'
import { join } from 'node:path'
import { test } from 'node:test'
import { resolveServeConfig } from '../../src/config.js'
import { tempDir } from '../helpers/backup-check.js'
import { buildHarness } from '../helpers/build-app.js'
import { spawnServe } from '../helpers/spawn-server.js'

const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }

async function versionHrefs(h: Awaited<ReturnType<typeof buildHarness>>): Promise<string[]> {
  const res = await h.app.inject({ method: 'GET', url: '/', headers: FORWARDED })
  assert.equal(res.statusCode, 200)
  const body = res.json<{ versions: { links: { href: string }[] }[] }>()
  return body.versions.flatMap((v) => v.links.map((l) => l.href))
}

test('ACTIONTRAIL_PUBLIC_URL sets the links; forwarded headers cannot change them', async (t) => {
  const h = await buildHarness(t, ':memory:', { publicUrl: 'https://cloud.example/actiontrail' })
  const hrefs = await versionHrefs(h)
  assert.ok(hrefs.length > 0)
  for (const href of hrefs) assert.ok(href.startsWith('https://cloud.example/actiontrail/'), href)
  const res = await h.app.inject({
    method: 'GET',
    url: '/v2.1/servers/00000000-0000-4000-8000-000000000001/os-instance-actions',
  })
  assert.equal(res.statusCode, 401)
  assert.equal(res.headers['www-authenticate'], 'Keystone uri="https://cloud.example/actiontrail/"')
})

test('X-Forwarded-* only from a trusted proxy', async (t) => {
  const untrusted = await buildHarness(t)
  for (const href of await versionHrefs(untrusted))
    assert.ok(
      href.startsWith('http://localhost'),
      `ignored without ACTIONTRAIL_TRUST_PROXY: ${href}`,
    )
  const other = await buildHarness(t, ':memory:', { trustProxy: '10.1.2.3' })
  for (const href of await versionHrefs(other))
    assert.ok(href.startsWith('http://localhost'), `ignored from an untrusted peer: ${href}`)
  // app.inject's peer is 127.0.0.1: the proxy here.
  const trusted = await buildHarness(t, ':memory:', { trustProxy: '127.0.0.1,10.0.0.0/8' })
  for (const href of await versionHrefs(trusted))
    assert.ok(href.startsWith('https://evil.example/'), `from the trusted proxy: ${href}`)
})

test('bad proxy and TLS settings stop start-up, naming the setting', () => {
  for (const [env, message] of [
    [{ ACTIONTRAIL_PUBLIC_URL: 'cloud.example' }, /ACTIONTRAIL_PUBLIC_URL is not a URL/],
    [{ ACTIONTRAIL_PUBLIC_URL: 'ftp://cloud.example' }, /ACTIONTRAIL_PUBLIC_URL must be an http/],
    [{ ACTIONTRAIL_TRUST_PROXY: 'proxy.example' }, /ACTIONTRAIL_TRUST_PROXY must be/],
    [
      { ACTIONTRAIL_TLS_CERT: '/x.pem' },
      /ACTIONTRAIL_TLS_CERT and ACTIONTRAIL_TLS_KEY go together/,
    ],
  ] as const)
    assert.throws(() => resolveServeConfig({}, env), message)
  assert.equal(
    resolveServeConfig({}, { ACTIONTRAIL_PUBLIC_URL: 'https://c.example/at/' }).publicUrl,
    'https://c.example/at',
  )
})

test('ACTIONTRAIL_TLS_CERT/_KEY: `actiontrail serve` answers over HTTPS', async (t) => {
  const dir = tempDir(t)
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  const server = await spawnServe(t, ['--demo', '--port', '0', '--db', join(dir, 'a.db')], {
    env: { ACTIONTRAIL_TLS_CERT: cert, ACTIONTRAIL_TLS_KEY: key },
  })
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const status = await new Promise<number>((resolve, reject) => {
    https
      .get(`${server.url}/healthz`, { ca: execFileSync('cat', [cert]) }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      .on('error', reject)
  })
  assert.equal(status, 200)
})
