/**
 * `actiontrail export --proof` and `actiontrail verify --export FILE --public-key KEY` through the
 * commands, on SQLite, PostgreSQL and MariaDB: an auditor with only the file and the public key
 * finds a clean export OK, and finds every kind of tampering with the file: a record altered, a
 * record removed, a chain entry altered, a stale copy of a record, a foreign key; the proof's
 * lines do not disturb an import of the same file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { openStores } from '../../src/store/open-store.js'
import {
  backendProblem,
  freshDatabase,
  REQUIRE_BACKENDS,
  type BackendName,
} from '../helpers/backends.js'
import { chainAt, chainVm, seedChainHistory, type ChainSeed } from '../helpers/chain-seed.js'
import { runCli } from '../helpers/run-cli.js'
import { TestStore } from '../helpers/store-ops.js'

const BACKENDS: readonly BackendName[] = ['sqlite-file', 'postgres', 'mysql']

interface Rig {
  url: string
  key: string
  pub: string
  dir: string
  seed: ChainSeed
}

async function rig(t: TestContext, backend: BackendName): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-proof-'))
  const database = await freshDatabase(backend)
  const stores = await openStores(database.url)
  const seed = await seedChainHistory(stores.actions)
  await stores.close()
  t.after(async () => {
    await database.drop()
    rmSync(dir, { recursive: true, force: true })
  })
  const key = join(dir, 'signing.pem')
  assert.equal((await runCli(['keygen', key])).code, 0)
  return { url: database.url, key, pub: `${key}.pub`, dir, seed }
}

async function exportProof(r: Rig, file: string, ...filters: string[]): Promise<string[]> {
  const out = await runCli(['export', '--db', r.url, '--proof', '--output', file, ...filters], {
    ACTIONTRAIL_SIGNING_KEY: r.key,
  })
  assert.equal(out.code, 0, out.stderr)
  return readFileSync(file, 'utf8').trimEnd().split('\n')
}

async function verify(r: Rig, file: string, pub = r.pub) {
  return runCli(['verify', '--export', file, '--public-key', pub])
}

type Line = Record<string, unknown> & { ids?: { action: number }; events?: { details: unknown }[] }
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Line)
const write = (file: string, lines: readonly unknown[]) =>
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')

/** Writes a tampered export as `name`, and checks that verify fails (exit 1) saying `problem`. */
async function failsWith(r: Rig, name: string, lines: readonly unknown[], problem: RegExp) {
  const file = join(r.dir, name)
  write(file, lines)
  const out = await verify(r, file)
  assert.equal(out.code, 1)
  assert.match(out.stdout, problem)
}

for (const name of BACKENDS) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`export proof: ${name} (required)`, () => assert.fail(problem))
    continue
  }
  describe(`export proof: ${name}`, { skip: problem ?? false }, () => {
    test('a clean export verifies offline with the public key; altered files fail, named', async (t) => {
      const r = await rig(t, name)
      const file = join(r.dir, 'history.ndjson')
      const lines = parse(await exportProof(r, file))
      const ok = await verify(r, file)
      assert.equal(ok.code, 0, ok.stdout + ok.stderr)
      assert.match(
        ok.stdout,
        new RegExp(
          '^OK: 5 actions and 4 events against \\d+ chain entries, ' +
            'checkpoint 1 of .* at position \\d+; completeness checked',
          'm',
        ),
      )

      // An event's details changed in the file.
      const recordAt = lines.findIndex((l) => l.ids?.action === r.seed.actionId)
      const altered = structuredClone(lines)
      altered[recordAt]!.events![0]!.details = 'nothing happened'
      await failsWith(
        r,
        'altered.ndjson',
        altered,
        new RegExp(
          `FAIL record_not_in_chain: line ${recordAt + 1}: event \\d+ of action ${r.seed.actionId} ` +
            'is not as the chain recorded it',
        ),
      )

      // A record taken out, the end line's count adjusted to hide it.
      const removed = lines.filter((_, n) => n !== recordAt)
      const end = removed[removed.length - 1] as { actiontrail_export_end: { actions: number } }
      end.actiontrail_export_end.actions -= 1
      await failsWith(
        r,
        'removed.ndjson',
        removed,
        new RegExp(
          `FAIL record_missing: action ${r.seed.actionId} was in the history when the export began`,
        ),
      )

      // A chain entry's digest rewritten to match an altered record.
      const chainAt = lines.findIndex((l) => 'actiontrail_chain' in l)
      const rechained = structuredClone(lines)
      const entries = rechained[chainAt]!.actiontrail_chain as unknown[][]
      entries[2]![4] = 'f'.repeat(64)
      await failsWith(
        r,
        'rechained.ndjson',
        rechained,
        /FAIL link_broken: the link at position \d+ does not follow from the entries before it/,
      )

      // Another key than the one that signed.
      const other = join(r.dir, 'other.pem')
      assert.equal((await runCli(['keygen', other])).code, 0)
      const foreign = await verify(r, file, `${other}.pub`)
      assert.equal(foreign.code, 1)
      assert.match(foreign.stdout, /FAIL checkpoint_invalid: checkpoint 1 names a key other/)
    })
  })
}

