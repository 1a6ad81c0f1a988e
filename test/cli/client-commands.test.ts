/**
 * The client commands (`actions list|show|query`, `instances list`) run as a user runs them,
 * against a real server with the demo history: every format carries exactly what the API
 * answers, paging follows the cursors, tables fit the width they are given, colours appear only
 * when allowed, and failures are one line with the documented exit code, never a stack trace
 * and never the token.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import stringWidth from 'string-width'
import { ActionTrailClient } from '../../src/client/action-trail-client.js'
import { parseCsv, runCli, type CliResult } from '../helpers/run-cli.js'
import { spawnDemoServer, type SpawnedServer } from '../helpers/spawn-server.js'

type Row = Record<string, unknown>

async function api(server: SpawnedServer, token: string, path: string): Promise<Row> {
  const res = await fetch(`${server.url}${path}`, { headers: { 'x-auth-token': token } })
  assert.equal(res.status, 200, path)
  return (await res.json()) as Row
}

/** Every item of an API list, following next_cursor. */
async function apiAll(server: SpawnedServer, token: string, path: string, key: string) {
  const rows: Row[] = []
  let cursor: string | null = null
  do {
    const sep = path.includes('?') ? '&' : '?'
    const page = await api(
      server,
      token,
      `${path}${sep}limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )
    rows.push(...(page[key] as Row[]))
    cursor = page.next_cursor as string | null
  } while (cursor)
  return rows
}

function ok(r: CliResult): string {
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  return r.stdout
}

/** A failure is one line `actiontrail: …` on stderr, nothing on stdout, no stack trace. */
function failure(r: CliResult, code: number): string {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`)
  assert.equal(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, r.stderr)
  assert.match(lines[0] ?? '', /^actiontrail: /)
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/)
  return lines[0] ?? ''
}

const ESC = '\u001b['

