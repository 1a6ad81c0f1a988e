/**
 * `GET /v1/openapi.json`: public, OpenAPI 3.1, every write route with the very schemas the routes
 * validate with, and every $ref resolvable.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bodySchema, batchOperationSchema } from '../../src/api/v1/schemas.js'
import { WRITE_OPS } from '../../src/domain/write-operation.js'
import { buildHarness } from '../helpers/build-app.js'
import { ok, v1 } from './v1-helpers.js'

type Doc = {
  openapi: string
  paths: Record<string, Record<string, Record<string, unknown>>>
  components: { schemas: Record<string, unknown>; parameters: Record<string, unknown> }
}

async function fetchDoc(t: Parameters<typeof buildHarness>[0]): Promise<Doc> {
  const h = await buildHarness(t)
  return ok(await v1(h, 'GET', '/v1/openapi.json', undefined, { token: null }), 200) as unknown as Doc
}

test('is served without a token and lists every write route', async (t) => {
  const doc = await fetchDoc(t)
  assert.equal(doc.openapi, '3.1.0')
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
  assert.deepEqual(operations.sort(), [
    'DELETE /v1/instances/{uuid}',
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
  const bodyOf = (path: string, method: string) =>
    ((doc.paths[path]?.[method]?.requestBody as Record<string, unknown>).content as Record<string, { schema: unknown }>)['application/json']?.schema
  assert.deepEqual(bodyOf('/v1/instances/{uuid}', 'put'), bodySchema('instance_put'))
  assert.deepEqual(bodyOf('/v1/instances/{uuid}/actions', 'post'), bodySchema('action_start'))
  assert.deepEqual(bodyOf('/v1/instances/{uuid}/actions/{request_id}/events/{event}/finish', 'post'), bodySchema('event_finish'))
  const finish = doc.paths['/v1/instances/{uuid}/actions/{request_id}/finish']?.post?.requestBody as { required: boolean }
  assert.equal(finish.required, false, 'the finish body may be left out')
  for (const op of WRITE_OPS) {
    const name = `${op.replace(/(^|_)(\w)/g, (_m, _s: string, c: string) => c.toUpperCase())}Operation`
    assert.deepEqual(doc.components.schemas[name], batchOperationSchema(op))
  }
})

test('every operation documents its statuses, path parameters and the Idempotency-Key header', async (t) => {
  const doc = await fetchDoc(t)
  const startAction = doc.paths['/v1/instances/{uuid}/actions']?.post as Record<string, unknown>
  assert.deepEqual(Object.keys(startAction.responses as object), ['200', '201', '400', '401', '403', '404', '409', '413', '415', '422'])
  const params = startAction.parameters as Record<string, unknown>[]
  assert.deepEqual(params[0], { name: 'uuid', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 36, description: 'The instance UUID (hyphenated or 32 hex digits).' } })
  assert.deepEqual(params.at(-1), { $ref: '#/components/parameters/IdempotencyKey' })
  const batch = doc.paths['/v1/batch']?.post as { requestBody: { content: Record<string, unknown> } }
  assert.deepEqual(Object.keys(batch.requestBody.content), ['application/json', 'application/x-ndjson'])
})

test('every $ref resolves', async (t) => {
  const doc = await fetchDoc(t)
  const refs: string[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x)
        else walk(x)
      }
    }
  }
  walk(doc)
  assert.ok(refs.length > 10)
  for (const ref of refs) {
    let node: unknown = doc
    for (const part of ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown> | undefined)?.[part]
    assert.ok(node !== undefined, `${ref} resolves`)
  }
})