// Independent of the backend (the digests' encoding is what the loop above covers): SQLite only.
test('a stale copy of a record is found; a filtered export skips completeness', async (t) => {
  const r = await rig(t, 'sqlite-file')
  const before = parse(await exportProof(r, join(r.dir, 'before.ndjson')))
  const stores = await openStores(r.url)
  await new TestStore(stores.actions).finishAction({
    instanceUuid: chainVm(1),
    requestId: 'req-lonely',
    finishTime: chainAt(70),
  })
  await stores.close()
  const file = join(r.dir, 'after.ndjson')
  const after = parse(await exportProof(r, file))
  assert.equal((await verify(r, file)).code, 0)
  const at = after.findIndex((l) => l.ids?.action === r.seed.lonelyActionId)
  after[at] = before.find((l) => l.ids?.action === r.seed.lonelyActionId)!
  await failsWith(
    r,
    'stale.ndjson',
    after,
    new RegExp(
      `FAIL record_stale: line ${at + 1}: action ${r.seed.lonelyActionId} is an older version`,
    ),
  )

  const filtered = join(r.dir, 'filtered.ndjson')
  await exportProof(r, filtered, '--instance', chainVm(2))
  const partial = await verify(r, filtered)
  assert.equal(partial.code, 0, partial.stdout)
  assert.match(partial.stdout, /^OK: 2 actions .*completeness not checked: the export is filtered/m)
})

test('usage: a proof needs the key and NDJSON; an export without a proof is refused', async (t) => {
  const r = await rig(t, 'sqlite-file')
  const noKey = await runCli(['export', '--db', r.url, '--proof'])
  assert.equal(noKey.code, 2)
  assert.match(noKey.stderr, /--proof: set ACTIONTRAIL_SIGNING_KEY/)
  const csv = await runCli(['export', '--db', r.url, '--proof', '--format', 'csv'], {
    ACTIONTRAIL_SIGNING_KEY: r.key,
  })
  assert.equal(csv.code, 2)
  const plain = join(r.dir, 'plain.ndjson')
  assert.equal((await runCli(['export', '--db', r.url, '--output', plain])).code, 0)
  const notProof = await verify(r, plain)
  assert.equal(notProof.code, 1)
  assert.match(notProof.stdout, /FAIL not_a_proof: not an export with a proof/)
  const noPub = await runCli(['verify', '--export', plain])
  assert.equal(noPub.code, 2)
})

test('an export with a proof imports like any other (the proof is ignored)', async (t) => {
  const r = await rig(t, 'sqlite-file')
  const file = join(r.dir, 'history.ndjson')
  await exportProof(r, file)
  const target = join(r.dir, 'copy.db')
  assert.equal((await runCli(['migrate', '--db', target])).code, 0)
  const imported = await runCli(['import', '--from-export', file, '--db', target])
  assert.equal(imported.code, 0, imported.stderr)
  const again = await runCli(['export', '--db', target])
  assert.equal(again.stdout.trimEnd().split('\n').length, 7)
})
