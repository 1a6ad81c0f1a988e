/**
 * The Action Log page's routes (src/api/ui/), without a browser: served at /ui without a token,
 * with its Content-Security-Policy and security headers on every answer; hashed assets cached for
 * a year, the page revalidated (ETag, 304); gzip when accepted; nothing outside the build served;
 * a page that was not built is a clear 503; the JavaScript within its size budget.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { before, describe, test } from 'node:test'
import { UI_CONTENT_SECURITY_POLICY } from '../../src/api/ui/security-headers.js'
import { loadWebAssets } from '../../src/api/ui/web-assets.js'
import { ensureWebBuilt, WEB_DIST } from '../../web/build.js'
import { buildHarness, TOKENS } from '../helpers/build-app.js'

// Issue 15: the page's JavaScript is under 150 KB gzipped.
const JS_BUDGET_GZIP_BYTES = 150 * 1024

/** The asset paths index.html references (`/ui/assets/…`). */
function referencedAssets(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="\/ui\/(assets\/[^"]+)"/g)].map((m) => m[1] as string)
}

describe('the Action Log page routes', () => {
  before(async () => {
    await ensureWebBuilt()
  })

  test('/ui and /ui/ serve the page without a token, with the CSP and revalidation', async (t) => {
    const { app } = await buildHarness(t)
    for (const url of ['/ui', '/ui/']) {
      const res = await app.inject(url)
      assert.equal(res.statusCode, 200, url)
      assert.match(String(res.headers['content-type']), /^text\/html/)
      assert.equal(res.headers['content-security-policy'], UI_CONTENT_SECURITY_POLICY)
      assert.equal(res.headers['x-content-type-options'], 'nosniff')
      assert.equal(res.headers['x-frame-options'], 'DENY')
      assert.equal(res.headers['referrer-policy'], 'no-referrer')
      assert.equal(res.headers['cache-control'], 'no-cache')
      assert.match(res.body, /<script type="module"[^>]* src="\/ui\/assets\/[^"]+\.js"><\/script>/)
      // No inline script: every <script> has a src.
      assert.doesNotMatch(res.body, /<script(?![^>]*\ssrc=)[^>]*>/)
      const etag = String(res.headers.etag)
      const again = await app.inject({ url, headers: { 'if-none-match': etag } })
      assert.equal(again.statusCode, 304)
      assert.equal(again.body, '')
    }
    const csp = UI_CONTENT_SECURITY_POLICY
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
    ])
      assert.ok(csp.includes(directive), directive)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/)
  })

  test('hashed assets are immutable, gzip is sent when accepted, and the JS is within budget', async (t) => {
    const { app } = await buildHarness(t)
    const html = (await app.inject('/ui/')).body
    const assets = referencedAssets(html)
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), html)
    let jsGzip = 0
    for (const path of assets) {
      const plain = await app.inject(`/ui/${path}`)
      assert.equal(plain.statusCode, 200, path)
      assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable')
      assert.equal(plain.headers['content-security-policy'], UI_CONTENT_SECURITY_POLICY)
      assert.equal(plain.headers['content-encoding'], undefined)
      const zipped = await app.inject({
        url: `/ui/${path}`,
        headers: { 'accept-encoding': 'gzip, br' },
      })
      assert.equal(zipped.headers['content-encoding'], 'gzip')
      assert.equal(zipped.headers.vary, 'accept-encoding')
      assert.equal(gunzipSync(zipped.rawPayload).toString('utf8'), plain.body)
      if (path.endsWith('.js')) jsGzip += gzipSync(plain.rawPayload, { level: 9 }).length
    }
    console.log(`Action Log JavaScript: ${(jsGzip / 1024).toFixed(1)} KB gzipped (budget 150 KB)`)
    assert.ok(jsGzip < JS_BUDGET_GZIP_BYTES, `${jsGzip} bytes gzipped`)
  })

  test('only built files are served; unknown paths are 404 in the /v1 format', async (t) => {
    const { app } = await buildHarness(t)
    for (const url of [
      '/ui/assets/nope.js',
      '/ui/.source-hash',
      '/ui/src/main.ts',
      '/ui/favicon.ico',
    ]) {
      const res = await app.inject(url)
      assert.equal(res.statusCode, 404, url)
      assert.equal(res.json().error.code, 'not_found', url)
      assert.equal(res.headers['content-security-policy'], UI_CONTENT_SECURITY_POLICY, url)
    }
    // Dot segments: resolved before routing (leaving /ui) or looked up as a name; never a file.
    for (const url of [
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/assets/..%2f..%2fpackage.json',
    ]) {
      const res = await app.inject(url)
      assert.notEqual(res.statusCode, 200, url)
      assert.doesNotMatch(res.body, /"devDependencies"/, url)
    }
    // The static-token mode has no password sign-in.
    const signIn = await app.inject({
      method: 'POST',
      url: '/ui/sign-in',
      payload: { username: 'a', password: 'b', project: 'c' },
    })
    assert.equal(signIn.statusCode, 404)
    const config = await app.inject('/ui/config.json')
    assert.equal(config.statusCode, 200)
    assert.deepEqual(config.json(), { auth: 'token' })
    assert.equal(config.headers['cache-control'], 'no-store')
  })

  test('the page loads without a token, the API it calls still needs one', async (t) => {
    const { app } = await buildHarness(t)
    assert.equal((await app.inject('/ui/')).statusCode, 200)
    assert.equal((await app.inject('/v1/actions')).statusCode, 401)
    const ok = await app.inject({ url: '/v1/actions', headers: { 'x-auth-token': TOKENS.admin } })
    assert.equal(ok.statusCode, 200)
  })

  test('a page that was not built answers 503 naming the command, and the API still works', async (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'actiontrail-web-empty-'))
    t.after(() => rmSync(empty, { recursive: true, force: true }))
    const { app } = await buildHarness(t, ':memory:', { webAssetsDir: empty })
    const res = await app.inject('/ui/')
    assert.equal(res.statusCode, 503)
    assert.equal(res.json().error.code, 'ui_not_built')
    assert.match(res.json().error.message, /npm run build:web/)
    const ok = await app.inject({ url: '/v1/actions', headers: { 'x-auth-token': TOKENS.admin } })
    assert.equal(ok.statusCode, 200)
  })

  test('the build holds only what the page needs, and every file has a known type', () => {
    const assets = loadWebAssets(WEB_DIST)
    assert.ok(assets)
    assert.ok(assets.has('index.html'))
    for (const path of assets.keys())
      assert.match(path, /^(index\.html|favicon\.svg|assets\/[\w.-]+\.(js|css))$/)
  })
})
