/**
 * Who may write: every /v1 route needs a token (401 without or with an unknown one) and the
 * service or admin role (403 for members and readers, whatever their project), checked before the
 * body is read. Errors are in the /v1 format with the request-id header.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildHarness, TOKENS } from '../helpers/build-app.js'
import { assertV1Error, ok, v1, VM } from './v1-helpers.js'

const PUT = { name: 'vm-1', project_id: 'p', user_id: 'u' }

const ROUTES: { method: 'PUT' | 'POST' | 'DELETE'; url: string; body?: unknown }[] = [
  { method: 'PUT', url: `/v1/instances/${VM}`, body: PUT },
  { method: 'DELETE', url: `/v1/instances/${VM}` },
  {
    method: 'POST',
    url: `/v1/instances/${VM}/actions`,
    body: { action: 'a', request_id: 'r', user_id: 'u', project_id: 'p' },
  },
  { method: 'POST', url: `/v1/instances/${VM}/actions/r/finish`, body: {} },
  { method: 'POST', url: `/v1/instances/${VM}/actions/r/events`, body: { event: 'e' } },
  {
    method: 'POST',
    url: `/v1/instances/${VM}/actions/r/events/e/finish`,
    body: { result: 'Success' },
  },
  { method: 'POST', url: '/v1/batch', body: [] },
]

describe('authentication', () => {
  for (const r of ROUTES) {
    test(`${r.method} ${r.url.replace(VM, '{uuid}')}: no token or an unknown token → 401`, async (t) => {
      const h = await buildHarness(t)
      const none = await v1(h, r.method, r.url, r.body, { token: null })
      assertV1Error(none, 401, 'unauthorized', 'The request you have made requires authentication.')
      assert.match(none.headers['www-authenticate'] as string, /^Keystone uri=/)
      assertV1Error(
        await v1(h, r.method, r.url, r.body, { token: 'tok-nobody' }),
        401,
        'unauthorized',
      )
    })
  }

  test('401 comes before the media type and body checks', async (t) => {
    const h = await buildHarness(t)
    assertV1Error(
      await v1(h, 'POST', '/v1/batch', 'x', {
        token: null,
        headers: { 'content-type': 'text/plain' },
      }),
      401,
      'unauthorized',
    )
  })
})

describe('authorization', () => {
  for (const [name, token] of [
    ['member', TOKENS.memberA],
    ['reader', TOKENS.readerA],
    ['member of another project', TOKENS.memberB],
  ] as const) {
    test(`a ${name} → 403 forbidden on every route, and nothing is written`, async (t) => {
      const h = await buildHarness(t)
      for (const r of ROUTES) {
        assertV1Error(
          await v1(h, r.method, r.url, r.body, { token }),
          403,
          'forbidden',
          'The write API requires the service or admin role.',
        )
      }
      // Checked before the body is read: an oversized or mistyped body changes nothing.
      assertV1Error(
        await v1(h, 'POST', '/v1/batch', 'x', { token, headers: { 'content-type': 'text/plain' } }),
        403,
        'forbidden',
      )
      assertV1Error(
        await v1(h, 'POST', '/v1/batch', [], { token, headers: { 'idempotency-key': '\u00e9' } }),
        403,
        'forbidden',
      )
      assert.equal(await h.service.getInstance(VM), undefined)
    })
  }

  test('service and admin may write', async (t) => {
    const h = await buildHarness(t)
    ok(await v1(h, 'PUT', `/v1/instances/${VM}`, PUT, { token: TOKENS.serviceA }), 201)
    ok(
      await v1(h, 'PUT', `/v1/instances/${VM}`, { ...PUT, name: 'vm-2' }, { token: TOKENS.admin }),
      200,
    )
  })

  test('a service of one project may write instances of any project (it records for the cloud)', async (t) => {
    const h = await buildHarness(t)
    ok(
      await v1(
        h,
        'PUT',
        `/v1/instances/${VM}`,
        { ...PUT, project_id: 'bbbbbbbbbbbb4bbb8bbbbbbbbbbbbbbb' },
        { token: TOKENS.serviceA },
      ),
      201,
    )
  })
})
