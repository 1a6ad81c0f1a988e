/**
 * `PUT /v1/instances/{uuid}` and `DELETE /v1/instances/{uuid}`: 201 on create, 200 on update or
 * repeat, the snake_case view, deletion keeping its first time, 404 for unknown, and the schema's
 * 400s (missing, wrong-typed, unknown and over-long fields).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildHarness } from '../helpers/build-app.js'
import { assertV1Error, ok, UNKNOWN_VM, v1, VM } from './v1-helpers.js'

const BODY = { name: 'vm-1', project_id: 'project-a', user_id: 'user-a' }

describe('PUT /v1/instances/{uuid}', () => {
  test('creates (201), repeats unchanged (200) and updates (200)', async (t) => {
    const h = await buildHarness(t)
    const created = ok(await v1(h, 'PUT', `/v1/instances/${VM}`, BODY), 201)
    const instance = created.instance as Record<string, unknown>
    assert.deepEqual(Object.keys(created), ['instance'])
    assert.deepEqual(Object.keys(instance), [
      'uuid',
      'name',
      'project_id',
      'user_id',
      'created_at',
      'updated_at',
      'deleted_at',
    ])
    assert.equal(instance.uuid, VM)
    assert.equal(instance.name, 'vm-1')
    assert.equal(instance.project_id, 'project-a')
    assert.equal(instance.user_id, 'user-a')
    assert.match(instance.created_at as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/)
    assert.equal(instance.updated_at, instance.created_at)
    assert.equal(instance.deleted_at, null)

    const again = ok(await v1(h, 'PUT', `/v1/instances/${VM}`, BODY), 200)
    assert.deepEqual(again, created, 'an unchanged repeat returns the record as it is')

    const renamed = ok(
      await v1(h, 'PUT', `/v1/instances/${VM}`, { ...BODY, name: 'vm-renamed' }),
      200,
    )
    const after = renamed.instance as Record<string, unknown>
    assert.equal(after.name, 'vm-renamed')
    assert.equal(after.created_at, instance.created_at)
    assert.ok((after.updated_at as string) > (instance.updated_at as string))
    assert.equal((await h.service.getInstance(VM))?.name, 'vm-renamed')
  })

  test('accepts the 32-hex form and stores the canonical uuid', async (t) => {
    const h = await buildHarness(t)
    const body = ok(
      await v1(h, 'PUT', `/v1/instances/${VM.replace(/-/g, '').toUpperCase()}`, BODY),
      201,
    )
    assert.equal((body.instance as Record<string, unknown>).uuid, VM)
  })

  test('accepts a charset parameter on application/json', async (t) => {
    const h = await buildHarness(t)
    const res = await v1(h, 'PUT', `/v1/instances/${VM}`, JSON.stringify(BODY), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    })
    ok(res, 201)
  })

  const invalid: { name: string; body: unknown; message: string | RegExp }[] = [
    {
      name: 'missing name',
      body: { project_id: 'p', user_id: 'u' },
      message: "body must have required property 'name'",
    },
    { name: 'wrong-typed name', body: { ...BODY, name: 42 }, message: 'body/name must be string' },
    {
      name: 'null user_id',
      body: { ...BODY, user_id: null },
      message: 'body/user_id must be string',
    },
    {
      name: 'empty name',
      body: { ...BODY, name: '' },
      message: 'body/name must NOT have fewer than 1 characters',
    },
    {
      name: 'name over 255',
      body: { ...BODY, name: 'n'.repeat(256) },
      message: 'body/name must NOT have more than 255 characters',
    },
    {
      name: 'unknown field',
      body: { ...BODY, flavor: 'm1.small' },
      message: 'body must NOT have additional properties',
    },
    { name: 'an array body', body: [BODY], message: 'body must be object' },
    { name: 'no body at all', body: undefined, message: "body must have required property 'name'" },
    {
      name: 'control characters (service rule)',
      body: { ...BODY, name: 'vm\u0000' },
      message: 'name must not contain control characters',
    },
  ]
  for (const c of invalid) {
    test(`${c.name} → 400 invalid_input`, async (t) => {
      const h = await buildHarness(t)
      assertV1Error(
        await v1(h, 'PUT', `/v1/instances/${VM}`, c.body),
        400,
        'invalid_input',
        c.message,
      )
      assert.equal(await h.service.getInstance(VM), undefined, 'nothing written')
    })
  }

  test('a path id that is not a UUID → 400', async (t) => {
    const h = await buildHarness(t)
    assertV1Error(
      await v1(h, 'PUT', '/v1/instances/not-a-uuid', BODY),
      400,
      'invalid_input',
      'instance_uuid must be a UUID',
    )
  })

  test('invalid JSON → 400 invalid_input', async (t) => {
    const h = await buildHarness(t)
    const res = await v1(h, 'PUT', `/v1/instances/${VM}`, '{"name": ', {
      headers: { 'content-type': 'application/json' },
    })
    assertV1Error(res, 400, 'invalid_input')
  })

  test('a __proto__ key is refused, not merged', async (t) => {
    const h = await buildHarness(t)
    const res = await v1(
      h,
      'PUT',
      `/v1/instances/${VM}`,
      '{"name":"a","project_id":"p","user_id":"u","__proto__":{"x":1}}',
      {
        headers: { 'content-type': 'application/json' },
      },
    )
    assertV1Error(res, 400, 'invalid_input')
  })
})

describe('DELETE /v1/instances/{uuid}', () => {
  test('sets deleted_at (200); a repeat answers 200 unchanged', async (t) => {
    const h = await buildHarness(t)
    ok(await v1(h, 'PUT', `/v1/instances/${VM}`, BODY), 201)
    const first = ok(await v1(h, 'DELETE', `/v1/instances/${VM}`), 200)
    const instance = first.instance as Record<string, unknown>
    assert.match(instance.deleted_at as string, /^\d{4}-\d{2}-\d{2}T/)
    assert.equal(instance.updated_at, instance.deleted_at)
    const second = ok(await v1(h, 'DELETE', `/v1/instances/${VM}`), 200)
    assert.deepEqual(second, first)
  })

  test('unknown instance → 404 instance_not_found', async (t) => {
    const h = await buildHarness(t)
    assertV1Error(
      await v1(h, 'DELETE', `/v1/instances/${UNKNOWN_VM}`),
      404,
      'instance_not_found',
      `Instance ${UNKNOWN_VM} could not be found.`,
    )
  })

  test('a JSON body on DELETE is ignored', async (t) => {
    const h = await buildHarness(t)
    ok(await v1(h, 'PUT', `/v1/instances/${VM}`, BODY), 201)
    ok(await v1(h, 'DELETE', `/v1/instances/${VM}`, {}), 200)
  })
})

describe('routing', () => {
  test('unknown /v1 path → 404 not_found in the /v1 format', async (t) => {
    const h = await buildHarness(t)
    assertV1Error(
      await v1(h, 'GET', `/v1/instances/${VM}`),
      404,
      'not_found',
      'The resource could not be found.',
    )
    assertV1Error(await v1(h, 'POST', '/v1/nothing', {}), 404, 'not_found')
  })

  test('an undecodable /v1 path → 400 in the /v1 format, after the token check', async (t) => {
    const h = await buildHarness(t)
    assertV1Error(
      await v1(h, 'PUT', '/v1/instances/%zz', BODY),
      400,
      'invalid_input',
      'Malformed request URL.',
    )
    assertV1Error(
      await v1(h, 'PUT', '/v1/instances/%zz', BODY, { token: null }),
      401,
      'unauthorized',
    )
    assertV1Error(await v1(h, 'PUT', `/v1/instances/${'a'.repeat(2000)}`, BODY), 404, 'not_found')
  })
})
