/**
 * Fuzzing the write API (issue 9, suite 1): every route of `/v1/openapi.json`, read from the
 * document, gets generated ids, tokens, content types, Idempotency-Keys and bodies — valid
 * operations with mutated fields (wrong types, hostile text, boundary lengths, unknown and
 * prototype keys), invalid UTF-8 bytes, lone surrogates, deep nesting, huge bodies, NDJSON with
 * junk lines. Every answer keeps the invariants of test/helpers/fuzz.ts (never a 5xx, the /v1
 * error body, bounded time, the OpenAPI document); a write the API acknowledged is readable
 * afterwards, and no stored text it echoes carries a control character.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import fc from 'fast-check'
import { buildHarness, TOKENS, type Harness } from '../helpers/build-app.js'
import {
  assertAnswerInvariants,
  boundaryLengthText,
  contentType,
  deeplyNested,
  fuzzParameters,
  headerText,
  hostileText,
  MAX_CASE_MS,
  segment,
  surfaceOf,
  tokenHeader,
} from '../helpers/fuzz.js'
import { seedCreateStop, SERVER, STOP_REQ, CREATE_REQ, UNKNOWN_SERVER } from '../helpers/seed.js'

// Mostly the roles that may write, so that the cases reach the handlers; the others once each.
const WRITERS = [TOKENS.serviceA, TOKENS.serviceA, TOKENS.serviceA, TOKENS.admin, TOKENS.admin]
const READERS = [TOKENS.memberA, TOKENS.readerA]

const KNOWN: Record<string, readonly string[]> = {
  uuid: [SERVER, SERVER.replace(/-/g, ''), UNKNOWN_SERVER, '33333333-4444-4555-8666-777777777777'],
  request_id: [CREATE_REQ, STOP_REQ, 'req-fuzz-1', 'req-fuzz-2'],
  event: ['compute_stop_instance', 'compute_reboot_instance', 'ev'],
}

const TIMES = [
  '2026-01-31T12:34:56.123456Z',
  '2026-01-31T12:34:56',
  '2026-01-31T12:34:56+02:00',
  '2026-02-30T00:00:00',
  '2026-01-31T12:34:56.1234567',
  '0001-01-01T00:00:00',
  '9999-12-31T23:59:59.999999',
  '1970-01-01',
  'now',
]

/** `null` n times out of n + 1, otherwise a value of `arbitrary`. */
function rarely<T>(arbitrary: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: n, arbitrary: fc.constant(null) }, { weight: 1, arbitrary })
}

/** A field value: usually valid, otherwise of a wrong type, hostile, or at a length boundary. */
function field(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 40, arbitrary: valid },
    { weight: 1, arbitrary: hostileText(6) },
    { weight: 1, arbitrary: boundaryLengthText('n') },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom(null, true, 0, -1, 1e308, '', ' ', [], {}, ['x'], { $ne: 1 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
  )
}

/**
 * A name the API may well accept and must then serve back safely: Unicode, invisible characters,
 * quotes, markup, and URL syntax that a reader must percent-encode to ask for it.
 */
const oddName = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }),
  fc.constantFrom(
    'req-../..',
    '.',
    '..',
    'a/b',
    '%2F',
    '?x=1#y',
    ' lead and trail ',
    'ünïcødé',
    'zw\u200bsp',
    '\u202eevil',
    `a"b'c\\d`,
    '<script>alert(1)</script>',
    'x'.repeat(255),
  ),
)
const known = (values: readonly string[]) =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: oddName })
const name = (values: readonly string[]) => field(known(values))
const nullableName = (values: readonly string[]) =>
  field(fc.oneof(known(values), fc.constant(null)))
const time = field(fc.constantFrom(...TIMES))
const text = field(
  fc.oneof(
    hostileText(10),
    fc.constantFrom(
      'Traceback (most recent call last):\n  File "/opt/stack/nova/nova/x.py", line 1\nValueError',
      'mysql://nova:slA/shPw3@db/nova failed \u001b[31mred\u0007',
      null,
    ),
  ),
)

/** The fields of each operation, named as in a batch (`instance_uuid`, `request_id`, `event`). */
const OPERATION_FIELDS: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  instance_put: {
    name: name(['vm-1', 'vm-2']),
    project_id: name(['project-a', 'aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa']),
    user_id: name(['user-a']),
  },
  instance_delete: {},
  action_start: {
    action: name(['reboot', 'stop', 'create']),
    request_id: name(KNOWN.request_id!),
    user_id: nullableName(['u']),
    project_id: nullableName(['p']),
    start_time: time,
  },
  action_finish: { finish_time: time },
  event_start: { event: name(KNOWN.event!), host: nullableName(['compute']), start_time: time },
  event_finish: {
    result: field(fc.constantFrom('Success', 'Error', 'success', 'ERROR')),
    finish_time: time,
    details: text,
    traceback: text,
  },
}

