/**
 * `actiontrail archive` and `actiontrail purge` (issue 13) as users run them, on every backend:
 * counts per table as a table or JSON, --dry-run changes nothing, --max-rows bounds a run, the
 * effects are those of the store's retention (test/store/retention.contract.test.ts), and bad
 * command lines exit 2 with one line.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { openStores } from '../../src/store/open-store.js'
import {
  backendProblem,
  createServerDatabase,
  REQUIRE_BACKENDS,
  type ServerKind,
} from '../helpers/backends.js'
import { runCli } from '../helpers/run-cli.js'
import { spawnDemoServer } from '../helpers/spawn-server.js'
import { TestStore } from '../helpers/store-ops.js'

const vm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
const at = (day: number) => `2026-01-${String(day).padStart(2, '0')}T00:00:00.000000` as Timestamp

/** A fresh database setting for `backend`, seeded: vm1 (4 actions) deleted on day 2, vm2 live. */
async function seeded(t: TestContext, backend: 'sqlite' | ServerKind): Promise<string> {
  let url: string
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'at-retention-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    url = join(dir, 'db.sqlite')
  } else {
    const database = await createServerDatabase(backend)
    t.after(() => database.drop())
    url = database.url
  }
  const stores = await openStores(url)
  try {
    const store = new TestStore(stores.actions)
    for (const n of [1, 2]) {
      await store.putInstance({
        uuid: vm(n),
        name: `vm${n}`,
        projectId: 'p',
        userId: 'u',
        now: at(1),
      })
      for (let i = 0; i < (n === 1 ? 4 : 1); i++) {
        const requestId = `req-${n}-${i}`
        const v = { instanceUuid: vm(n), requestId }
        await store.startAction({
          ...v,
          action: 'reboot',
          userId: 'u',
          projectId: 'p',
          startTime: at(1),
          createdAt: at(1),
        })
        await store.startEvent({
          ...v,
          event: 'compute_reboot',
          host: 'h',
          startTime: at(1),
          createdAt: at(1),
        })
      }
    }
    await store.deleteInstance(vm(1), at(2))
  } finally {
    await stores.close()
  }
  return url
}

const json = (stdout: string) =>
  JSON.parse(stdout) as { tables: Record<string, number>; dry_run: boolean }

for (const backend of ['sqlite', 'postgres', 'mysql'] as const) {
  const problem = backend === 'sqlite' ? undefined : await backendProblem(backend)
  if (problem && REQUIRE_BACKENDS) {
    test(`archive/purge CLI: ${backend} (required)`, () => assert.fail(problem))
    continue
  }
  describe(`archive/purge CLI: ${backend}`, { skip: problem ?? false }, () => {
    test('dry runs change nothing; archive and purge report counts per table', async (t) => {
      const db = await seeded(t, backend)
      const dry = await runCli([
        'archive',
        '--before',
        '2026-01-10',
        '--dry-run',
        '--json',
        '--db',
        db,
      ])
      assert.equal(dry.code, 0, dry.stderr)
      assert.deepEqual(json(dry.stdout), {
        command: 'archive',
        dry_run: true,
        before: '2026-01-10T00:00:00.000000',
        tables: { instances: 1, instance_actions: 4, instance_actions_events: 4 },
      })
      const again = await runCli([
        'archive',
        '--before',
        '2026-01-10',
        '--dry-run',
        '--json',
        '--db',
        db,
      ])
      assert.deepEqual(
        json(again.stdout).tables,
        json(dry.stdout).tables,
        'the dry run moved nothing',
      )

      // Nothing deleted before day 2.
      const early = await runCli(['archive', '--before', '2026-01-02', '--json', '--db', db])
      assert.deepEqual(json(early.stdout).tables, {
        instances: 0,
        instance_actions: 0,
        instance_actions_events: 0,
      })

      const bounded = await runCli([
        'archive',
        '--before',
        '2026-01-10',
        '--max-rows',
        '3',
        '--batch-size',
        '2',
        '--json',
        '--db',
        db,
      ])
      assert.equal(bounded.code, 0, bounded.stderr)
      assert.deepEqual(json(bounded.stdout).tables, {
        instances: 0,
        instance_actions: 3,
        instance_actions_events: 3,
      })

      const run = await runCli(['archive', '--before', '2026-01-10', '--db', db])
      assert.equal(run.code, 0, run.stderr)
      assert.equal(
        run.stdout,
        'table                    rows\n' +
          'instances                1\n' +
          'instance_actions         1\n' +
          'instance_actions_events  1\n',
      )
      assert.equal(run.stderr, '', 'no progress bar when stderr is not a terminal')

      const purgeDry = await runCli(['purge', '--all', '--dry-run', '--json', '--db', db])
      assert.deepEqual(json(purgeDry.stdout).tables, {
        shadow_instances: 1,
        shadow_instance_actions: 4,
        shadow_instance_actions_events: 4,
      })
      const purgeEarly = await runCli(['purge', '--before', '2026-01-02', '--json', '--db', db])
      assert.deepEqual(Object.values(json(purgeEarly.stdout).tables), [0, 0, 0])
      const purge = await runCli(['purge', '--before', '2026-01-03', '--json', '--db', db])
      assert.deepEqual(json(purge.stdout).tables, {
        shadow_instances: 1,
        shadow_instance_actions: 4,
        shadow_instance_actions_events: 4,
      })

      const stores = await openStores(db, { migrate: false })
      t.after(() => stores.close())
      assert.equal(await stores.actions.getInstance(vm(1)), undefined)
      assert.ok(await stores.actions.getInstance(vm(2)))
      assert.equal((await stores.actions.searchActions({ limit: 10 })).length, 1)
      assert.equal((await stores.actions.searchActions({ archived: true, limit: 10 })).length, 0)
    })
  })
}

