/**
 * `GET /v1/openapi.json`: public, OpenAPI 3.1, generated from the routes' own schemas (the very
 * objects the routes validate with), with every status a write can answer, and every $ref
 * resolvable. (Every answer the suites receive is also checked against it: test/helpers.)
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ActionStartBody,
  BATCH_OPERATIONS,
  EventFinishBody,
  InstancePutBody,
} from '../../src/api/v1/schemas.js'
import { COMMON_SINGLE } from '../../src/api/v1/search-params.js'
import { WRITE_OPS } from '../../src/domain/write-operation.js'
import { buildHarness } from '../helpers/build-app.js'
import { ok, v1 } from './v1-helpers.js'

type Doc = {
  openapi: string
  paths: Record<string, Record<string, Record<string, unknown>>>
  components: Record<string, unknown>
}

async function fetchDoc(t: Parameters<typeof buildHarness>[0]): Promise<Doc> {
  const h = await buildHarness(t)
  return ok(
    await v1(h, 'GET', '/v1/openapi.json', undefined, { token: null }),
    200,
  ) as unknown as Doc
}

// The schema as JSON (what the document can carry), for comparisons.
const plain = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema))

test('is served without a token and lists every route', async (t) => {
  const doc = await fetchDoc(t)
  assert.equal(doc.openapi, '3.1.0')
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
  )
  assert.deepEqual(operations.sort(), [
    'DELETE /v1/instances/{uuid}',
    'GET /v1/actions',
    'GET /v1/checkpoints',
    'GET /v1/events',
    'GET /v1/export',
    'GET /v1/instances',
    'GET /v1/stream',
    'POST /v1/batch',
    'POST /v1/instances/{uuid}/actions',
    'POST /v1/instances/{uuid}/actions/{request_id}/events',
    'POST /v1/instances/{uuid}/actions/{request_id}/events/{event}/finish',
    'POST /v1/instances/{uuid}/actions/{request_id}/finish',
    'PUT /v1/instances/{uuid}',
  ])
})

test('request bodies are the schemas the routes validate with', async (t) => {
  const doc = await fetchDoc(t)
  const body = (path: string, method: string) =>
    doc.paths[path]?.[method]?.requestBody as {
      required: boolean
      content: Record<string, { schema: unknown }>
    }
  assert.deepEqual(
    body('/v1/instances/{uuid}', 'put').content['application/json']?.schema,
    plain(InstancePutBody),
  )
  assert.deepEqual(
    body('/v1/instances/{uuid}/actions', 'post').content['application/json']?.schema,
    plain(ActionStartBody),
  )
  assert.deepEqual(
    body('/v1/instances/{uuid}/actions/{request_id}/events/{event}/finish', 'post').content[
      'application/json'
    ]?.schema,
    plain(EventFinishBody),
  )
  assert.equal(
    body('/v1/instances/{uuid}/actions/{request_id}/finish', 'post').required,
    false,
    'the finish body may be left out',
  )
  assert.equal(body('/v1/instances/{uuid}/actions', 'post').required, true)
  const batch = body('/v1/batch', 'post')
  assert.deepEqual(Object.keys(batch.content), ['application/json', 'application/x-ndjson'])
  const items = (
    batch.content['application/json']?.schema as {
      items: { anyOf: { properties: Record<string, unknown> }[] }
    }
  ).items.anyOf
  // The generator writes `op`'s const as a one-value enum; every other field is the route's own.
  const withoutOp = (schema: unknown) => {
    const copy = plain(schema) as { properties: Record<string, unknown> }
    delete copy.properties.op
    return copy
  }
  assert.deepEqual(
    items.map((item) => item.properties.op),
    WRITE_OPS.map((op) => ({ type: 'string', enum: [op] })),
  )
  assert.deepEqual(
    items.map(withoutOp),
    WRITE_OPS.map((op) => withoutOp(BATCH_OPERATIONS[op])),
  )
})

test('every operation documents its statuses, path parameters and the Idempotency-Key header', async (t) => {
  const doc = await fetchDoc(t)
  const startAction = doc.paths['/v1/instances/{uuid}/actions']?.post as Record<string, unknown>
  assert.deepEqual(Object.keys(startAction.responses as object).sort(), [
    '200',
    '201',
    '400',
    '401',
    '403',
    '404',
    '408',
    '409',
    '413',
    '415',
    '422',
    '429',
    '431',
    '500',
    '503',
  ])
  const params = startAction.parameters as Record<string, unknown>[]
  const uuid = params.find((p) => p.name === 'uuid')
  assert.deepEqual(uuid, {
    schema: { type: 'string', minLength: 1, maxLength: 36 },
    in: 'path',
    name: 'uuid',
    required: true,
    description: 'The instance UUID (hyphenated or 32 hex digits).',
  })
  const key = params.find((p) => p.name === 'idempotency-key')
  assert.equal(key?.in, 'header')
  assert.equal(key?.required, false)
  const created = (startAction.responses as Record<string, { description: string }>)['201']
  assert.equal(created?.description, 'Started.')
})

test('every $ref resolves', async (t) => {
  const doc = await fetchDoc(t)
  const walk = (v: unknown, refs: string[]): string[] => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, refs))
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x)
        else walk(x, refs)
      }
    }
    return refs
  }
  for (const ref of walk(doc, [])) {
    let node: unknown = doc
    for (const part of ref.replace(/^#\//, '').split('/'))
      node = (node as Record<string, unknown> | undefined)?.[part]
    assert.ok(node !== undefined, `${ref} resolves`)
  }
})

test('the query routes document every parameter they accept and their statuses', async (t) => {
  const doc = await fetchDoc(t)
  const names = (path: string) =>
    ((doc.paths[path]?.get?.parameters ?? []) as { name: string; in: string }[])
      .filter((p) => p.in === 'query')
      .map((p) => p.name)
      .sort()
  // Exactly what the parser accepts (search-params.ts), plus each route's own parameter.
  const common = [...COMMON_SINGLE, 'action']
  assert.deepEqual(names('/v1/actions'), [...common, 'include'].sort())
  assert.deepEqual(names('/v1/events'), [...common, 'event'].sort())
  const events = doc.paths['/v1/events']?.get as Record<string, unknown>
  const statuses = Object.keys(events.responses as object)
  for (const status of ['200', '400', '401', '403']) assert.ok(statuses.includes(status), status)
})