function droppedField(keys: string[]): fc.Arbitrary<string | null> {
  return keys.length === 0 ? fc.constant(null) : rarely(fc.constantFrom(...keys), 10)
}

/** The body of one operation: its fields, some left out, maybe with unknown or prototype keys. */
function operationBody(op: string): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(OPERATION_FIELDS[op] ?? {}),
      // Now and then a field is left out.
      droppedField(Object.keys(OPERATION_FIELDS[op] ?? {})),
      rarely(
        fc.dictionary(
          fc.constantFrom('extra', '__proto__', 'constructor', 'prototype', 'op', 'uuid', ''),
          fc.jsonValue({ maxDepth: 1 }),
          { minKeys: 1, maxKeys: 2 },
        ),
        10,
      ),
    )
    .map(([fields, dropped, extra]) => {
      // JSON.parse would make `__proto__` an own key: build it the same way.
      const body = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>
      if (dropped !== null) delete body[dropped]
      if (extra)
        for (const [k, v] of Object.entries(extra))
          Object.defineProperty(body, k, {
            value: v,
            enumerable: true,
            configurable: true,
            writable: true,
          })
      return body
    })
}

/** One batch operation: `op`, its path fields and its body fields, mutated like a single body. */
const batchOperation = fc.constantFrom(...Object.keys(OPERATION_FIELDS), 'nope', '').chain((op) =>
  fc
    .tuple(
      operationBody(op),
      fc.record(
        {
          instance_uuid: field(fc.constantFrom(...KNOWN.uuid!)),
          request_id: name(KNOWN.request_id!),
          event: name(KNOWN.event!),
        },
        { requiredKeys: ['instance_uuid'] },
      ),
    )
    .map(([body, path]) => ({ op, ...path, ...body })),
)

const INVALID_UTF8 = [
  Buffer.from([0xff]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
]

/** A JSON text with invalid UTF-8 bytes spliced in at a generated position. */
function withInvalidUtf8(json: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  return fc.tuple(json, fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([text, at, bad]) => {
    const bytes = Buffer.from(text, 'utf8')
    const cut = bytes.length === 0 ? 0 : at % bytes.length
    return Buffer.concat([bytes.subarray(0, cut), bad, bytes.subarray(cut)])
  })
}

/** Payloads no valid body looks like: deep nesting, huge strings, junk text, JSON of other shapes. */
const oddPayload: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'null',
    '[]',
    '{}',
    '{',
    '"x"',
    '1e999999',
    '{"a":1,"a":2}',
    '\ufeff{}',
    '{"__proto__":{"polluted":1}}',
    deeplyNested(10_000, 'array'),
    deeplyNested(10_000, 'object'),
    `{"name":"${'x'.repeat(1024 * 1024)}"}`,
  ),
  hostileText(8),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
)

/** An NDJSON batch: operations and junk lines, blank lines, CRLF, a BOM. */
const ndjson = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: batchOperation.map((o) => JSON.stringify(o)) },
      { weight: 1, arbitrary: fc.constantFrom('', '   ', '{', '[]', 'null', '\r', '\ufeff{}') },
      { weight: 1, arbitrary: hostileText(4) },
    ),
    { maxLength: 8 },
  )
  .chain((lines) => fc.constantFrom('\n', '\r\n', '\n\n').map((sep) => lines.join(sep)))

interface Route {
  method: string
  template: string
}

/** The payload of a request to `route`: its operation's body, mutated, in some encoding. */
function payloadFor(route: Route): fc.Arbitrary<{ payload?: string | Buffer; ndjson: boolean }> {
  const op = opOfRoute(route)
  const json: fc.Arbitrary<string> =
    op === 'batch'
      ? fc.array(batchOperation, { maxLength: 8 }).map((ops) => JSON.stringify(ops))
      : operationBody(op).map((b) => JSON.stringify(b))
  return fc.oneof(
    { weight: 10, arbitrary: json.map((payload) => ({ payload, ndjson: false })) },
    { weight: 2, arbitrary: withInvalidUtf8(json).map((payload) => ({ payload, ndjson: false })) },
    { weight: 2, arbitrary: oddPayload.map((payload) => ({ payload, ndjson: false })) },
    {
      weight: op === 'batch' ? 6 : 1,
      arbitrary: fc.oneof(ndjson, withInvalidUtf8(ndjson)).map((payload) => ({
        payload,
        ndjson: true,
      })),
    },
    { weight: 1, arbitrary: fc.constant({ ndjson: false }) },
  )
}

function opOfRoute(route: Route): string {
  const t = route.template
  if (t.endsWith('/batch')) return 'batch'
  if (t.endsWith('/events/{event}/finish')) return 'event_finish'
  if (t.endsWith('/events')) return 'event_start'
  if (t.endsWith('/finish')) return 'action_finish'
  if (t.endsWith('/actions')) return 'action_start'
  return route.method === 'DELETE' ? 'instance_delete' : 'instance_put'
}

