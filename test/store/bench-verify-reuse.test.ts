/**
 * `npm run bench:verify -- --file PATH` keeps its store and reuses it on the next run (measuring
 * verify on a large store without filling it again). Reuse used to fail with "-wal file was
 * deleted": the fill loop ran again on stores already closed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

const run = promisify(execFile)

test('bench:verify --file reuses the store it kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-bench-reuse-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const args = [
    '--import',
    'tsx',
    'bench/verify.ts',
    ...['--actions', '30', '--events', '2', '--rounds', '1', '--file', join(dir, 'v.sqlite')],
  ]
  const first = await run(process.execPath, args)
  assert.match(first.stdout, /30 actions, 60 events \(filled in/)
  const second = await run(process.execPath, args)
  assert.match(second.stdout, /30 actions, 60 events \(reused\)/)
  assert.match(second.stdout, /\| verifyChain \| 90 \| 90 \|/)
})
