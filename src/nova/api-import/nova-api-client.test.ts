import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { test, type TestContext } from 'node:test'
import { NovaApiClient, NovaRequestError } from './nova-api-client.js'

/** A local server answering each request with the next of `answers` (status, body). */
async function serve(
  t: TestContext,
  answers: [number, string][],
): Promise<{ url: string; seen: () => number; tokens: string[] }> {
  let n = 0
  const tokens: string[] = []
  const srv: Server = createServer((req, res) => {
    tokens.push(String(req.headers['x-auth-token']))
    const [status, body] = answers[Math.min(n, answers.length - 1)] as [number, string]
    n += 1
    res.writeHead(status, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => srv.close(() => r())))
  const addr = srv.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  return { url: `http://127.0.0.1:${port}/v2.1`, seen: () => n, tokens }
}

test('5xx and 429 answers are retried, then the answer is returned', async (t) => {
  const nova = await serve(t, [
    [503, '{}'],
    [429, '{}'],
    [200, '{"ok":1}'],
  ])
  const client = new NovaApiClient({ url: nova.url, token: 'tok', rate: 0, backoffMs: 1 })
  assert.deepEqual(await client.get('/x'), { ok: 1 })
  assert.equal(nova.seen(), 3)
  assert.deepEqual(nova.tokens, ['tok', 'tok', 'tok'])
})

test('a 4xx is not retried and fails with the status, never the token', async (t) => {
  const nova = await serve(t, [[403, '{"forbidden":{}}']])
  const client = new NovaApiClient({ url: nova.url, token: 'secret-tok', rate: 0, backoffMs: 1 })
  await assert.rejects(client.get('/servers/detail?all_tenants=1'), (err: unknown) => {
    assert.ok(err instanceof NovaRequestError)
    assert.equal(err.kind, 'api')
    assert.equal(err.message, 'nova: GET /servers/detail: 403')
    return true
  })
  assert.equal(nova.seen(), 1)
})

test('a 404 is undefined when allowed; persistent 5xx gives up after the attempts', async (t) => {
  const nova = await serve(t, [[404, '{}']])
  const client = new NovaApiClient({ url: nova.url, token: 't', rate: 0, backoffMs: 1 })
  assert.equal(await client.get('/gone', undefined, true), undefined)
  const broken = await serve(t, [[500, '{}']])
  const retrying = new NovaApiClient({
    url: broken.url,
    token: 't',
    rate: 0,
    backoffMs: 1,
    attempts: 3,
  })
  await assert.rejects(retrying.get('/x'), /500 after 3 attempts/)
  assert.equal(broken.seen(), 3)
})

test('no answer at all is "unreachable" after the retries', async () => {
  const client = new NovaApiClient({
    url: 'http://127.0.0.1:9/v2.1',
    token: 't',
    rate: 0,
    backoffMs: 1,
    attempts: 2,
  })
  await assert.rejects(
    client.get('/x'),
    (err: unknown) => err instanceof NovaRequestError && err.kind === 'unreachable',
  )
})

/** A renewable token that hands out `tok-1`, `tok-2`… and records what was invalidated. */
function renewable(): {
  get: () => Promise<string>
  invalidate: (v: string) => void
  dropped: string[]
} {
  let n = 1
  const dropped: string[] = []
  return {
    get: () => Promise.resolve(`tok-${n}`),
    invalidate: (value) => {
      dropped.push(value)
      if (value === `tok-${n}`) n += 1
    },
    dropped,
  }
}

test('a 401 with a renewable token: the token is dropped and the request repeated, once', async (t) => {
  const nova = await serve(t, [
    [401, '{}'],
    [200, '{"ok":1}'],
    [401, '{}'],
    [401, '{}'],
  ])
  const token = renewable()
  const client = new NovaApiClient({ url: nova.url, token, rate: 0, backoffMs: 1 })
  assert.deepEqual(await client.get('/x'), { ok: 1 })
  assert.deepEqual(nova.tokens, ['tok-1', 'tok-2'])
  // Refused again with the new token: the second 401 is the answer (no loop of logins).
  await assert.rejects(client.get('/y'), (err: unknown) => {
    assert.ok(err instanceof NovaRequestError)
    assert.equal(err.status, 401)
    assert.equal(err.message, 'nova: GET /y: 401')
    return true
  })
  assert.deepEqual(nova.tokens, ['tok-1', 'tok-2', 'tok-2', 'tok-3'])
  assert.deepEqual(token.dropped, ['tok-1', 'tok-2'])
})

test('a 401 with a fixed token is the answer at once', async (t) => {
  const nova = await serve(t, [[401, '{}']])
  const client = new NovaApiClient({ url: nova.url, token: 'fixed', rate: 0, backoffMs: 1 })
  await assert.rejects(client.get('/x'), /nova: GET \/x: 401/)
  assert.equal(nova.seen(), 1)
})
