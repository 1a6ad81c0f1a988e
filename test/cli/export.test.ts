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
import { test, type TestContext } from 'node:test'
import { gunzipSync } from 'node:zlib'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { csvText } from '../../src/export/export-lines.js'
import type { ExportRecord } from '../../src/export/export-records.js'
import { writeExport } from '../../src/export/write-export.js'
import { openStores } from '../../src/store/open-store.js'
import { tempDir } from '../helpers/backup-check.js'
import { runCli } from '../helpers/run-cli.js'
import { TestStore } from '../helpers/store-ops.js'

const VM1 = '11111111-1111-4111-8111-111111111111'
const VM2 = '22222222-2222-4222-8222-222222222222'
const PROJECT = 'aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa'
const USER = 'a0000000000040008000000000000001'
const TRACEBACK = 'Traceback:\n  File "nova/compute.py", line 1, in "reboot", oops'

const at = (minute: number) =>
  `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000000` as Timestamp

/** A store with five actions: four on VM1 (the third failed on host-b), one on VM2. */
async function seeded(t: TestContext): Promise<string> {
  const file = join(tempDir(t), 'trail.sqlite')
  const stores = await openStores(file)
  const store = new TestStore(stores.actions)
  for (const [uuid, name] of [
    [VM1, 'vm-1'],
    [VM2, 'vm-2'],
  ] as const)
    await store.putInstance({ uuid, name, projectId: PROJECT, userId: USER, now: at(0) })
  const actions = [
    [VM1, 'create', 1],
    [VM1, 'reboot', 2],
    [VM1, 'resize', 3],
    [VM1, 'stop', 4],
    [VM2, 'create', 5],
  ] as const
  for (const [uuid, action, minute] of actions) {
    const requestId = `req-${String(minute).padStart(36 - 4, '0')}`
    const base = { instanceUuid: uuid, requestId }
    await store.startAction({
      ...base,
      action,
      userId: USER,
      projectId: PROJECT,
      startTime: at(minute),
      createdAt: at(minute),
      writer: 'w:0123456789abcdef',
    })
    const failed = action === 'resize'
    await store.startEvent({
      ...base,
      event: `compute_${action}`,
      host: failed ? 'host-b' : 'host-a',
      startTime: at(minute),
      createdAt: at(minute),
    })
    await store.finishEvent({
      ...base,
      event: `compute_${action}`,
      finishTime: at(minute + 10),
      result: failed ? 'Error' : 'Success',
      traceback: failed ? TRACEBACK : null,
      details: null,
      updatedAt: at(minute + 10),
    })
  }
  await stores.close()
  return file
}

function lines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown)
}

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
  const [header, ...records] = lines(text) as [unknown, ...ExportRecord[]]
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
  const [header, ...records] = lines(gunzipSync(readFileSync(out)).toString('utf8')) as [
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
    (lines(hosts.stdout).slice(1) as ExportRecord[]).map((r) => r.action.action),
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