async function writeRoutes(h: Harness): Promise<Route[]> {
  const doc = (await h.app.inject('/v1/openapi.json')).json<{
    paths: Record<string, Record<string, unknown>>
  }>()
  // Not the event stream: it answers until the client goes away, which app.inject never does
  // (test/api-v1/stream.test.ts sends it bad input over real HTTP).
  return Object.entries(doc.paths).flatMap(([template, methods]) =>
    Object.entries(methods)
      .filter(([, op]) => !JSON.stringify(op).includes('"text/event-stream"'))
      .map(([m]) => ({ method: m.toUpperCase(), template })),
  )
}

function pathFor(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string)
  return fc.tuple(...names.map((n) => segment(KNOWN[n] ?? ['x'], 40))).map((values) => {
    let i = 0
    return template.replace(/\{[^}]+\}/g, () => values[i++] as string)
  })
}

const request = (routes: Route[]) =>
  fc.constantFrom(...routes).chain((route) =>
    fc.record({
      route: fc.constant(route),
      method: fc.oneof(
        { weight: 15, arbitrary: fc.constant(route.method) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'PATCH', 'POST', 'PUT', 'DELETE') },
      ),
      path: pathFor(route.template),
      query: fc.constantFrom('', '', '', '?', '?x=1', '?x=1&x=2', '?%zz', '?op=instance_put'),
      token: fc.oneof(
        { weight: 30, arbitrary: fc.constantFrom(...WRITERS).map((t) => ({ 'x-auth-token': t })) },
        { weight: 2, arbitrary: tokenHeader(WRITERS) },
        { weight: 1, arbitrary: fc.constantFrom(...READERS).map((t) => ({ 'x-auth-token': t })) },
      ),
      payload: payloadFor(route),
      contentType: rarely(contentType(), 10),
      idempotencyKey: rarely(
        fc.oneof(
          { weight: 12, arbitrary: fc.uuid() },
          { weight: 2, arbitrary: fc.constantFrom('k1', 'k2') },
          {
            weight: 1,
            arbitrary: fc.oneof(fc.constant(''), headerText(30), boundaryLengthText('k')),
          },
        ),
        2,
      ),
    }),
  )

// C0 controls other than tab, LF and CR, DEL and C1 controls: nothing stored shows them to a reader.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

function storedTextIsClean(value: unknown, where: string): void {
  if (typeof value === 'string') assert.doesNotMatch(value, CONTROL, `control character: ${where}`)
  else if (Array.isArray(value)) for (const v of value) storedTextIsClean(v, where)
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) storedTextIsClean(v, where)
}

/**
 * Every action a write acknowledged, hostile names and all, is served by the Nova surface: listed
 * under its instance and shown by its (percent-encoded) request id, at 2.21 and the latest
 * microversion, within the invariants. At most MAX_READ_BACK actions are read, to bound the time.
 */
async function readBack(t: TestContext, h: Harness, actions: [string, string][]): Promise<void> {
  assert.ok(actions.length > 0, 'some actions were acknowledged')
  t.diagnostic(`read back: ${Math.min(actions.length, MAX_READ_BACK)} of ${actions.length} actions`)
  for (const [uuid, requestId] of actions.slice(0, MAX_READ_BACK)) {
    // From 2.21 a deleted instance's actions stay readable (the fuzz deletes instances too).
    for (const version of ['2.21', 'latest']) {
      const headers = {
        'x-auth-token': TOKENS.admin,
        'openstack-api-version': `compute ${version}`,
      }
      const listUrl = `/v2.1/servers/${uuid}/os-instance-actions`
      const list = await h.app.inject({ url: listUrl, headers })
      assertAnswerInvariants(list, 'compute', 'GET', listUrl)
      assert.equal(list.statusCode, 200, `${listUrl}: ${list.body.slice(0, 300)}`)
      const ids = list.json<{ instanceActions: { request_id: string }[] }>().instanceActions
      assert.ok(
        ids.some((a) => a.request_id === requestId),
        `acknowledged action ${JSON.stringify(requestId)} listed`,
      )
      const showUrl = `${listUrl}/${encodeURIComponent(requestId)}`
      const show = await h.app.inject({ url: showUrl, headers })
      assertAnswerInvariants(show, 'compute', 'GET', showUrl)
      assert.equal(show.statusCode, 200, `${showUrl}: ${show.body.slice(0, 300)}`)
    }
  }
}

// Enough to cover every generated request id spelling; each costs four reads.
const MAX_READ_BACK = 200