test('client commands against a running server', async (t) => {
  const server = await spawnDemoServer(t)
  const admin = server.tokens[0]?.token ?? ''
  const member = server.tokens[1]?.token ?? ''
  const env = { ACTIONTRAIL_URL: server.url, ACTIONTRAIL_TOKEN: admin }
  const all = await apiAll(server, admin, '/v1/actions', 'actions')
  assert.equal(all.length, 44, 'the demo history')

  await t.test('actions query: json, ndjson and csv carry what the API answers', async () => {
    const json = JSON.parse(ok(await runCli(['actions', 'query', '--format', 'json'], env)))
    assert.deepEqual(json, all.slice(0, 50))
    assert.equal(json.length, 44)
    const ndjson = ok(await runCli(['actions', 'query', '--format', 'ndjson', '--all'], env))
    assert.deepEqual(
      ndjson
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Row),
      all,
    )
    const csv = parseCsv(ok(await runCli(['actions', 'query', '--format', 'csv', '--all'], env)))
    const [header, ...rows] = csv
    assert.ok(header)
    assert.deepEqual(
      rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))),
      all.map((a) => Object.fromEntries(header.map((h) => [h, a[h] === null ? '' : a[h]]))),
    )
    // Every field of the API's items is a CSV column.
    assert.deepEqual(new Set(header), new Set(Object.keys(all[0] ?? {})))
  })

  await t.test('paging: --limit rows in total across pages, --all to the last page', async () => {
    const seven = JSON.parse(
      ok(await runCli(['actions', 'query', '--limit', '7', '--format', 'json'], env)),
    )
    assert.deepEqual(seven, all.slice(0, 7))
    const many = JSON.parse(
      ok(await runCli(['actions', 'query', '--limit', '1500', '--format', 'json'], env)),
    )
    assert.deepEqual(many, all)
    const bad = failure(await runCli(['actions', 'query', '--limit', '0'], env), 2)
    assert.match(bad, /--limit/)
  })

  await t.test('filters map to the API parameters, repeatable ones repeated', async () => {
    // The demo's one unfinished action is an evacuate: `running` finds it among the two names.
    const args = ['--action', 'evacuate', '--action', 'reboot', '--result', 'running']
    const cli = JSON.parse(
      ok(await runCli(['actions', 'query', ...args, '--all', '--format', 'json'], env)),
    )
    const expected = await apiAll(
      server,
      admin,
      '/v1/actions?action=evacuate&action=reboot&result=running',
      'actions',
    )
    assert.ok(expected.length > 0 && expected.length < all.length)
    assert.deepEqual(cli, expected)
    const instance = String(all[0]?.instance_uuid)
    const list = JSON.parse(
      ok(await runCli(['actions', 'list', instance, '--format', 'json'], env)),
    )
    assert.deepEqual(
      list,
      await apiAll(server, admin, `/v1/actions?instance=${instance}`, 'actions'),
    )
    const owner = String(server.tokens[1]?.project_id)
    const byOwner = JSON.parse(
      ok(await runCli(['actions', 'query', '--owner-project', owner, '--format', 'json'], env)),
    )
    assert.deepEqual(
      byOwner,
      await apiAll(server, admin, `/v1/actions?owner_project=${owner}`, 'actions'),
    )
  })

  await t.test('actions show: the action with its events in every format', async () => {
    const failed = all.find((a) => a.message === 'Error')
    assert.ok(failed)
    const query = new URLSearchParams({
      instance: String(failed.instance_uuid),
      request_id: String(failed.request_id),
      include: 'events',
    })
    const path = `/v1/actions?${query.toString()}`
    const [expected] = (await api(server, admin, path)).actions as Row[]
    assert.ok(expected && Array.isArray(expected.events) && expected.events.length > 0)
    const args = ['actions', 'show', String(failed.instance_uuid), String(failed.request_id)]
    assert.deepEqual(JSON.parse(ok(await runCli([...args, '--format', 'json'], env))), expected)
    assert.deepEqual(JSON.parse(ok(await runCli([...args, '--format', 'ndjson'], env))), expected)
    const [header, ...rows] = parseCsv(ok(await runCli([...args, '--format', 'csv'], env)))
    assert.ok(header)
    const events = expected.events as Row[]
    assert.equal(rows.length, events.length)
    for (const [i, e] of events.entries()) {
      const row: Record<string, string | undefined> = Object.fromEntries(
        header.map((h, j) => [h, rows[i]?.[j]]),
      )
      for (const [k, v] of Object.entries(e)) assert.equal(row[k], v === null ? '' : v, k)
      assert.equal(row.request_id, failed.request_id)
    }
    const table = ok(await runCli(args, env))
    assert.match(table, /Status\s+error/)
    for (const e of events) assert.ok(table.includes(String(e.event)))
    const missing = failure(
      await runCli(['actions', 'show', String(failed.instance_uuid), 'req-nope'], env),
      1,
    )
    assert.match(missing, /no action/)
  })

  await t.test('instances list: what GET /v1/instances answers', async () => {
    const cli = JSON.parse(
      ok(await runCli(['instances', 'list', '--deleted', 'any', '--format', 'json'], env)),
    )
    assert.deepEqual(cli, await apiAll(server, admin, '/v1/instances?deleted=any', 'instances'))
    assert.equal(cli.length, 6)
    // A member sees their own project's instances only, as the API shows them.
    const mine = JSON.parse(
      ok(
        await runCli(['instances', 'list', '--format', 'json'], {
          ...env,
          ACTIONTRAIL_TOKEN: member,
        }),
      ),
    )
    assert.deepEqual(mine, await apiAll(server, member, '/v1/instances', 'instances'))
    assert.ok(mine.length > 0 && mine.length < 6)
    const project = String(server.tokens[1]?.project_id)
    const byProject = JSON.parse(
      ok(await runCli(['instances', 'list', '--project', project, '--format', 'json'], env)),
    )
    assert.deepEqual(byProject, mine)
  })

  await t.test(
    'tables fit COLUMNS: low-priority columns go first, then long cells are cut',
    async () => {
      const widths = (out: string) =>
        out
          .trimEnd()
          .split('\n')
          .map((l) => stringWidth(l))
      const wide = ok(
        await runCli(['actions', 'query', '--limit', '5'], { ...env, COLUMNS: '250' }),
      )
      assert.match(
        wide.split('\n')[0] ?? '',
        /START\s+ACTION\s+STATUS\s+INSTANCE\s+REQUEST\s+USER\s+FINISH\s+PROJECT/,
      )
      assert.ok(wide.includes(String(all[0]?.request_id)))
      for (const [cols, dropped] of [
        ['80', /REQUEST|USER|PROJECT/],
        ['60', /REQUEST|USER|PROJECT/],
        ['40', /INSTANCE|REQUEST/],
      ] as const) {
        const out = ok(
          await runCli(['actions', 'query', '--limit', '5'], { ...env, COLUMNS: cols }),
        )
        for (const w of widths(out)) assert.ok(w <= Number(cols), `${w} > ${cols}:\n${out}`)
        const head = out.split('\n')[0] ?? ''
        assert.match(head, /^START\s+ACTION\s+STATUS/)
        assert.doesNotMatch(head, dropped)
      }
      const cut = ok(await runCli(['actions', 'query', '--limit', '5'], { ...env, COLUMNS: '60' }))
      assert.match(cut, /INSTANCE/)
      assert.match(cut, /…/)
      // Piped without COLUMNS: every column, nothing cut.
      const piped = ok(await runCli(['actions', 'query', '--limit', '5'], env))
      assert.doesNotMatch(piped, /…/)
      assert.match(piped.split('\n')[0] ?? '', /PROJECT/)
      assert.equal(piped.trimEnd().split('\n').length, 6)
    },
  )

  await t.test('colours only when allowed: NO_COLOR wins, FORCE_COLOR forces', async () => {
    const args = ['actions', 'query', '--result', 'error', '--limit', '3']
    const plain = ok(await runCli(args, env))
    assert.ok(!plain.includes(ESC), 'no colour when stdout is not a terminal')
    const forced = ok(await runCli(args, { ...env, FORCE_COLOR: '1' }))
    assert.ok(forced.includes(`${ESC}31merror`), 'errors in red')
    const both = ok(await runCli(args, { ...env, FORCE_COLOR: '1', NO_COLOR: '1' }))
    assert.ok(!both.includes(ESC))
    // JSON is never coloured.
    const json = ok(await runCli([...args, '--format', 'json'], { ...env, FORCE_COLOR: '1' }))
    assert.ok(!json.includes(ESC))
  })

  await t.test('flags win over the environment', async () => {
    const out = ok(
      await runCli(
        [
          'actions',
          'query',
          '--limit',
          '1',
          '--format',
          'json',
          '--url',
          server.url,
          '--token',
          admin,
        ],
        { ACTIONTRAIL_URL: 'http://127.0.0.1:1', ACTIONTRAIL_TOKEN: 'wrong-token' },
      ),
    )
    assert.deepEqual(JSON.parse(out), all.slice(0, 1))
  })

  await t.test('failures: one line, the documented exit code, never the token', async () => {
    const secret = 'not-a-valid-token-5e3f9a1c'
    const unauthorized = failure(
      await runCli(['actions', 'query'], { ...env, ACTIONTRAIL_TOKEN: secret }),
      1,
    )
    assert.match(unauthorized, /401/)
    assert.match(unauthorized, /authentication/i)
    assert.ok(!unauthorized.includes(secret))

    const badFilter = failure(await runCli(['actions', 'query', '--since', 'yesterday'], env), 1)
    assert.match(badFilter, /since/)
    assert.match(badFilter, /400/)

    const forbidden = failure(
      await runCli(['actions', 'query', '--host', 'compute-01'], {
        ...env,
        ACTIONTRAIL_TOKEN: member,
      }),
      1,
    )
    assert.match(forbidden, /403/)
    assert.match(forbidden, /permission denied/)

    // A port nothing listens on.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
    })
    const unreachable = failure(
      await runCli(['instances', 'list'], { ...env, ACTIONTRAIL_URL: `http://127.0.0.1:${port}` }),
      3,
    )
    assert.match(unreachable, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}`))
    assert.match(unreachable, /ECONNREFUSED/)

    const badUrl = failure(await runCli(['actions', 'query', '--url', 'not a url'], env), 2)
    assert.match(badUrl, /--url/)
    const noToken = failure(await runCli(['actions', 'query', '--url', server.url], {}), 2)
    assert.match(noToken, /token/)
    // A token that cannot be sent in a header is refused before fetch would quote it.
    const weird = 'sëcret-token'
    const refused = failure(
      await runCli(['actions', 'query'], { ...env, ACTIONTRAIL_TOKEN: weird }),
      2,
    )
    assert.ok(!refused.includes(weird))
    const usage = await runCli(['actions', 'query', '--result', 'maybe'], env)
    assert.equal(usage.code, 2)
    assert.equal(usage.stdout, '')
    assert.doesNotMatch(usage.stderr, /\n\s+at /)
  })

  await t.test('wide characters take two columns and are never cut in half', async () => {
    const nova = server.tokens.find((e) => e.roles.includes('service'))
    assert.ok(nova)
    const name = '東京ウェブサーバー本番環境-一号機'
    const client = new ActionTrailClient({ baseUrl: server.url, token: nova.token })
    await client.putInstance({
      uuid: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      name,
      projectId: nova.project_id,
      userId: nova.user_id,
    })
    await client.close()
    const narrow = ok(
      await runCli(['instances', 'list', '--name', '東京'], { ...env, COLUMNS: '40' }),
    )
    const [head, row] = narrow.trimEnd().split('\n')
    assert.match(head ?? '', /^NAME\s+UUID/)
    for (const line of [head, row]) assert.ok(stringWidth(line ?? '') <= 40, line)
    assert.match(row ?? '', /^東京ウェブ\S*…/)
    const whole = ok(await runCli(['instances', 'list', '--name', '東京'], env))
    assert.ok(whole.includes(name))
  })
})
