/**
 * `actiontrail keygen`, `checkpoint` and `verify` through the command as operators run them, on
 * SQLite, PostgreSQL and MariaDB: a clean history with a signed checkpoint verifies (exit 0);
 * a record altered with plain SQL fails verify (exit 1) with the record named; a checkpoint
 * edited in the database, or signed by another key, fails its signature check; verify --from a
 * checkpoint checks the chain from there.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import type { Kysely } from 'kysely'
import { queryRows } from '../../src/store/chain/run-plain-program.js'
import { openDatabase, openStores } from '../../src/store/open-store.js'
import {
  backendProblem,
  freshDatabase,
  REQUIRE_BACKENDS,
  type BackendName,
} from '../helpers/backends.js'
import { seedChainHistory, type ChainSeed } from '../helpers/chain-seed.js'
import { runCli } from '../helpers/run-cli.js'

const BACKENDS: readonly BackendName[] = ['sqlite-file', 'postgres', 'mysql']

interface Rig {
  url: string
  key: string
  pub: string
  dir: string
  seed: ChainSeed
  sql: (text: string, ...params: unknown[]) => Promise<Record<string, unknown>[]>
}

async function rig(t: TestContext, backend: BackendName): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-verify-'))
  const database = await freshDatabase(backend)
  const stores = await openStores(database.url)
  const seed = await seedChainHistory(stores.actions)
  await stores.close()
  const raw = openDatabase(database.url)
  t.after(async () => {
    await raw.db.destroy()
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  })
  const key = join(dir, 'signing.pem')
  const made = await runCli(['keygen', key])
  assert.equal(made.code, 0, made.stderr)
  const db = raw.db as unknown as Kysely<unknown>
  return {
    url: database.url,
    key,
    pub: `${key}.pub`,
    dir,
    seed,
    sql: (text, ...params) => queryRows(db, text, params),
  }
}

for (const name of BACKENDS) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`verify CLI: ${name} (required)`, () => assert.fail(problem))
    continue
  }
  describe(`verify CLI: ${name}`, { skip: problem ?? false }, () => {
    test('a clean history with a signed checkpoint verifies; a record altered fails, named', async (t) => {
      const r = await rig(t, name)
      const cp = await runCli(['checkpoint', '--db', r.url], { ACTIONTRAIL_SIGNING_KEY: r.key })
      assert.equal(cp.code, 0, cp.stderr)
      assert.match(
        cp.stdout,
        /^checkpoint 1: position \d+, link [0-9a-f]{64}, \{"actions":5,"events":4\}/,
      )
      const ok = await runCli(['verify', '--db', r.url, '--public-key', r.pub])
      assert.equal(ok.code, 0, ok.stdout + ok.stderr)
      assert.match(ok.stdout, /^OK: \d+ chain entries to position \d+, 9 records, 1 checkpoints/m)
      const json = await runCli(['verify', '--db', r.url, '--json'], {
        ACTIONTRAIL_SIGNING_KEY: r.key,
      })
      assert.equal(json.code, 0, json.stderr)
      const report = JSON.parse(json.stdout) as {
        ok: boolean
        records: number
        checkpoints: { checked: number }
      }
      assert.equal(report.ok, true)
      assert.equal(report.checkpoints.checked, 1)

      await r.sql(
        "UPDATE instance_actions_events SET details = 'nothing happened' WHERE id = ?",
        r.seed.eventId,
      )
      const bad = await runCli(['verify', '--db', r.url, '--public-key', r.pub])
      assert.equal(bad.code, 1)
      assert.match(
        bad.stdout,
        new RegExp(
          `FAIL record_edited: event ${r.seed.eventId} \\(action ${r.seed.actionId}\\) was altered`,
        ),
      )
      assert.match(bad.stdout, /^FAILED: /m)
    })

    test('a checkpoint edited in the database, or signed by another key, fails its check', async (t) => {
      const r = await rig(t, name)
      const env = { ACTIONTRAIL_SIGNING_KEY: r.key }
      assert.equal((await runCli(['checkpoint', '--db', r.url], env)).code, 0)
      // Rewinding what the checkpoint vouches for: its position.
      await r.sql('UPDATE checkpoints SET position = position - 1 WHERE id = 1')
      const edited = await runCli(['verify', '--db', r.url, '--public-key', r.pub])
      assert.equal(edited.code, 1)
      assert.match(
        edited.stdout,
        /FAIL signature_invalid: checkpoint 1 \(position \d+\): signature invalid/,
      )
      await r.sql('UPDATE checkpoints SET position = position + 1 WHERE id = 1')

      const other = join(r.dir, 'other.pem')
      assert.equal((await runCli(['keygen', other])).code, 0)
      assert.equal(
        (await runCli(['checkpoint', '--db', r.url], { ACTIONTRAIL_SIGNING_KEY: other })).code,
        0,
      )
      const foreign = await runCli(['verify', '--db', r.url, '--public-key', r.pub])
      assert.equal(foreign.code, 1)
      assert.match(
        foreign.stdout,
        /FAIL unknown_key: checkpoint 2 names a key other than the one given/,
      )
    })

    test('verify --from a checkpoint; a bad id or missing key is a usage error (exit 2)', async (t) => {
      const r = await rig(t, name)
      const env = { ACTIONTRAIL_SIGNING_KEY: r.key }
      assert.equal((await runCli(['checkpoint', '--db', r.url], env)).code, 0)
      const stores = await openStores(r.url)
      await seedChainHistory(stores.actions, 'later')
      await stores.close()
      const from = await runCli(['verify', '--db', r.url, '--from', '1'], env)
      assert.equal(from.code, 0, from.stdout + from.stderr)
      assert.match(from.stdout, /^OK: \d+ chain entries/m)
      const noKey = await runCli(['verify', '--db', r.url, '--from', '1'])
      assert.equal(noKey.code, 2)
      const badId = await runCli(['verify', '--db', r.url, '--from', 'x'], env)
      assert.equal(badId.code, 2)
      assert.match(badId.stderr, /--from: not a checkpoint id/)
    })
  })
}