test('every write route keeps its invariants under generated input', async (t) => {
  const h = await buildHarness(t)
  await seedCreateStop(h)
  const routes = await writeRoutes(h)
  assert.ok(routes.length >= 7, `routes read from the document: ${routes.length}`)
  const params = fuzzParameters(t, 3000)
  const statuses = new Map<number, number>()
  const acknowledged = new Map<string, [string, string]>()
  await fc.assert(
    fc.asyncProperty(request(routes), async (r) => {
      const headers: Record<string, string> = { ...r.token }
      const type = r.contentType ?? (r.payload.ndjson ? 'application/x-ndjson' : 'application/json')
      if (type !== undefined) headers['content-type'] = type
      if (r.idempotencyKey !== null) headers['idempotency-key'] = r.idempotencyKey
      const parsed = new URL(`http://localhost${r.path}${r.query}`)
      const url = parsed.pathname + parsed.search
      const started = performance.now()
      const res = await h.app.inject({
        method: r.method as 'POST',
        url,
        headers,
        ...(r.payload.payload !== undefined ? { payload: r.payload.payload } : {}),
      })
      const ms = performance.now() - started
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      const shown =
        typeof r.payload.payload === 'string'
          ? r.payload.payload.slice(0, 300)
          : `<${r.payload.payload?.length ?? 0} bytes>`
      const what = `${r.method} ${url} ${JSON.stringify(headers).slice(0, 200)} ${shown}`
      assert.ok(ms < MAX_CASE_MS, `bounded time (${Math.round(ms)} ms): ${what}`)
      assertAnswerInvariants(res, surfaceOf(parsed.pathname), r.method, what)
      if (res.statusCode >= 300) return
      if (String(res.headers['content-type']).startsWith('application/x-ndjson')) {
        // GET /v1/export: every line's stored texts are clean; it acknowledges no write.
        for (const line of res.body.split('\n').filter((l) => l !== ''))
          storedTextIsClean(JSON.parse(line) as Record<string, unknown>, what)
        return
      }
      const body = JSON.parse(res.body) as Record<string, unknown>
      storedTextIsClean(body, what)
      // Nothing acknowledged is lost: an instance the API registered is there to read.
      const instance = body.instance as { uuid?: string } | undefined
      if (r.method === 'PUT' && instance?.uuid) {
        const stored = await h.service.getInstance(instance.uuid)
        assert.ok(stored, `acknowledged instance ${instance.uuid} is stored: ${what}`)
      }
      const action = body.action as { instance_uuid?: string; request_id?: string } | undefined
      if (action?.instance_uuid && action.request_id)
        acknowledged.set(`${action.instance_uuid} ${action.request_id}`, [
          action.instance_uuid,
          action.request_id,
        ])
    }),
    params,
  )
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`)
  await readBack(t, h, [...acknowledged.values()])
  assert.ok(
    (statuses.get(200) ?? 0) + (statuses.get(201) ?? 0) > params.numRuns / 20,
    'enough writes succeed',
  )
})

test('hostile request ids are stored exactly as sent, or refused with a 400', async (t) => {
  const h = await buildHarness(t)
  await seedCreateStop(h)
  const params = fuzzParameters(t, 500)
  const seen = new Set<string>()
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(oddName, hostileText(4), fc.stringMatching(/^[A-Za-z]{1,3}$/)),
      async (requestId) => {
        const res = await h.app.inject({
          method: 'POST',
          url: `/v1/instances/${SERVER}/actions`,
          headers: { 'x-auth-token': TOKENS.serviceA },
          payload: { action: 'reboot', request_id: requestId, user_id: 'u', project_id: 'p' },
        })
        const what = `request id ${JSON.stringify(requestId)}`
        assertAnswerInvariants(res, 'v1', 'POST', what)
        if (res.statusCode >= 400) {
          // A request id seen before may only be refused as a conflict, never mixed up.
          assert.ok(res.statusCode === 400 || res.statusCode === 409, `${what}: ${res.body}`)
          return
        }
        const stored = res.json<{ action: { request_id: string } }>().action.request_id
        // An id that differs from every earlier one (in case or in accents too) is a new action.
        assert.equal(stored, requestId, `${what} stored as ${JSON.stringify(stored)}`)
        if (res.statusCode === 200) assert.ok(seen.has(requestId), `${what}: 200 for a new id`)
        seen.add(requestId)
        const url = `/v2.1/servers/${SERVER}/os-instance-actions/${encodeURIComponent(requestId)}`
        const show = await h.app.inject({ url, headers: { 'x-auth-token': TOKENS.admin } })
        assertAnswerInvariants(show, 'compute', 'GET', url)
        assert.equal(show.statusCode, 200, `${url}: ${show.body.slice(0, 200)}`)
        const shown = show.json<{ instanceAction: { request_id: string } }>().instanceAction
        assert.equal(shown.request_id, requestId, `${url} shows the action asked for`)
      },
    ),
    params,
  )
})
