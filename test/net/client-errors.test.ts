/**
 * Requests too malformed for the router (issue 9, "error formats"): headers over the size limit
 * (431), a broken header line or request line (400) and a request timeout (408) are answered in
 * the format of the surface the path names — a Nova fault for the compute API and the root, the
 * `{"error": …}` body under /v1 — never in Node's or Fastify's own format, never echoing what the
 * client sent, and the connection is closed after the answer.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { buildApp } from '../../src/api/app.js'
import { StaticTokenAuthenticator } from '../../src/auth/token-file.js'
import { createActionService } from '../../src/local-service.js'
import { createLogger } from '../../src/security/redacting-logger.js'
import { openStores } from '../../src/store/open-store.js'
import { TOKEN_ENTRIES, TOKENS } from '../helpers/build-app.js'
import { openRaw, type RawResponse } from '../helpers/raw-http.js'

/** What the client sends that must never come back. */
const MARKER = 'SeCrEt-mArKeR-7f3a'

async function listening(t: TestContext): Promise<number> {
  const stores = await openStores(':memory:')
  const app = await buildApp({
    service: createActionService(stores.actions),
    authenticator: new StaticTokenAuthenticator(TOKEN_ENTRIES),
    logger: createLogger({ level: 'silent' }).logger,
    idempotency: stores.idempotency,
  })
  t.after(async () => {
    app.server.closeAllConnections()
    await app.close()
    await stores.close()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as AddressInfo).port
}

/** Sends `raw` on a fresh connection; the answer, after the server closed the connection. */
async function exchange(port: number, raw: string): Promise<RawResponse> {
  const conn = await openRaw(port)
  conn.write(raw)
  assert.ok(await conn.closedWithin(15_000), 'the server closes the connection after its answer')
  const res = await conn.response(0)
  assert.ok(res, `a complete response, got ${JSON.stringify(conn.received().slice(0, 300))}`)
  assert.ok(!conn.received().includes(MARKER), 'nothing the client sent is echoed')
  assert.match(res.headers['x-openstack-request-id'] ?? '', /^req-[0-9a-f-]{36}$/)
  return res
}

function assertFault(res: RawResponse, status: number, name: string): void {
  assert.equal(res.status, status, res.body)
  assert.equal(res.headers['content-type'], 'application/json; charset=UTF-8')
  const body = JSON.parse(res.body) as Record<string, { code: number; message: string }>
  assert.deepEqual(Object.keys(body), [name])
  assert.equal(body[name]?.code, status)
  assert.equal(typeof body[name]?.message, 'string')
  assert.equal(res.headers.connection, 'close')
}

function assertV1Error(res: RawResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.body)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = JSON.parse(res.body) as { error: Record<string, unknown> }
  assert.deepEqual(Object.keys(body), ['error'])
  assert.deepEqual(Object.keys(body.error), ['status', 'code', 'message'])
  assert.equal(body.error.status, status)
  assert.equal(body.error.code, code)
  assert.equal(typeof body.error.message, 'string')
  assert.equal(res.headers.connection, 'close')
}

function get(path: string, extraHeaderLines: string[] = []): string {
  const lines = ['Host: localhost', `X-Auth-Token: ${TOKENS.admin}`, ...extraHeaderLines]
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

// Node's limit is 16 KiB for the whole header section.
const HUGE_HEADER = `X-Padding: ${MARKER}${'a'.repeat(20_000)}`

test('431: headers over the size limit, in the Nova fault format on the compute API', async (t) => {
  const port = await listening(t)
  const res = await exchange(port, get('/v2.1/servers', [HUGE_HEADER]))
  assertFault(res, 431, 'computeFault')
})

test('431 under /v1 is a /v1 error', async (t) => {
  const port = await listening(t)
  const res = await exchange(port, get('/v1/actions', [HUGE_HEADER]))
  assertV1Error(res, 431, 'request_header_fields_too_large')
})

test('a header line without a colon is a 400 in the surface format', async (t) => {
  const port = await listening(t)
  assertFault(await exchange(port, get('/v2.1/servers', [`broken ${MARKER}`])), 400, 'badRequest')
  assertV1Error(
    await exchange(port, get('/v1/actions', [`broken ${MARKER}`])),
    400,
    'invalid_input',
  )
})

test('a header with a control character is a 400 in the surface format', async (t) => {
  const port = await listening(t)
  const res = await exchange(port, get('/v1/actions', [`X-Bad: ${MARKER}\x01`]))
  assertV1Error(res, 400, 'invalid_input')
})

test('an unparseable request line is a 400 Nova fault (the root format, the documented default)', async (t) => {
  const port = await listening(t)
  assertFault(await exchange(port, `${MARKER} \x00\x01\r\n\r\n`), 400, 'badRequest')
  assertFault(await exchange(port, `GET /v1/actions HTTP/9.9 ${MARKER}\r\n\r\n`), 400, 'badRequest')
})

test('a broken chunked body under /v1 is a 400 /v1 error', async (t) => {
  const port = await listening(t)
  const raw =
    'POST /v1/batch HTTP/1.1\r\nHost: localhost\r\n' +
    `X-Auth-Token: ${TOKENS.serviceA}\r\nContent-Type: application/json\r\n` +
    `Transfer-Encoding: chunked\r\n\r\nzz${MARKER}\r\n`
  assertV1Error(await exchange(port, raw), 400, 'invalid_input')
})

test('chunk extensions over the limit under /v1 are a 413 /v1 error', async (t) => {
  const port = await listening(t)
  const raw =
    'POST /v1/batch HTTP/1.1\r\nHost: localhost\r\n' +
    `X-Auth-Token: ${TOKENS.serviceA}\r\nContent-Type: application/json\r\n` +
    `Transfer-Encoding: chunked\r\n\r\n1;${MARKER}=${'x'.repeat(20_000)}\r\n[\r\n`
  assertV1Error(await exchange(port, raw), 413, 'payload_too_large')
})
