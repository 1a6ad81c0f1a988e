/**
 * `GET /v1/export` (issue 13): the NDJSON of `actiontrail export` over HTTP, admins only. Its
 * records are the admin view `GET /v1/actions?include=events` gives (compared through the API),
 * with each action's instance; the query API's filters apply; paging parameters and unknown ones
 * are a 400; non-admins get 403. Runs on every backend of the API suites.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildHarness, PROJECT_B, TOKENS } from '../helpers/build-app.js'
import { exportBody } from '../helpers/export-seed.js'
import { CREATE_REQ, seedCreateStop, SERVER, STOP_REQ, TIMES } from '../helpers/seed.js'
import { assertV1Error, ok, v1 } from './v1-helpers.js'

const OTHER = '33333333-3333-4333-8333-333333333333'

test('admins get every matching action with its instance and events, as GET /v1/actions shows them', async (t) => {
  const h = await buildHarness(t)
  await seedCreateStop(h)
  await seedCreateStop(h, { server: OTHER, projectId: PROJECT_B })
  const res = await v1(h, 'GET', '/v1/export', undefined, { token: TOKENS.admin })
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8')
  const [header, ...records] = exportBody(res.body) as [
    Record<string, unknown>,
    ...{ instance: { uuid: string; project_id: string }; action: object; events: object[] }[],
  ]
  assert.equal(header.actiontrail_export, 1)
  assert.deepEqual(header.filters, {})
  const page = ok(
    await v1(h, 'GET', '/v1/actions?include=events', undefined, { token: TOKENS.admin }),
    200,
  )
  const actions = page.actions as Record<string, unknown>[]
  assert.equal(actions.length, 4)
  assert.deepEqual(
    records.map((r) => ({ ...r.action, events: r.events })),
    actions,
  )
  assert.deepEqual(
    records.map((r) => r.instance.uuid),
    actions.map((a) => a.instance_uuid),
  )
  assert.ok(
    records.some((r) => r.instance.project_id === PROJECT_B),
    'every project',
  )
})

test('the filters of the query API apply and are recorded in the header', async (t) => {
  const h = await buildHarness(t)
  await seedCreateStop(h)
  await seedCreateStop(h, { server: OTHER, projectId: PROJECT_B })
  const url = `/v1/export?instance=${SERVER}&host=compute&since=${TIMES.createStart}`
  const res = await v1(h, 'GET', url, undefined, { token: TOKENS.admin })
  assert.equal(res.statusCode, 200, res.body)
  const [header, ...records] = exportBody(res.body) as [
    { filters: unknown },
    ...{ action: { request_id: string; instance_uuid: string } }[],
  ]
  assert.deepEqual(header.filters, { instance: SERVER, host: 'compute', since: TIMES.createStart })
  assert.deepEqual(
    records.map((r) => [r.action.instance_uuid, r.action.request_id]),
    [[SERVER, STOP_REQ]],
  )
  assert.notEqual(STOP_REQ, CREATE_REQ)
})

test('non-admins get 403; paging, unknown and bad parameters are a 400', async (t) => {
  const h = await buildHarness(t)
  await seedCreateStop(h)
  for (const token of [TOKENS.readerA, TOKENS.memberA, TOKENS.serviceA])
    assertV1Error(await v1(h, 'GET', '/v1/export', undefined, { token }), 403, 'forbidden')
  for (const [query, message] of [
    ['limit=10', /limit/],
    ['cursor=x', /cursor/],
    ['include=events', /include/],
    ['color=red', /color/],
    ['since=yesterday', /since/],
  ] as const)
    assertV1Error(
      await v1(h, 'GET', `/v1/export?${query}`, undefined, { token: TOKENS.admin }),
      400,
      'invalid_input',
      message,
    )
})
