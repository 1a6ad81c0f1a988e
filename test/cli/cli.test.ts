/** The `actiontrail` command, run as a user runs it (a child process on a temporary database). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { runCli } from '../helpers/run-cli.js'

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('--help works on the program and on every command', async () => {
  const top = await runCli(['--help'])
  assert.equal(top.code, 0)
  for (const cmd of ['serve', 'migrate', 'demo'])
    assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`))
  for (const [cmd, flag] of [
    ['serve', '--tokens'],
    ['migrate', '--check'],
    ['demo', '--db'],
  ]) {
    const r = await runCli([cmd as string, '--help'])
    assert.equal(r.code, 0, cmd)
    assert.match(r.stdout, new RegExp(`Usage: actiontrail ${cmd}`))
    assert.ok(r.stdout.includes(flag as string), `${cmd} --help mentions ${flag}`)
  }
})

test('migrate applies the schema once; --check reports it; ACTIONTRAIL_DB selects the file', async (t) => {
  const db = join(tempDir(t), 'a.db')
  const check = await runCli(['migrate', '--check', '--db', db])
  assert.equal(check.code, 1)
  assert.match(check.stdout, /pending migrations: 0001-init/)
  const first = await runCli(['migrate'], { ACTIONTRAIL_DB: db })
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /applied: 0001-init/)
  const second = await runCli(['migrate', '--db', db])
  assert.match(second.stdout, /schema is up to date/)
  assert.equal((await runCli(['migrate', '--check', '--db', db])).code, 0)
})

test('a database with a newer schema is refused with a clear message', async (t) => {
  const db = join(tempDir(t), 'new.db')
  assert.equal((await runCli(['migrate', '--db', db])).code, 0)
  const native = new BetterSqlite3(db)
  native
    .prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)')
    .run('9999-from-the-future', new Date().toISOString())
  native.close()
  for (const args of [['demo'], ['migrate'], ['migrate', '--check']]) {
    const r = await runCli([...args, '--db', db])
    assert.notEqual(r.code, 0, args.join(' '))
    assert.match(
      r.stderr,
      /schema is newer than this ActionTrail.*9999-from-the-future/,
      args.join(' '),
    )
  }
})

test('demo loads the history once: running it twice adds nothing', async (t) => {
  const db = join(tempDir(t), 'demo.db')
  const first = await runCli(['demo', '--db', db])
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /6 instances, 44 actions added/)
  const second = await runCli(['demo'], { ACTIONTRAIL_DB: db })
  assert.match(second.stdout, /6 instances, 0 actions added/)
  const native = new BetterSqlite3(db, { readonly: true })
  const counts = native
    .prepare(
      'SELECT (SELECT count(*) FROM instance_actions) a, ' +
        '(SELECT count(*) FROM instance_actions_events) e, ' +
        '(SELECT count(*) FROM instances WHERE deleted_at IS NOT NULL) d',
    )
    .get() as { a: number; e: number; d: number }
  native.close()
  assert.equal(counts.a, 44)
  assert.ok(counts.e > 44)
  assert.equal(counts.d, 1)
})

test('serve refuses to start without a token file, and on bad settings, with a clear message', async (t) => {
  const dir = tempDir(t)
  const noTokens = await runCli(['serve', '--db', join(dir, 'x.db')], { ACTIONTRAIL_TOKENS: '' })
  assert.equal(noTokens.code, 2)
  assert.match(noTokens.stderr, /a token file is required/)
  const badPort = await runCli(['serve', '--port', 'http'])
  assert.equal(badPort.code, 2)
  assert.match(badPort.stderr, /port must be an integer/)
  const badFile = join(dir, 'tokens.yaml')
  writeFileSync(
    badFile,
    'tokens:\n  - token: abc\n    user_id: u\n    project_id: p\n    roles: [root]\n',
  )
  const badRoles = await runCli([
    'serve',
    '--db',
    join(dir, 'x.db'),
    '--tokens',
    badFile,
    '--port',
    '0',
  ])
  assert.equal(badRoles.code, 2)
  assert.match(
    badRoles.stderr,
    /tokens\[0\]: roles must be a list of admin, member, reader, service/,
  )
  assert.ok(!badRoles.stderr.includes('abc'), 'the token itself is not echoed')
  const badLevel = await runCli(['serve', '--log-level', 'loud'])
  assert.match(badLevel.stderr, /log level must be one of/)
})
