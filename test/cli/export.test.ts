/**
 * `actiontrail export` (issue 13) on a real SQLite store: every action matching the filters with
 * its instance and events (the admin view: tracebacks, hosts, writer tags), newest first across
 * keyset pages, as NDJSON behind a versioned header or as RFC 4180 CSV, to stdout or a file,
 * gzipped on request; a bad filter is the query API's own message with exit 2.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { csvText } from '../../src/export/export-lines.js'
import type { ExportRecord } from '../../src/export/export-records.js'
import { writeExport } from '../../src/export/write-export.js'
import { openStores } from '../../src/store/open-store.js'
import { tempDir } from '../helpers/backup-check.js'
import { exportBody, seeded, TRACEBACK, VM1 } from '../helpers/export-seed.js'
import { runCli } from '../helpers/run-cli.js'

test('NDJSON in pages of two: a versioned header, then every action newest first, admin view', async (t) => {
  const file = await seeded(t)
  const stores = await openStores(file, { migrate: false })
  t.after(() => stores.close())
  let text = ''
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8')
      done()
    },
  })
  const summary = await writeExport(
    {
      source: stores.actions,
      search: {},
      filters: new URLSearchParams(),
      format: 'ndjson',
      now: new Date('2026-02-01T00:00:00Z'),
      pageSize: 2,
    },
    sink,
  )
  assert.equal(summary.actions, 5)
  const [header, ...records] = exportBody(text) as [unknown, ...ExportRecord[]]
  assert.deepEqual(header, {
    actiontrail_export: 1,
    exported_at: '2026-02-01T00:00:00.000Z',
    filters: {},
  })
  assert.deepEqual(
    records.map((r) => r.action.action),
    ['create', 'stop', 'resize', 'reboot', 'create'],
  )
  const resize = records[2] as ExportRecord
  assert.equal(resize.instance.uuid, VM1)
  assert.equal(resize.instance.name, 'vm-1')
  assert.equal(resize.action.written_by, 'w:0123456789abcdef')
  assert.equal(resize.action.message, 'Error')
  assert.equal(resize.events.length, 1)
  assert.equal(resize.events[0]?.host, 'host-b')
  assert.equal(resize.events[0]?.result, 'Error')
  assert.equal(resize.events[0]?.traceback, TRACEBACK)
})

test('CLI: filters as `actions query` names them, gzip to a file, recorded in the header', async (t) => {
  const file = await seeded(t)
  const out = join(tempDir(t), 'export.ndjson.gz')
  const run = await runCli([
    'export',
    '--db',
    file,
    '--instance',
    VM1,
    '--action',
    'reboot',
    '--action',
    'resize',
    '--gzip',
    '--output',
    out,
  ])
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, '')
  assert.match(run.stderr, /^export: 2 actions to .*export\.ndjson\.gz\n$/)
  const [header, ...records] = exportBody(gunzipSync(readFileSync(out)).toString('utf8')) as [
    { filters: unknown },
    ...ExportRecord[],
  ]
  assert.deepEqual(header.filters, { instance: VM1, action: ['reboot', 'resize'] })
  assert.deepEqual(
    records.map((r) => [r.instance.uuid, r.action.action]),
    [
      [VM1, 'resize'],
      [VM1, 'reboot'],
    ],
  )

  const hosts = await runCli(['export', '--db', file, '--host', 'host-b'])
  assert.equal(hosts.code, 0, hosts.stderr)
  assert.deepEqual(
    (exportBody(hosts.stdout).slice(1) as ExportRecord[]).map((r) => r.action.action),
    ['resize'],
  )
})

test('CLI: CSV is one row per event with its action and instance, quoted per RFC 4180', async (t) => {
  const file = await seeded(t)
  const run = await runCli(['export', '--db', file, '--format', 'csv', '--result', 'error'])
  assert.equal(run.code, 0, run.stderr)
  const rows = run.stdout.split('\r\n')
  assert.match(rows[0] ?? '', /^instance_uuid,instance_name,.*,event_finished_by$/)
  assert.equal(rows.length, 3, 'header, one event, and the final line end')
  assert.equal(rows[2], '')
  // The traceback holds a line break, quotes and commas: one quoted field, quotes doubled.
  assert.ok(
    rows[1]?.includes(',"Traceback:\n  File ""nova/compute.py"", line 1, in ""reboot"", oops",'),
    rows[1],
  )
})

test('csvText: only fields that need it are quoted; null is an empty field', () => {
  assert.equal(
    csvText([
      ['plain', 'a,b', 'say "hi"', 'two\nlines', null, ''],
      ['x', 'cr\r', ' lead', null, null, null],
    ]),
    'plain,"a,b","say ""hi""","two\nlines",,\r\nx,"cr\r", lead,,,\r\n',
  )
})

test('CLI: a bad filter is the query API message, exit 2, and nothing is written', async (t) => {
  const file = await seeded(t)
  const out = join(tempDir(t), 'never.ndjson')
  const run = await runCli(['export', '--db', file, '--since', 'yesterday', '--output', out])
  assert.equal(run.code, 2)
  assert.match(run.stderr, /^actiontrail: Invalid since/)
  assert.throws(() => readFileSync(out), { code: 'ENOENT' })
})
