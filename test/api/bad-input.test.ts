/**
 * Hostile and malformed input: every case answers 4xx in Nova's fault format
 * (`{"<faultName>": {"code", "message"}}`, JSON) with Nova's exact message where
 * docs/nova-behaviour.md §6.3 gives one, and never a 500 or a stack trace.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { buildHarness, headers, TOKENS, type Harness } from '../helpers/build-app.js'
import { assertFault, json, seedCreateStop, SERVER, STOP_REQ } from '../helpers/seed.js'

const LIST = `/v2.1/servers/${SERVER}/os-instance-actions`

async function get(
  h: Harness,
  url: string,
  version?: string,
  extra: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return h.app.inject({
    method: 'GET',
    url,
    headers: { ...headers(TOKENS.memberA, version), ...extra },
  })
}

/** A 4xx fault, no stack trace or source path in the body. */
function assertClientFault(
  res: LightMyRequestResponse,
  status: number,
  message?: string | RegExp,
): string {
  const text = assertFault(res, status, message)
  assert.doesNotMatch(res.body, /\.ts:\d+|\.js:\d+|node_modules|\bat [\w.<>]+ \(/, 'no stack trace')
  return text
}

function queryError(name: string, value: string, detail: string): string {
  return `Invalid input for query parameters ${name}. Value: ${value}. ${detail}`
}

describe('bad server ids', () => {
  const cases: { name: string; segment: string; status: number; message?: string | RegExp }[] = [
    { name: 'abc', segment: 'abc', status: 404, message: 'Instance abc could not be found.' },
    {
      name: 'encoded ../../etc',
      segment: '..%2F..%2Fetc',
      status: 404,
      message: 'Instance ../../etc could not be found.',
    },
    { name: 'raw ../../etc (normalized away by the router)', segment: '../../etc', status: 404 },
    {
      name: 'almost a uuid',
      segment: `${SERVER}0`,
      status: 404,
      message: `Instance ${SERVER}0 could not be found.`,
    },
    {
      name: 'a uuid with a trailing space',
      segment: `${SERVER}%20`,
      status: 404,
      message: `Instance ${SERVER}  could not be found.`,
    },
    {
      name: '1000 characters',
      segment: 'a'.repeat(1000),
      status: 404,
      message: `Instance ${'a'.repeat(1000)} could not be found.`,
    },
    { name: '2000 characters', segment: 'a'.repeat(2000), status: 404 },
    {
      name: 'NUL',
      segment: 'ab%00cd',
      status: 404,
      message: 'Instance ab\u0000cd could not be found.',
    },
    {
      name: 'newline',
      segment: 'ab%0Acd',
      status: 404,
      message: 'Instance ab\ncd could not be found.',
    },
    { name: 'CRLF', segment: '%0D%0AX-Injected:%201', status: 404 },
    {
      name: 'encoded unicode',
      segment: '%E2%98%83',
      status: 404,
      message: 'Instance \u2603 could not be found.',
    },
    { name: 'raw unicode', segment: '\u2603\u202e', status: 404 },
    { name: 'an undecodable escape', segment: '%zz', status: 400 },
    { name: 'a lone surrogate escape', segment: '%ED%A0%80', status: 400 },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.status}`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      for (const version of [undefined, '2.58']) {
        for (const suffix of ['/os-instance-actions', `/os-instance-actions/${STOP_REQ}`, '']) {
          const res = await get(h, `/v2.1/servers/${c.segment}${suffix}`, version)
          assertClientFault(res, c.status, c.message)
          assert.equal(res.headers['x-injected'], undefined)
        }
      }
    })
  }

  test('an over-long or undecodable path still needs a token', async (t) => {
    const h = await buildHarness(t)
    for (const segment of ['a'.repeat(2000), '%zz']) {
      const res = await h.app.inject({
        method: 'GET',
        url: `/v2.1/servers/${segment}/os-instance-actions`,
      })
      assertClientFault(res, 401)
    }
  })

  test('bad request ids on show are simply not found', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const [segment, shown] of [
      ['999', '999'],
      ['%00', '\u0000'],
      ['req%0Ax', 'req\nx'],
      ['..%2F..', '../..'],
      ['x'.repeat(500), 'x'.repeat(500)],
    ]) {
      assertClientFault(await get(h, `${LIST}/${segment}`), 404, `Action ${shown} not found`)
    }
    assertClientFault(await get(h, `${LIST}/${'x'.repeat(2000)}`), 404)
  })
})

describe('servers/detail name filter', () => {
  test('300 characters → 400', async (t) => {
    const h = await buildHarness(t)
    assertClientFault(
      await get(h, `/v2.1/servers/detail?name=${'n'.repeat(300)}`),
      400,
      /^Invalid input for query parameters name\./,
    )
  })

  for (const [label, value] of [
    ['NUL', 'a%00b'],
    ['newline', 'a%0Ab'],
    ['escape', 'a%1Bb'],
    ['bidi override', 'a%E2%80%AEb'],
  ]) {
    test(`control character (${label}) → 400`, async (t) => {
      const h = await buildHarness(t)
      assertClientFault(
        await get(h, `/v2.1/servers/detail?name=${value}`),
        400,
        /^Invalid input for query parameters name\./,
      )
      assertClientFault(
        await get(h, `/v2.1/servers?name=${value}`),
        400,
        /^Invalid input for query parameters name\./,
      )
    })
  }

  test('repeated name → 400', async (t) => {
    const h = await buildHarness(t)
    assertClientFault(
      await get(h, '/v2.1/servers/detail?name=a&name=b'),
      400,
      queryError('name', "['a', 'b']", "['a', 'b'] is too long"),
    )
  })
})

describe('list query validation (2.58+)', () => {
  const cases: { name: string; version: string; query: string; message: string | RegExp }[] = [
    {
      name: 'repeated marker',
      version: '2.58',
      query: 'marker=A&marker=B',
      message: queryError('marker', "['A', 'B']", "['A', 'B'] is too long"),
    },
    {
      name: 'repeated limit',
      version: '2.58',
      query: 'limit=1&limit=2',
      message: queryError('limit', "['1', '2']", "['1', '2'] is too long"),
    },
    {
      name: 'repeated changes-since',
      version: '2.66',
      query: 'changes-since=2018&changes-since=2019',
      message: queryError('changes-since', "['2018', '2019']", "['2018', '2019'] is too long"),
    },
    {
      name: 'one unknown parameter',
      version: '2.58',
      query: 'foo=1',
      message: "Additional properties are not allowed ('foo' was unexpected)",
    },
    {
      name: 'two unknown parameters, sorted',
      version: '2.58',
      query: 'b=1&a=2',
      message: "Additional properties are not allowed ('a', 'b' were unexpected)",
    },
    {
      name: 'unknown parameters win over bad values',
      version: '2.58',
      query: 'limit=x&foo=1',
      message: "Additional properties are not allowed ('foo' was unexpected)",
    },
    {
      name: 'unknown parameter with a quote in its name',
      version: '2.58',
      query: "it's=1",
      message: 'Additional properties are not allowed ("it\'s" was unexpected)',
    },
    {
      name: 'limit=x',
      version: '2.58',
      query: 'limit=x',
      message: queryError('limit', 'x', "'x' does not match '^[0-9]*$'"),
    },
    {
      name: 'limit=-1',
      version: '2.58',
      query: 'limit=-1',
      message: queryError('limit', '-1', "'-1' does not match '^[0-9]*$'"),
    },
    {
      name: 'limit=1.5',
      version: '2.58',
      query: 'limit=1.5',
      message: queryError('limit', '1.5', "'1.5' does not match '^[0-9]*$'"),
    },
    {
      name: 'limit= (empty)',
      version: '2.58',
      query: 'limit=',
      message: /^Invalid input for query parameters limit\. Value: \. '' /,
    },
    {
      name: 'limit=+1 (a space)',
      version: '2.58',
      query: 'limit=+1',
      message: queryError('limit', ' 1', "' 1' does not match '^[0-9]*$'"),
    },
    {
      name: 'changes-since=wrong_time',
      version: '2.58',
      query: 'changes-since=wrong_time',
      message: queryError('changes-since', 'wrong_time', "'wrong_time' is not a 'date-time'"),
    },
    {
      name: 'changes-since= (empty)',
      version: '2.58',
      query: 'changes-since=',
      message: queryError('changes-since', '', "'' is not a 'date-time'"),
    },
    {
      name: 'changes-since=2018-02-30T00:00:00',
      version: '2.58',
      query: 'changes-since=2018-02-30T00:00:00',
      message: queryError(
        'changes-since',
        '2018-02-30T00:00:00',
        "'2018-02-30T00:00:00' is not a 'date-time'",
      ),
    },
    {
      name: 'changes-since=2018-01-01T24:00:00',
      version: '2.58',
      query: 'changes-since=2018-01-01T24:00:00',
      message: queryError(
        'changes-since',
        '2018-01-01T24:00:00',
        "'2018-01-01T24:00:00' is not a 'date-time'",
      ),
    },
    {
      name: 'changes-before=wrong_time',
      version: '2.66',
      query: 'changes-before=wrong_time',
      message: queryError('changes-before', 'wrong_time', "'wrong_time' is not a 'date-time'"),
    },
    {
      name: 'changes-before < changes-since',
      version: '2.66',
      query: 'changes-since=2018-04-25T01:00:00&changes-before=2018-04-25T00:59:59.999999',
      message: 'The value of changes-since must be less than or equal to changes-before.',
    },
    {
      name: 'changes-before at 2.65',
      version: '2.65',
      query: 'changes-before=2018-04-25T01:00:00',
      message: "Additional properties are not allowed ('changes-before' was unexpected)",
    },
    {
      name: 'unknown marker',
      version: '2.58',
      query: 'marker=req-unknown',
      message: 'Marker None could not be found.',
    },
    {
      name: 'empty marker',
      version: '2.58',
      query: 'marker=',
      message: 'Marker None could not be found.',
    },
  ]
  for (const c of cases) {
    test(`${c.name} → 400`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      assertClientFault(await get(h, `${LIST}?${c.query}`, c.version), 400, c.message)
    })
  }

  test('query validation happens before the instance lookup', async (t) => {
    const h = await buildHarness(t)
    assertClientFault(
      await get(h, '/v2.1/servers/not-a-uuid/os-instance-actions?limit=x', '2.58'),
      400,
      queryError('limit', 'x', "'x' does not match '^[0-9]*$'"),
    )
    assertClientFault(
      await get(h, '/v2.1/servers/not-a-uuid/os-instance-actions/req-1?foo=1', '2.102'),
      400,
      "Additional properties are not allowed ('foo' was unexpected)",
    )
  })

  test('control characters in values are echoed with Python repr escapes, not raw', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    const message = assertClientFault(await get(h, `${LIST}?limit=%0A`, '2.58'), 400)
    assert.ok(message.endsWith("'\\n' does not match '^[0-9]*$'"), message)
  })
})

describe('bodies, methods and routes', () => {
  test('a malformed JSON body on GET is ignored, as Nova ignores GET bodies (never a 500)', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const payload of ['{bad', '{"a":', '\u0000\u0001', 'x'.repeat(10_000)]) {
      const res = await h.app.inject({
        method: 'GET',
        url: LIST,
        headers: { ...headers(TOKENS.memberA, '2.58'), 'content-type': 'application/json' },
        payload,
      })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal((json(res).instanceActions as unknown[]).length, 2)
    }
  })

  test('unknown routes → 404 fault', async (t) => {
    const h = await buildHarness(t)
    await seedCreateStop(h)
    for (const url of [
      '/v2.1/nope',
      '/v3/servers',
      `/v2.1/NOT_A_PROJECT/servers/${SERVER}/os-instance-actions`,
      `/v2.1/servers/${SERVER}/os-instance-actions/${STOP_REQ}/events`,
      '/favicon.ico',
      `/v2.1/servers/${SERVER}/action`,
    ]) {
      assertClientFault(await get(h, url), 404, 'The resource could not be found.')
    }
  })

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
    test(`${method} on a GET-only route → 4xx fault`, async (t) => {
      const h = await buildHarness(t)
      await seedCreateStop(h)
      for (const url of [
        LIST,
        `${LIST}/${STOP_REQ}`,
        `/v2.1/servers/${SERVER}`,
        '/v2.1/servers/detail',
      ]) {
        for (const [contentType, payload] of [
          ['application/json', '{"os-stop": null}'],
          ['application/json', '{bad'],
          ['text/plain', 'hello'],
        ]) {
          const res = await h.app.inject({
            method,
            url,
            headers: { ...headers(TOKENS.memberA), 'content-type': contentType as string },
            payload: payload as string,
          })
          assert.ok(
            res.statusCode >= 400 && res.statusCode < 500,
            `${method} ${url}: ${res.statusCode}`,
          )
          assertClientFault(res, res.statusCode)
        }
      }
      // Nothing was written.
      const after = await get(h, LIST)
      assert.equal((json(after).instanceActions as unknown[]).length, 2)
    })
  }
})
