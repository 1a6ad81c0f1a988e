/**
 * `actiontrail import --from-export` (issue 13) through the command, on real SQLite stores: an
 * export imported into a fresh store exports the same records (the query layer's admin view,
 * writer tags included); importing twice adds nothing; a malformed line stops the import with
 * `line N: reason` and exit 1, its chunk not applied and the chunks before it kept, and the
 * corrected file then imports the rest.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from '../helpers/backup-check.js'
import { exportBody, seeded } from '../helpers/export-seed.js'
import { runCli } from '../helpers/run-cli.js'

/** The records of a store's export (the header's time left out). */
async function exported(db: string): Promise<unknown[]> {
  const run = await runCli(['export', '--db', db])
  assert.equal(run.code, 0, run.stderr)
  return exportBody(run.stdout).slice(1)
}

test('export → import into a fresh store gives the same records; a second import adds nothing', async (t) => {
  const source = await seeded(t)
  const dir = tempDir(t)
  const file = join(dir, 'trail.ndjson.gz')
  const target = join(dir, 'copy.sqlite')
  assert.equal((await runCli(['export', '--db', source, '--gzip', '--output', file])).code, 0)

  const first = await runCli(['import', '--from-export', file, '--db', target])
  assert.equal(first.code, 0, first.stderr)
  assert.equal(first.stdout, 'imported: 5 actions new, 0 already there, 0 skipped\n')
  const want = await exported(source)
  assert.equal(want.length, 5)
  assert.deepEqual(await exported(target), want)

  const again = await runCli(['import', '--from-export', file, '--db', target])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout, 'imported: 0 actions new, 5 already there, 0 skipped\n')
  assert.deepEqual(await exported(target), want)
})

test('a malformed line: "line N: reason", exit 1, its chunk not applied; the fixed file resumes', async (t) => {
  const source = await seeded(t)
  const dir = tempDir(t)
  const good = join(dir, 'good.ndjson')
  const bad = join(dir, 'bad.ndjson')
  const target = join(dir, 'copy.sqlite')
  assert.equal((await runCli(['export', '--db', source, '--output', good])).code, 0)
  // Lines 2–3 are the first chunk of two, lines 4–5 the second: line 5 breaks it.
  const lines = readFileSync(good, 'utf8').split('\n')
  const broken = JSON.parse(lines[4] as string) as { action: { start_time: string } }
  broken.action.start_time = 'yesterday'
  writeFileSync(bad, [...lines.slice(0, 4), JSON.stringify(broken), ...lines.slice(5)].join('\n'))

  const run = await runCli(['import', '--from-export', bad, '--batch-size', '2', '--db', target])
  assert.equal(run.code, 1)
  assert.equal(run.stdout, 'stopped: 2 actions new, 0 already there, 0 skipped\n')
  assert.match(
    run.stderr,
    /^actiontrail: .*bad\.ndjson: line 5: record\/action\.start_time is not a time as YYYY-MM-DDTHH:MM:SS\.ffffff\n$/,
  )
  const all = await exported(source)
  assert.deepEqual(await exported(target), all.slice(0, 2), 'only the first chunk is applied')

  const truncated = await runCli(['import', '--from-export', bad, '--db', target])
  assert.match(truncated.stderr, /line 5: /, 'with one chunk for the file, nothing more is applied')
  assert.deepEqual(await exported(target), all.slice(0, 2))

  const resumed = await runCli([
    'import',
    '--from-export',
    good,
    '--batch-size',
    '2',
    '--db',
    target,
  ])
  assert.equal(resumed.code, 0, resumed.stderr)
  assert.equal(resumed.stdout, 'imported: 3 actions new, 2 already there, 0 skipped\n')
  assert.deepEqual(await exported(target), all)
})

test('bad JSON, a wrong field and a missing header are refused with their line', async (t) => {
  const dir = tempDir(t)
  const target = join(dir, 'copy.sqlite')
  const header = JSON.stringify({ actiontrail_export: 1, exported_at: 'x', filters: {} })
  const cases: [string, RegExp][] = [
    [`${header}\n{"instance": `, /line 2: not JSON/],
    [`${header}\n{"instance": {}, "action": {}, "events": [], "extra": 1}`, /line 2: record/],
    ['{"instance": {}}', /line 1: not an ActionTrail export header of version 1/],
  ]
  for (const [text, reason] of cases) {
    const file = join(dir, 'case.ndjson')
    writeFileSync(file, text)
    const run = await runCli(['import', '--from-export', file, '--db', target])
    assert.equal(run.code, 1, text)
    assert.match(run.stderr, reason)
  }
  const both = await runCli(['import', '--from-export', 'f', '--from-nova-db', 'sqlite:x'])
  assert.equal(both.code, 2)
  assert.match(both.stderr, /give one of --from-nova-db, --from-nova-api, --from-export/)
})

test('an export file is input like any other: its failure texts are sanitized on the way in', async (t) => {
  const source = await seeded(t)
  const dir = tempDir(t)
  const good = join(dir, 'good.ndjson')
  const edited = join(dir, 'edited.ndjson')
  const target = join(dir, 'copy.sqlite')
  assert.equal((await runCli(['export', '--db', source, '--output', good])).code, 0)
  // A file edited (or written) by hand: a secret and an absolute path in an event's texts.
  const lines = readFileSync(good, 'utf8').split('\n')
  const record = JSON.parse(lines[1] as string) as {
    events: { traceback: string | null; details: string | null }[]
  }
  assert.ok(record.events[0], 'the seeded record has events')
  record.events[0].traceback =
    'Traceback (most recent call last):\n' +
    '  File "/usr/lib/python3/dist-packages/nova/compute/manager.py", line 1, in f\n' +
    'ValueError: connect mysql://nova:s3cret@db/nova password=hunter2'
  record.events[0].details = 'password=hunter2'
  writeFileSync(edited, [lines[0], JSON.stringify(record), ...lines.slice(2)].join('\n'))

  const run = await runCli(['import', '--from-export', edited, '--db', target])
  assert.equal(run.code, 0, run.stderr)
  const text = JSON.stringify(await exported(target))
  for (const secret of ['hunter2', 's3cret', '/usr/lib/python3'])
    assert.ok(!text.includes(secret), `${secret} is not stored`)
})
