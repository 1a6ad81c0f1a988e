/**
 * Slow and greedy clients over real sockets (issue 9, "slow clients"): a request that trickles in
 * is cut off, connections over the cap are refused while other clients keep being served, and a
 * body the server will not read (a 401, a 413) ends the connection instead of being read forever.
 * The server runs with short configured timeouts so that the suite stays fast; every bound asserted
 * here is several times the configured timeout.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp, type AppDeps } from '../../src/api/app.js'
import type { HttpLimits } from '../../src/api/http-limits.js'
import { StaticTokenAuthenticator } from '../../src/auth/token-file.js'
import { createActionService } from '../../src/local-service.js'
import { createLogger } from '../../src/security/redacting-logger.js'
import { openStores } from '../../src/store/open-store.js'
import { TOKEN_ENTRIES, TOKENS } from '../helpers/build-app.js'
import { drip, openRaw, type RawConnection, type RawResponse } from '../helpers/raw-http.js'

const SHORT: HttpLimits = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 300,
  idleTimeoutMs: 5000,
  maxConnections: 50,
  drainTimeoutMs: 10_000,
}

/** Log lines written since the last `listening` call (info level and up). */
let logLines: string[] = []

/** The real app on SQLite, listening on a free port with `limits`; closed after the test. */
async function listening(
  t: TestContext,
  limits: Partial<HttpLimits> = {},
  deps: Pick<AppDeps, 'healthProbe'> = {},
): Promise<number> {
  const stores = await openStores(':memory:')
  const lines: string[] = []
  logLines = lines
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'))
      cb()
    },
  })
  const app = await buildApp({
    service: createActionService(stores.actions),
    authenticator: new StaticTokenAuthenticator(TOKEN_ENTRIES),
    logger: createLogger({ level: 'info', destination }).logger,
    idempotency: stores.idempotency,
    httpLimits: { ...SHORT, ...limits },
    ...deps,
  })
  t.after(async () => {
    // Cut whatever a failed test left open, so that close() does not wait for it.
    app.server.closeAllConnections()
    await app.close()
    await stores.close()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return (app.server.address() as AddressInfo).port
}

function request(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ host: 'localhost', ...headers }).map(([k, v]) => `${k}: ${v}`)
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

const VM = '11111111-2222-4333-8444-555555555555'
const GET_HEALTH = request('GET', '/healthz', {})

async function answered(conn: RawConnection): Promise<RawResponse> {
  const res = await conn.response()
  assert.ok(res, `a response, got ${JSON.stringify(conn.received().slice(0, 200))}`)
  return res
}

function assertV1Error(res: RawResponse, status: number, code: string): void {
  assert.equal(res.status, status)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const body = JSON.parse(res.body) as { error: { status: number; code: string } }
  assert.equal(body.error.status, status)
  assert.equal(body.error.code, code)
}

test('an upload that trickles in is cut off at the request timeout with a 408', async (t) => {
  const port = await listening(t)
  const conn = await openRaw(port)
  conn.write(
    request('POST', '/v1/batch', {
      'x-auth-token': TOKENS.serviceA,
      'content-type': 'application/json',
      'content-length': 1_000_000,
    }),
  )
  const upload = drip(conn, '['.padEnd(1_000_000, ' '), 50)
  t.after(upload.stop)
  // Configured: 600 ms for the whole request. The drip alone would take 14 hours.
  assert.ok(await conn.closedWithin(15_000), 'the server closes the connection')
  assertV1Error(await answered(conn), 408, 'request_timeout')
  assert.ok(upload.sent() < 200, `the server stopped reading after ${upload.sent()} bytes`)
})

test('headers that trickle in, or none at all, are cut off at the headers timeout', async (t) => {
  const port = await listening(t, { requestTimeoutMs: 60_000 })
  const silent = await openRaw(port)
  const slow = await openRaw(port)
  const headers = drip(slow, `GET /v2.1/servers HTTP/1.1\r\nX-Padding: ${'a'.repeat(5000)}`, 50)
  t.after(headers.stop)
  assert.ok(await slow.closedWithin(15_000), 'slow headers: the server closes the connection')
  assert.ok(await silent.closedWithin(15_000), 'no bytes at all: the server closes the connection')
  const res = await answered(slow)
  assert.equal(res.status, 408)
  assert.equal(res.headers['content-type'], 'application/json; charset=UTF-8')
  assert.deepEqual(Object.keys(JSON.parse(res.body) as object), ['computeFault'])
})

test('an idle keep-alive connection is closed after the keep-alive timeout', async (t) => {
  const port = await listening(t, { headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 })
  const conn = await openRaw(port)
  conn.write(GET_HEALTH)
  const res = await answered(conn)
  assert.equal(res.status, 200)
  assert.notEqual(res.headers.connection, 'close', 'a normal answer keeps the connection')
  // Configured: 300 ms.
  assert.ok(await conn.closedWithin(15_000), 'the idle connection is closed')
})

