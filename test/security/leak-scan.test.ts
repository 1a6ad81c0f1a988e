/**
 * The leak scan itself can fail: a leaked token, request id or path in a harness's log fails that
 * test; a stack trace in an answer is a recorded violation; and normal log lines and answers
 * (tags, instance uuids, route templates, hostIds, stored tracebacks shown to admins) pass.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import { buildHarness, LEAK_LITERALS, PROJECT_A, TOKENS, USER_B } from '../helpers/build-app.js'
import { findLeaks, stackTraceIn } from '../helpers/leak-scan.js'
import { checkResponses } from '../helpers/response-check.js'
import { ROOT, serverLogLeaks } from '../helpers/spawn-server.js'

const run = promisify(execFile)

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ACTIONTRAIL_TEST_BACKEND: 'sqlite' }
  delete env.NODE_TEST_CONTEXT
  return env
}

test('a harness whose log leaks a token, a request id or a path fails; clean traffic passes', async () => {
  const fixture = join(ROOT, 'test', 'fixtures', 'leak-scan', 'leaky-harness.ts')
  const out = await run(process.execPath, ['--import', 'tsx', '--test', fixture], {
    cwd: ROOT,
    // The fixture runs on SQLite whatever backend this suite runs on.
    // NODE_TEST_CONTEXT would make the child report to this runner instead of exiting with its
    // own verdict.
    env: childEnv(),
  }).then(
    () => assert.fail('the leaky fixture passed'),
    (err: { code: number; stdout: string }) => err,
  )
  assert.equal(out.code, 1)
  const verdicts = [...out.stdout.matchAll(/^(ok|not ok) \d+ - (.+)$/gm)].map(
    (m) => `${m[1]}: ${m[2]}`,
  )
  assert.deepEqual(verdicts, [
    'not ok: leaks a token',
    'not ok: leaks a request id',
    'not ok: leaks an absolute path',
    'ok: clean traffic passes',
  ])
  assert.match(out.stdout, /the log leaks:\n\s+"tok-reader-b-4e8a" in/)
  assert.match(out.stdout, /a request id in .*req-7 from the queue/)
  assert.match(out.stdout, /an absolute path in .*\/srv\/deploy/)
})

test('findLeaks: every fixture id, token and password, and the patterns', () => {
  for (const literal of LEAK_LITERALS) {
    assert.equal(findLeaks(`{"msg":"x ${literal} y"}`, LEAK_LITERALS).length > 0, true, literal)
  }
  const cases: [string, RegExp][] = [
    [`{"project":"${PROJECT_A.toUpperCase()}"}`, /Keystone-style/],
    ['{"msg":"Action req-50189019-626d-47fb-b944-b8342af09679 not found"}', /a request id/],
    ['{"msg":"retry tok-anything"}', /a token/],
    ['{"stack":"at f (/home/bob/app/x.js:1:2)"}', /an absolute path/],
    ['{"msg":"open /root/.ssh/id_rsa"}', /an absolute path/],
    [`{"msg":"read ${join(ROOT, 'package.json')}"}`, /an absolute path/],
    ['{"url":"file:///opt/app/x.js"}', /an absolute path/],
  ]
  for (const [line, rule] of cases) assert.match(findLeaks(line, []).join('\n'), rule, line)
})

test('findLeaks: what the redacting logger writes passes', () => {
  const line = JSON.stringify({
    level: 10,
    reqId: 'id:3f9a1c0b7d2e4f60',
    user_id: 'id:0011223344556677',
    route: '/v2.1/servers/:server_id/os-instance-actions/:request_id',
    instance: '11111111-2222-4333-8444-555555555555',
    hostId: '2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6',
    stack: 'Error: x\n    at f (src/api/app.ts:1:2)\n    at g (node:internal/x:3:4)',
    msg: 'request completed',
  })
  assert.deepEqual(findLeaks(line, LEAK_LITERALS), [])
})

test('stackTraceIn: a server stack trace in an answer, not a stored traceback', () => {
  const nodeStack = 'Error: boom\n    at Object.handler (/srv/app/dist/api/app.js:10:5)'
  const python = 'Traceback (most recent call last):\n  File "x.py", line 1, in f'
  const found = [
    JSON.stringify({ computeFault: { code: 500, message: nodeStack } }),
    JSON.stringify({ error: { code: 'x', message: 'x', stack: 'anything' } }),
    JSON.stringify({ badRequest: { code: 400, message: python } }),
    JSON.stringify({ message: 'at node:internal/process/task_queues:95:5' }),
    `<html><pre>${nodeStack}</pre></html>`,
  ]
  for (const body of found) assert.ok(stackTraceIn(body), body)
  const stored = JSON.stringify({
    instanceAction: { events: [{ traceback: python, details: nodeStack, host: 'c1' }] },
    note: 'Instance at 10:30 could not be found.',
  })
  assert.equal(stackTraceIn(stored), undefined)
})

test('the inject wrapper records an answer that carries a stack trace', async (t) => {
  // The real documents, served by a small app with one route that leaks its stack.
  const h = await buildHarness(t)
  const docs = await Promise.all(
    ['/openapi.json', '/v1/openapi.json'].map(async (url) => (await h.app.inject(url)).json()),
  )
  const app = Fastify()
  t.after(() => app.close())
  app.get('/openapi.json', async () => docs[0])
  app.get('/v1/openapi.json', async () => docs[1])
  app.get('/v2.1/servers', async (_req, reply) => {
    const err = new Error(`lookup failed for ${USER_B}`)
    return reply.code(404).send({ itemNotFound: { code: 404, message: String(err.stack) } })
  })
  const responses = await checkResponses(app)
  await app.inject({ url: '/v2.1/servers', headers: { 'x-auth-token': TOKENS.readerA } })
  assert.match(responses.violations().join('\n'), /GET \/v2\.1\/servers → 404: a stack trace/)
})

test("a spawned server's JSON log lines are scanned, its startup text is not", () => {
  const tokens = [
    { token: 'f'.repeat(48), user_id: USER_B, project_id: PROJECT_A, roles: ['admin' as const] },
  ]
  const startup = `Demo tokens (from /tmp/x/tokens.json):\n  admin project ${PROJECT_A}  token ${'f'.repeat(48)}\n`
  const clean = '{"level":30,"time":1,"reqId":"id:0011223344556677","msg":"request completed"}\n'
  assert.deepEqual(serverLogLeaks(startup + clean, tokens), [])
  const leaky = `{"level":10,"time":2,"msg":"auth with ${'f'.repeat(48)}"}\n`
  assert.match(serverLogLeaks(startup + clean + leaky, tokens).join('\n'), /"f{48}" in/)
})