test('bad command lines exit 2 with one line', async (t) => {
  const db = await seeded(t, 'sqlite')
  const cases: [string[], RegExp][] = [
    [['archive', '--db', db], /required option '--before <date>'/],
    [['archive', '--before', 'yesterday', '--db', db], /--before: not an ISO 8601 date or time/],
    [
      ['archive', '--before', '2026-01-10', '--max-rows', '0', '--db', db],
      /--max-rows: not a positive integer/,
    ],
    [['purge', '--db', db], /exactly one of --before DATE and --all/],
    [
      ['purge', '--all', '--before', '2026-01-01', '--db', db],
      /exactly one of --before DATE and --all/,
    ],
  ]
  for (const [args, message] of cases) {
    const r = await runCli(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stdout, '')
  }
})

test('archive under a running server; then `actions query --archived`, `events query --archived`', async (t) => {
  const server = await spawnDemoServer(t, ['--keep-days', '3650'])
  const admin = server.tokens[0]?.token ?? ''
  const member = server.tokens[1]?.token ?? ''
  const env = { ACTIONTRAIL_URL: server.url, ACTIONTRAIL_TOKEN: admin }
  const db = join(server.dataDir, 'actiontrail.db')
  const before = await runCli(['actions', 'query', '--all', '--format', 'json'], env)
  assert.equal(before.code, 0, before.stderr)
  const archived = await runCli(['archive', '--before', '2999-01-01', '--json', '--db', db])
  assert.equal(archived.code, 0, archived.stderr)
  const moved = json(archived.stdout).tables
  assert.equal(moved.instances, 1, 'the demo has one deleted instance')
  assert.ok((moved.instance_actions ?? 0) > 0)

  const query = await runCli(['actions', 'query', '--archived', '--all', '--format', 'json'], env)
  assert.equal(query.code, 0, query.stderr)
  const rows = JSON.parse(query.stdout) as { instance_uuid: string; request_id: string }[]
  assert.equal(rows.length, moved.instance_actions)
  assert.equal(new Set(rows.map((r) => r.instance_uuid)).size, 1)
  // Live and archived together are what the live query answered before.
  const live = JSON.parse(
    (await runCli(['actions', 'query', '--all', '--format', 'json'], env)).stdout,
  ) as { request_id: string }[]
  assert.equal(live.length + rows.length, (JSON.parse(before.stdout) as unknown[]).length)
  const events = await runCli(['events', 'query', '--archived', '--all', '--format', 'json'], env)
  assert.equal(events.code, 0, events.stderr)
  assert.equal((JSON.parse(events.stdout) as unknown[]).length, moved.instance_actions_events)
  // A member is refused, as by the API (exit 1, the server's message).
  const refused = await runCli(['actions', 'query', '--archived'], {
    ...env,
    ACTIONTRAIL_TOKEN: member,
  })
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /archived history requires the admin role/)
})

test('with the signing key, archive and purge end with a signed checkpoint of what they removed', async (t) => {
  const db = await seeded(t, 'sqlite')
  const key = join(mkdtempSync(join(tmpdir(), 'at-retention-key-')), 'signing.pem')
  t.after(() => rmSync(join(key, '..'), { recursive: true, force: true }))
  assert.equal((await runCli(['keygen', key])).code, 0)
  const env = { ACTIONTRAIL_SIGNING_KEY: key }
  const nothing = await runCli(['archive', '--before', '2026-01-02', '--db', db], env)
  assert.equal(nothing.code, 0, nothing.stderr)
  assert.equal(nothing.stderr, '', 'a run that removed nothing signs nothing')
  const archived = await runCli(['archive', '--before', '2026-01-10', '--json', '--db', db], env)
  assert.equal(archived.code, 0, archived.stderr)
  assert.match(archived.stderr, /^checkpoint 1 \(archive\): position \d+, signed$/m)
  assert.equal(json(archived.stdout).tables.instance_actions, 4, 'stdout stays the JSON counts')
  const purged = await runCli(['purge', '--all', '--db', db], env)
  assert.match(purged.stderr, /^checkpoint 2 \(purge\): position \d+, signed$/m)

  const stores = await openStores(db, { migrate: false })
  const [archive, purge] = await stores.checkpoints.list(0, 10)
  await stores.close()
  assert.equal(archive?.reason, 'archive')
  assert.deepEqual(JSON.parse(archive?.summary ?? ''), {
    before: '2026-01-10T00:00:00.000000',
    instances: 1,
    actions: 4,
    events: 4,
  })
  assert.equal(purge?.reason, 'purge')
  assert.equal(JSON.parse(purge?.summary ?? '').before, 'all')
  const verified = await runCli(['verify', '--db', db, '--public-key', `${key}.pub`])
  assert.equal(verified.code, 0, verified.stdout)
  assert.match(verified.stdout, /, 2 checkpoints/)

  const badKey = await runCli(['archive', '--before', '2026-01-10', '--db', db], {
    ACTIONTRAIL_SIGNING_KEY: join(key, '..', 'missing.pem'),
  })
  assert.equal(badKey.code, 2, 'a key that cannot be read stops the run before it starts')
})