test('connections over the cap are refused; clients are served again once the slow ones are cut', async (t) => {
  // Long enough that the slow clients still hold their slots below, even on a loaded machine.
  const port = await listening(t, {
    maxConnections: 4,
    headersTimeoutMs: 5000,
    requestTimeoutMs: 10_000,
  })
  // One client was there first; three slow ones fill the rest of the cap.
  const early = await openRaw(port)
  const slow: RawConnection[] = []
  for (let i = 0; i < 3; i++) {
    const conn = await openRaw(port)
    slow.push(conn)
    const d = drip(conn, GET_HEALTH, 100)
    t.after(d.stop)
  }
  await sleep(100)
  const over = await openRaw(port)
  assert.ok(await over.closedWithin(5000), 'the fifth connection is closed at once')
  assert.equal(over.received(), '', 'without an answer: nothing is read from it')
  const second = await openRaw(port)
  assert.ok(await second.closedWithin(5000), 'and so is the next one')
  // Refusals are logged as a count, one line for a burst, never a line per connection.
  const warnings = logLines.filter((l) => l.includes('connection cap reached'))
  assert.equal(warnings.length, 1, logLines.join(''))
  assert.match(warnings[0] ?? '', /"maxConnections":4/)
  // The client inside the cap is served while the slow ones still hold their connections.
  early.write(GET_HEALTH)
  assert.equal((await answered(early)).status, 200)
  assert.ok(
    slow.every((c) => !c.isClosed()),
    'the slow clients are still connected',
  )
  // Configured: 5 s for the headers; then the slots are free again.
  for (const conn of slow) assert.ok(await conn.closedWithin(15_000), 'a slow client is cut off')
  const later = await openRaw(port)
  later.write(GET_HEALTH)
  assert.equal((await answered(later)).status, 200)
})

test('a 401 to a body that was not read closes the connection instead of reading the upload', async (t) => {
  // Long timeouts: what ends the connection must be the answer, not a timeout.
  const port = await listening(t, { headersTimeoutMs: 30_000, requestTimeoutMs: 60_000 })
  const conn = await openRaw(port)
  conn.write(
    request('POST', '/v1/batch', {
      'content-type': 'application/json',
      'content-length': 1_000_000,
    }),
  )
  const upload = drip(conn, '['.padEnd(1_000_000, ' '), 20)
  t.after(upload.stop)
  const res = await answered(conn)
  assertV1Error(res, 401, 'unauthorized')
  assert.equal(res.headers.connection, 'close')
  assert.ok(await conn.closedWithin(15_000), 'the server closes the connection after its answer')
})

test('an answer from the router (undecodable path) to an unread body closes the connection', async (t) => {
  const port = await listening(t, { headersTimeoutMs: 30_000, requestTimeoutMs: 60_000 })
  for (const token of [undefined, TOKENS.serviceA]) {
    const conn = await openRaw(port)
    const auth: Record<string, string> = token === undefined ? {} : { 'x-auth-token': token }
    conn.write(
      request('POST', '/v1/instances/%zz', {
        ...auth,
        'content-type': 'application/json',
        'content-length': 1_000_000,
      }),
    )
    const upload = drip(conn, '['.padEnd(1_000_000, ' '), 20)
    t.after(upload.stop)
    const res = await answered(conn)
    assertV1Error(
      res,
      token === undefined ? 401 : 400,
      token === undefined ? 'unauthorized' : 'invalid_input',
    )
    assert.equal(res.headers.connection, 'close')
    assert.ok(await conn.closedWithin(15_000), 'the server closes the connection after its answer')
  }
})

test('a 413 to a declared length over the limit closes the connection too', async (t) => {
  const port = await listening(t, { headersTimeoutMs: 30_000, requestTimeoutMs: 60_000 })
  const conn = await openRaw(port)
  conn.write(
    request('PUT', `/v1/instances/${VM}`, {
      'x-auth-token': TOKENS.serviceA,
      'content-type': 'application/json',
      'content-length': 100_000_000,
    }),
  )
  const upload = drip(conn, '{'.padEnd(1000, ' '), 20)
  t.after(upload.stop)
  const res = await answered(conn)
  assertV1Error(res, 413, 'payload_too_large')
  assert.equal(res.headers.connection, 'close')
  assert.ok(await conn.closedWithin(15_000), 'the server closes the connection after its answer')
})

test('a request whose body was read keeps its connection', async (t) => {
  const port = await listening(t, {
    headersTimeoutMs: 30_000,
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 30_000,
  })
  const conn = await openRaw(port)
  const body = JSON.stringify({ name: 'vm', project_id: 'p', user_id: 'u' })
  conn.write(
    request('PUT', `/v1/instances/${VM}`, {
      'x-auth-token': TOKENS.serviceA,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    }) + body,
  )
  const res = await answered(conn)
  assert.equal(res.status, 201, res.body)
  assert.notEqual(res.headers.connection, 'close')
  assert.equal(await conn.closedWithin(100), false)
})

test('a request the server works on for longer than the idle timeout still gets its answer', async (t) => {
  // The idle timeout is for a client that stops reading; a server busy with a large batch or a
  // write waiting for a lock sends nothing for a while too, and must not lose its answer (found by
  // the crash suite: a two-chunk batch on a loaded machine took 246 s, past the 120 s default).
  const port = await listening(t, { idleTimeoutMs: 200 }, { healthProbe: () => sleep(800) })
  const conn = await openRaw(port)
  conn.write(GET_HEALTH)
  const res = await answered(conn)
  assert.equal(res.status, 200)
  // Once the answer is out, a quiet connection is closed as before.
  assert.ok(await conn.closedWithin(5000), 'the idle connection is closed afterwards')
})
