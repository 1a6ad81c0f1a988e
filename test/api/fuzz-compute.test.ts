/**
 * Fuzzing the Nova-compatible surface (issue 9, suite 1): every route of `/openapi.json`, read from
 * the document itself so that a new route is fuzzed without new test code, gets generated ids,
 * query strings, tokens, microversion headers, content types and bodies, on a store seeded with
 * two projects' servers and actions. Every answer keeps the invariants of
 * test/helpers/fuzz.ts (never a 5xx, Nova's fault format, bounded time) and matches the OpenAPI
 * document (the harness checks that).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  buildHarness,
  PROJECT_A,
  PROJECT_B,
  TOKENS,
  USER_B,
  type Harness,
} from '../helpers/build-app.js'
import {
  assertAnswerInvariants,
  contentType,
  fuzzParameters,
  headerText,
  hostileText,
  MAX_CASE_MS,
  percentEncode,
  queryString,
  segment,
  surfaceOf,
  tokenHeader,
  versionHeaders,
} from '../helpers/fuzz.js'
import {
  CREATE_REQ,
  seedAction,
  seedCreateStop,
  seedServer,
  STOP_REQ,
  UNKNOWN_SERVER,
} from '../helpers/seed.js'

const SERVER_B = '22222222-3333-4444-8555-666666666666'

/** Known values per path parameter name: the seeded ones first, so that routes reach their data. */
const KNOWN: Record<string, readonly string[]> = {
  project_id: [PROJECT_A, PROJECT_B, '6f70656e737461636b20342065766572'],
  server_id: ['11111111-2222-4333-8444-555555555555', SERVER_B, UNKNOWN_SERVER, 'vm-1'],
  request_id: [CREATE_REQ, STOP_REQ, 'req-b', 'req-00000000-0000-4000-8000-000000000000'],
}

const QUERY_NAMES = [
  'limit',
  'marker',
  'changes-since',
  'changes-before',
  'name',
  'all_tenants',
  'all_projects',
  'project_id',
  'deleted',
  'sort_key',
]

async function seeded(h: Harness): Promise<void> {
  await seedCreateStop(h)
  await seedServer(h, { uuid: SERVER_B, name: 'vm-b', projectId: PROJECT_B, userId: USER_B })
  await seedAction(h, {
    server: SERVER_B,
    action: 'reboot',
    requestId: 'req-b',
    projectId: PROJECT_B,
    userId: USER_B,
    events: [
      {
        event: 'compute_reboot_instance',
        result: 'Error',
        traceback: 'Traceback (most recent call last):\n  File "nova/x.py", line 1\nValueError',
        details: 'failed \u001b[31m',
      },
    ],
  })
}

/** The templates of the compute document: `/v2.1/servers/{server_id}` and the like. */
async function computeTemplates(h: Harness): Promise<string[]> {
  const doc = (await h.app.inject('/openapi.json')).json<{ paths: Record<string, unknown> }>()
  return Object.keys(doc.paths)
}

/** A concrete path for a template, each `{param}` replaced by a generated segment. */
function pathFor(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string)
  return fc.tuple(...names.map((n) => segment(KNOWN[n] ?? ['x']))).map((values) => {
    let i = 0
    return template.replace(/\{[^}]+\}/g, () => values[i++] as string)
  })
}

/** A path that is no route: unknown segments under each surface's prefix, stray slashes. */
const strayPath = fc.oneof(
  fc.constantFrom('/v2.1/flavors', '/v2.1/servers/', '//v2.1//servers', '/v2.1/os-hosts', '/v3'),
  hostileText(3).map((t) => `/v2.1/${percentEncode(t)}`),
  hostileText(3).map((t) => `/${percentEncode(t)}`),
  fc.constantFrom('/v2.1/servers/x/os-instance-actions/y/z', '/v2.1/servers/%zz/../..'),
)

const method = fc.oneof(
  { weight: 12, arbitrary: fc.constant('GET') },
  { weight: 1, arbitrary: fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
)

const body = fc.option(
  fc.oneof(
    hostileText(6),
    fc.constantFrom('{}', '[]', '{"server": {}}', 'null', '{', '\ufeff{}'),
    fc.json({ maxDepth: 3 }),
  ),
  { freq: 4 },
)

const request = (templates: string[]) =>
  fc.record({
    method,
    path: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...templates).chain(pathFor) },
      { weight: 1, arbitrary: strayPath },
    ),
    query: queryString(QUERY_NAMES, [...KNOWN.request_id!, 'vm-1', 'vm-b', 'True', '1']),
    token: tokenHeader(Object.values(TOKENS)),
    version: versionHeaders(),
    contentType: contentType(),
    // Links in answers are built from the Host header.
    host: fc.option(
      fc.oneof(
        fc.constantFrom('nova.example:8774', '[::1]:8774', 'a b', 'h/p?q#f', 'x:99999', '', '..'),
        headerText(40),
      ),
      { freq: 3 },
    ),
    accept: fc.option(
      fc.oneof(fc.constantFrom('application/json', 'text/html', '*/*'), headerText(30)),
      {
        freq: 3,
      },
    ),
    body,
  })

test('every compute route keeps its invariants under generated input', async (t) => {
  const h = await buildHarness(t)
  await seeded(h)
  const templates = await computeTemplates(h)
  assert.ok(templates.length >= 10, `routes read from the document: ${templates.length}`)
  const params = fuzzParameters(t, 8000)
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(request(templates), async (r) => {
      const headers: Record<string, string> = { ...r.token, ...r.version }
      if (r.contentType !== undefined) headers['content-type'] = r.contentType
      if (r.accept !== null) headers.accept = r.accept
      if (r.host !== null) headers.host = r.host
      // Dot segments are resolved before the request is sent (light-my-request and HTTP clients
      // use WHATWG URL parsing); the answer is checked against the path the server received.
      const parsed = new URL(`http://localhost${r.path}${r.query}`)
      const url = parsed.pathname + parsed.search
      const started = performance.now()
      const res = await h.app.inject({
        method: r.method as 'GET',
        url,
        headers,
        ...(r.body !== null && r.method !== 'GET' && r.method !== 'HEAD'
          ? { payload: r.body }
          : {}),
      })
      const ms = performance.now() - started
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      const what = `${r.method} ${url} ${JSON.stringify(headers).slice(0, 300)}`
      assert.ok(ms < MAX_CASE_MS, `bounded time (${Math.round(ms)} ms): ${what}`)
      assertAnswerInvariants(res, surfaceOf(parsed.pathname), r.method, what)
    }),
    params,
  )
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  // The generators must reach the data, not only the error paths.
  assert.ok((statuses.get(200) ?? 0) > params.numRuns / 20, 'enough cases reach a 200')
})
