/**
 * The NDJSON text of an export (export-lines.ts): a complete export ends with a line counting its
 * records; one the server cannot finish after answering ends with a failure line instead, and an
 * import refuses both a failure line and a count that does not match (import-export.ts).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { exportLines } from './export-lines.js'
import type { ExportHeader, ExportRecord } from './export-records.js'
import { importExport } from './import-export.js'
import { openStore } from '../store/open-store.js'

const HEADER: ExportHeader = {
  actiontrail_export: 1,
  exported_at: '2026-12-06T00:00:00.000Z',
  filters: {},
}

function record(n: number): ExportRecord {
  const uuid = `00000000-0000-4000-8000-00000000000${n}`
  const t = `2026-12-0${n}T00:00:00.000000`
  return {
    instance: {
      uuid,
      name: `vm${n}`,
      project_id: 'p',
      user_id: 'u',
      created_at: t,
      updated_at: t,
      deleted_at: null,
    },
    action: {
      instance_uuid: uuid,
      action: 'create',
      request_id: `req-00000000-0000-4000-8000-00000000000${n}`,
      user_id: 'u',
      project_id: 'p',
      start_time: t,
      finish_time: null,
      message: null,
      created_at: t,
      updated_at: null,
      written_by: null,
    },
    events: [],
  } as unknown as ExportRecord
}

async function* pages(failAfter?: number): AsyncGenerator<ExportRecord[]> {
  yield [record(1), record(2)]
  if (failAfter === 1) throw new Error('database is locked')
  yield [record(3)]
}

async function text(lines: AsyncIterable<string | Uint8Array>): Promise<string> {
  let out = ''
  for await (const chunk of lines) out += String(chunk)
  return out
}

test('a complete export ends with a line counting its records, one chunk a page', async () => {
  const chunks: string[] = []
  for await (const c of exportLines(HEADER, pages(), 'ndjson')) chunks.push(String(c))
  assert.equal(chunks.length, 4, 'header, two pages, end')
  assert.deepEqual(JSON.parse(chunks[3] as string), { actiontrail_export_end: { actions: 3 } })
})

test('a read failure after the answer started: a failure line last, the cause to onError only', async () => {
  const errors: unknown[] = []
  const out = await text(
    exportLines(HEADER, pages(1), 'ndjson', { onError: (e) => errors.push(e) }),
  )
  const lines = out.trim().split('\n')
  assert.equal(lines.length, 4)
  const last = JSON.parse(lines[3] as string) as { actiontrail_export_error: { message: string } }
  assert.match(last.actiontrail_export_error.message, /stopped before its end/)
  assert.ok(!out.includes('locked'), 'the cause stays out of the body')
  assert.equal((errors[0] as Error).message, 'database is locked')
  // Without onError (a file export) the failure propagates, so the file is not kept.
  await assert.rejects(text(exportLines(HEADER, pages(1), 'ndjson')), /database is locked/)
})

test('import refuses a failure line, a wrong count, a line after the end, and a missing end', async (t) => {
  const complete = await text(exportLines(HEADER, pages(), 'ndjson'))
  const failed = await text(exportLines(HEADER, pages(1), 'ndjson', { onError: () => {} }))
  const lines = complete.trim().split('\n')
  // [input, reason, refused line, actions imported (a missing end still imports what was read)]
  const cases: [string, RegExp, number, number][] = [
    [failed, /cut short by the server/, 4, 0],
    [
      [...lines.slice(0, 3), lines[4]].join('\n'),
      /end line counts 3 records, the file has 2/,
      4,
      0,
    ],
    [complete + lines[1] + '\n', /a line after the end line/, 6, 3],
    [lines.slice(0, 4).join('\n'), /no end line: the export is incomplete/, 5, 3],
  ]
  for (const [input, reason, line, created] of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-export-lines-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const store = await openStore(join(dir, 'import.sqlite'), { migrate: true })
    try {
      const result = await importExport(store, Readable.from([input]))
      assert.equal(result.failure?.line, line, input)
      assert.match(result.failure?.reason ?? '', reason)
      assert.equal(result.actions.created, created, 'records before a refused chunk only')
    } finally {
      await store.close()
    }
  }
})
