/**
 * `GET /openapi.json`: the compute surface's OpenAPI 3.1 document, public, with both URL forms,
 * the microversioned shapes as one component per version range, and Nova faults for the errors.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness } from '../helpers/build-app.js'

type Operation = {
  parameters?: { name: string; in: string }[]
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: Record<string, unknown> }> }
  >
}
type Doc = {
  openapi: string
  info: { description: string }
  paths: Record<string, Record<string, Operation>>
}

async function fetchDoc(t: Parameters<typeof buildHarness>[0]): Promise<Doc> {
  const h = await buildHarness(t)
  const res = await h.app.inject('/openapi.json')
  assert.equal(res.statusCode, 200)
  return res.json<Doc>()
}

test('is public and lists the compute routes under both URL forms', async (t) => {
  const doc = await fetchDoc(t)
  assert.equal(doc.openapi, '3.1.0')
  for (const path of [
    '/',
    '/v2.1/',
    '/v2.1/servers/{server_id}/os-instance-actions',
    '/v2.1/servers/{server_id}/os-instance-actions/{request_id}',
    '/v2.1/{project_id}/servers/{server_id}/os-instance-actions',
    '/v2.1/servers/detail',
  ]) {
    assert.ok(doc.paths[path]?.get, `${path} is documented`)
  }
  assert.ok(
    !Object.keys(doc.paths).some((p) => p.startsWith('/v1')),
    'the /v1 surface has its own document',
  )
})

test('path parameters are those of each URL form', async (t) => {
  const doc = await fetchDoc(t)
  const names = (path: string) =>
    (doc.paths[path]?.get?.parameters ?? [])
      .filter((p) => p.in === 'path')
      .map((p) => p.name)
      .sort()
  assert.deepEqual(names('/v2.1/servers/{server_id}/os-instance-actions'), ['server_id'])
  assert.deepEqual(names('/v2.1/{project_id}/servers/{server_id}/os-instance-actions'), [
    'project_id',
    'server_id',
  ])
})

test('the microversioned shapes are one titled component per version range', async (t) => {
  const doc = await fetchDoc(t)
  const show = doc.paths['/v2.1/servers/{server_id}/os-instance-actions/{request_id}']?.get
  const detail = show?.responses['200']?.content?.['application/json']?.schema.properties as Record<
    string,
    { anyOf: { title: string }[] }
  >
  assert.deepEqual(
    detail.instanceAction?.anyOf.map((s) => s.title),
    [
      'InstanceActionDetail_2_1',
      'InstanceActionDetail_2_51',
      'InstanceActionDetail_2_58',
      'InstanceActionDetail_2_62',
      'InstanceActionDetail_2_84',
    ],
  )
  assert.match(doc.info.description, /2\.58 adds `updated_at`/)
  const notFound = show?.responses['404']
  assert.match(notFound?.description ?? '', /itemNotFound/)
})
