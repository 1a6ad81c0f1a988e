/**
 * `GET /v1/instances` (issue 10): by project, name substring and deleted true/false/any, ordered by
 * name then uuid, keyset pages with a signed cursor; non-admins only their own project; 400s
 * naming the parameter.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness, PROJECT_A, PROJECT_B, TOKENS } from '../helpers/build-app.js'
import { assertV1Error, ok, v1 } from './v1-helpers.js'

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

// One harness: the subtests only read.
test('GET /v1/instances', async (t) => {
  const h = await buildHarness(t)
  const admin = { token: TOKENS.admin }
  // web-0..web-5 in project A, db-6..db-9 in project B; web-1 and db-7 deleted.
  for (let n = 0; n < 10; n++) {
    const body = {
      name: n < 6 ? `web-${n}` : `db-${n}`,
      project_id: n < 6 ? PROJECT_A : PROJECT_B,
      user_id: 'u',
    }
    ok(await v1(h, 'PUT', `/v1/instances/${uuid(n)}`, body, admin), 201)
  }
  for (const n of [1, 7])
    ok(await v1(h, 'DELETE', `/v1/instances/${uuid(n)}`, undefined, admin), 200)
  const names = async (q: string, token: string = TOKENS.admin) =>
    (
      ok(await v1(h, 'GET', `/v1/instances?${q}`, undefined, { token }), 200).instances as {
        name: string
      }[]
    ).map((i) => i.name)

  await t.test('filters: project, name substring, deleted true/false/any', async () => {
    assert.deepEqual(await names(''), [
      'db-6',
      'db-8',
      'db-9',
      'web-0',
      'web-2',
      'web-3',
      'web-4',
      'web-5',
    ])
    assert.deepEqual(await names(`project=${PROJECT_B}`), ['db-6', 'db-8', 'db-9'])
    assert.deepEqual(await names('deleted=true'), ['db-7', 'web-1'])
    assert.equal((await names('deleted=any')).length, 10)
    assert.deepEqual(await names('name=EB-&deleted=any&limit=3'), ['web-0', 'web-1', 'web-2'])
  })

  await t.test('pages follow the cursor: every instance once, in order', async () => {
    const seen: string[] = []
    let url = '/v1/instances?deleted=any&limit=3'
    for (;;) {
      const body = ok(await v1(h, 'GET', url, undefined, admin), 200)
      seen.push(...(body.instances as { name: string }[]).map((i) => i.name))
      if (body.next_cursor === null) break
      url = `/v1/instances?deleted=any&limit=3&cursor=${encodeURIComponent(String(body.next_cursor))}`
    }
    assert.deepEqual(seen, await names('deleted=any&limit=1000'))
    const first = ok(await v1(h, 'GET', '/v1/instances?limit=2', undefined, admin), 200)
    const other = await v1(
      h,
      'GET',
      `/v1/instances?limit=2&deleted=true&cursor=${String(first.next_cursor)}`,
      undefined,
      admin,
    )
    assertV1Error(other, 400, 'invalid_input', /cursor/)
  })

  await t.test("non-admins see only their project's instances; service alone is 403", async () => {
    assert.deepEqual(await names('', TOKENS.readerB), ['db-6', 'db-8', 'db-9'])
    assert.deepEqual(await names('', TOKENS.memberA), ['web-0', 'web-2', 'web-3', 'web-4', 'web-5'])
    assert.deepEqual(await names(`project=${PROJECT_B}`, TOKENS.readerA), [])
    assertV1Error(
      await v1(h, 'GET', '/v1/instances', undefined, { token: TOKENS.serviceA }),
      403,
      'forbidden',
    )
  })

  await t.test('bad parameters are 400 naming the parameter', async () => {
    for (const [q, message] of [
      ['deleted=yes', /deleted/],
      ['limit=0', /limit/],
      ['name=a&name=b', /'name'/],
      ['uuid=x', /'uuid'/],
      ['cursor=nope', /cursor/],
    ] as const) {
      assertV1Error(
        await v1(h, 'GET', `/v1/instances?${q}`, undefined, admin),
        400,
        'invalid_input',
        message,
      )
    }
  })
})
