/**
 * `actions stuck` (GET /v1/actions?state=stuck) and `events query` (GET /v1/events) against a
 * real server with the demo history, whose unfinished actions started weeks ago and so are past
 * the default stuck deadline (1 h). Each part is skipped when the server does not have its route
 * yet (branch h-query builds them).
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { parseCsv, runCli, type CliResult } from '../helpers/run-cli.js'
import { spawnDemoServer, type SpawnedServer } from '../helpers/spawn-server.js'

type Row = Record<string, unknown>

async function apiAll(server: SpawnedServer, token: string, path: string, key: string) {
  const rows: Row[] = []
  let cursor: string | null = null
  do {
    const sep = path.includes('?') ? '&' : '?'
    const url: string = `${server.url}${path}${sep}limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res: Response = await fetch(url, { headers: { 'x-auth-token': token } })
    assert.equal(res.status, 200, path)
    const page = (await res.json()) as Row
    rows.push(...(page[key] as Row[]))
    cursor = page.next_cursor as string | null
  } while (cursor)
  return rows
}

function ok(r: CliResult): string {
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

/**
 * True (and the test skipped) when `path` is not served yet: a 404 for a route, the 400 naming
 * `state` for an unknown parameter. Any other failure fails the test.
 */
async function missing(t: TestContext, server: SpawnedServer, token: string, path: string) {
  const res = await fetch(`${server.url}${path}`, { headers: { 'x-auth-token': token } })
  const text = await res.text()
  if (res.status === 200) return false
  const absent = res.status === 404 || (res.status === 400 && /'state'/.test(text))
  assert.ok(absent, `${path}: ${res.status} ${text}`)
  t.skip(`${path} answers ${res.status}: not on this server yet (branch h-query)`)
  return true
}

test('actions stuck and events query', async (t) => {
  const server = await spawnDemoServer(t)
  const admin = server.tokens[0]?.token ?? ''
  const member = server.tokens[1]?.token ?? ''
  const env = { ACTIONTRAIL_URL: server.url, ACTIONTRAIL_TOKEN: admin }

  await t.test('actions stuck lists what state=stuck answers', async (t) => {
    if (await missing(t, server, admin, '/v1/actions?state=stuck&limit=1')) return
    const expected = await apiAll(server, admin, '/v1/actions?state=stuck', 'actions')
    assert.ok(expected.length > 0, 'the demo has unfinished actions started long ago')
    for (const a of expected) assert.equal(a.finish_time, null)
    const cli = JSON.parse(ok(await runCli(['actions', 'stuck', '--all', '--format', 'json'], env)))
    assert.deepEqual(cli, expected)
    const create = JSON.parse(
      ok(await runCli(['actions', 'stuck', '--action', 'create', '--format', 'json'], env)),
    )
    assert.deepEqual(
      create,
      await apiAll(server, admin, '/v1/actions?state=stuck&action=create', 'actions'),
    )
    const memberView = JSON.parse(
      ok(
        await runCli(['actions', 'stuck', '--format', 'json'], {
          ...env,
          ACTIONTRAIL_TOKEN: member,
        }),
      ),
    )
    assert.deepEqual(memberView, await apiAll(server, member, '/v1/actions?state=stuck', 'actions'))
    const table = ok(await runCli(['actions', 'stuck'], { ...env, COLUMNS: '100' }))
    assert.match(table, /running/)
    assert.doesNotMatch(table, /success/)
  })

  await t.test('events query: every format carries what GET /v1/events answers', async (t) => {
    if (await missing(t, server, admin, '/v1/events?limit=1')) return
    const all = await apiAll(server, admin, '/v1/events', 'events')
    assert.ok(all.length > 44)
    const json = JSON.parse(ok(await runCli(['events', 'query', '--all', '--format', 'json'], env)))
    assert.deepEqual(json, all)
    const ndjson = ok(await runCli(['events', 'query', '--limit', '20', '--format', 'ndjson'], env))
    assert.deepEqual(
      ndjson
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Row),
      all.slice(0, 20),
    )
    const [header, ...rows] = parseCsv(
      ok(await runCli(['events', 'query', '--all', '--format', 'csv'], env)),
    )
    assert.ok(header)
    assert.equal(rows.length, all.length)
    for (const [i, e] of all.entries())
      for (const [k, v] of Object.entries(e))
        assert.equal(rows[i]?.[header.indexOf(k)], v === null ? '' : String(v), `${i} ${k}`)
    const failed = JSON.parse(
      ok(await runCli(['events', 'query', '--result', 'error', '--all', '--format', 'json'], env)),
    )
    assert.deepEqual(failed, await apiAll(server, admin, '/v1/events?result=error', 'events'))
    assert.ok(failed.length > 0)
    const stuck = JSON.parse(
      ok(await runCli(['events', 'query', '--stuck', '--all', '--format', 'json'], env)),
    )
    assert.deepEqual(stuck, await apiAll(server, admin, '/v1/events?state=stuck', 'events'))
    const table = ok(await runCli(['events', 'query', '--limit', '5'], { ...env, COLUMNS: '80' }))
    assert.match(table.split('\n')[0] ?? '', /^START\s+EVENT\s+STATUS/)
  })
})
