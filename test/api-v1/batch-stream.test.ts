/**
 * `POST /v1/batch` reads its body as a stream: a body past a limit (operations, bytes) is
 * answered 413 as soon as it crosses it, over a real socket, and the connection is closed without
 * reading the rest of the upload; nesting past the cap is a 400 for a JSON array and the line's
 * own 400 in NDJSON; an Idempotency-Key hash computed while streaming matches the one of the
 * same text sent to a buffered route.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { MAX_BATCH_OPS, MAX_JSON_DEPTH } from '../../src/api/v1/batch-parse.js'
import { idempotencyKeyHash, idempotencyRequestHash } from '../../src/api/v1/idempotency.js'
import { BATCH_BODY_LIMIT } from '../../src/api/v1/schemas.js'
import { buildHarness, PROJECT_A, TOKENS, USER_A, type Harness } from '../helpers/build-app.js'
import { assertV1Error, ok, putVm, v1, VM } from './v1-helpers.js'

interface RawAnswer {
  head: string
  body: string
  /** The server ended the connection (we never finished the upload). */
  closedByServer: boolean
}

/**
 * Sends the request head and then `chunks` (already framed) on a raw socket, never finishing
 * the body, and resolves when the server closes the connection.
 */
async function rawUpload(h: Harness, head: string, chunks: readonly string[]): Promise<RawAnswer> {
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    let closedByServer = false
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (received += d))
    socket.on('end', () => (closedByServer = true))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const at = received.indexOf('\r\n\r\n')
      if (at < 0) {
        reject(new Error(`no answer: ${JSON.stringify(received.slice(0, 200))}`))
        return
      }
      resolve({ head: received.slice(0, at), body: received.slice(at + 4), closedByServer })
    })
    socket.write(head)
    for (const c of chunks) socket.write(c)
  })
}

function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
}

function errorOf(body: string): { status: number; code: string; message: string } {
  return (JSON.parse(body) as { error: { status: number; code: string; message: string } }).error
}

const HEAD = (extra: string) =>
  'POST /v1/batch HTTP/1.1\r\nHost: localhost\r\n' +
  `X-Auth-Token: ${TOKENS.serviceA}\r\nContent-Type: application/json\r\n${extra}\r\n`

// A server that waited for the rest of the upload would never answer: fail instead of hanging.
describe('a batch past a limit is refused as soon as it crosses it', { timeout: 60_000 }, () => {
  test('operation MAX_BATCH_OPS + 1 → 413 and the connection closed, the upload never finished', async (t) => {
    const h = await buildHarness(t)
    // One chunk with one operation too many; the upload then just stays open.
    const answer = await rawUpload(h, HEAD('Transfer-Encoding: chunked\r\n'), [
      chunk('[' + '{},'.repeat(MAX_BATCH_OPS + 1)),
    ])
    assert.match(answer.head, /^HTTP\/1\.1 413 /)
    assert.match(answer.head, /\r\nconnection: close/i)
    assert.deepEqual(errorOf(answer.body), {
      status: 413,
      code: 'payload_too_large',
      message: `The batch has more than ${MAX_BATCH_OPS} operations; at most ${MAX_BATCH_OPS} are allowed`,
    })
    assert.ok(answer.closedByServer)
  })

  test('a Content-Length over the limit → 413 before any of the body is sent', async (t) => {
    const h = await buildHarness(t)
    const answer = await rawUpload(h, HEAD(`Content-Length: ${BATCH_BODY_LIMIT + 1}\r\n`), [])
    assert.match(answer.head, /^HTTP\/1\.1 413 /)
    assert.equal(errorOf(answer.body).code, 'payload_too_large')
    assert.ok(answer.closedByServer)
  })

  test('chunked bytes past the limit → 413 at the chunk that crosses it', async (t) => {
    const h = await buildHarness(t)
    const spaces = ' '.repeat(1024 * 1024)
    const chunks = [chunk('[')]
    for (let sent = 1; sent <= BATCH_BODY_LIMIT; sent += spaces.length) chunks.push(chunk(spaces))
    const answer = await rawUpload(h, HEAD('Transfer-Encoding: chunked\r\n'), chunks)
    assert.match(answer.head, /^HTTP\/1\.1 413 /)
    assert.equal(errorOf(answer.body).code, 'payload_too_large')
  })
})

describe('nesting', () => {
  test('a JSON array nested past the cap → 400 for the whole body (a million levels: no crash)', async (t) => {
    const h = await buildHarness(t)
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000)
    assertV1Error(
      await v1(h, 'POST', '/v1/batch', deep, { headers: { 'content-type': 'application/json' } }),
      400,
      'invalid_input',
      `body is nested more than ${MAX_JSON_DEPTH} levels deep`,
    )
    assert.equal(await h.service.getInstance(VM), undefined)
  })

  test('an NDJSON line nested past the cap is that line’s 400; the others apply', async (t) => {
    const h = await buildHarness(t)
    const put = { op: 'instance_put', instance_uuid: VM, name: 'n', project_id: 'p', user_id: 'u' }
    const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)
    const text = [deep, JSON.stringify(put)].join('\n')
    const body = ok(
      await v1(h, 'POST', '/v1/batch', text, {
        headers: { 'content-type': 'application/x-ndjson' },
      }),
      200,
    )
    assert.deepEqual(body.results, [
      {
        status: 400,
        error: {
          status: 400,
          code: 'invalid_input',
          message: `line 1 is nested more than ${MAX_JSON_DEPTH} levels deep`,
        },
      },
      { status: 201 },
    ])
  })
})

test('the Idempotency-Key hash of a streamed batch is the hash of its text', async (t) => {
  const h = await buildHarness(t)
  await putVm(h)
  const text = '\ufeff[{"op":"instance_delete","instance_uuid":"' + VM + '"}]'
  const headers = { 'content-type': 'application/json', 'idempotency-key': 'stream-1' }
  ok(await v1(h, 'POST', '/v1/batch', text, { headers }), 200)
  const replay = await v1(h, 'POST', '/v1/batch', text, { headers })
  assert.equal(replay.headers['idempotent-replayed'], 'true')
  const principal = { userId: USER_A, projectId: PROJECT_A, roles: new Set(['service'] as const) }
  const stored = await h.idempotency.get(idempotencyKeyHash(principal, 'stream-1'))
  assert.equal(stored?.requestHash, idempotencyRequestHash('POST', '/v1/batch', text))
})
