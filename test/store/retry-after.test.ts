/**
 * A store that cannot answer is a 503 on both surfaces, in each surface's error format, with
 * `Retry-After` telling clients when to try again (issue 9: "answer 503 with Retry-After"). The
 * store here is a SQLite file damaged under the server (as in sqlite-unavailable.test.ts).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { assertV1Error, putVm, v1, VM } from '../api-v1/v1-helpers.js'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'
import { damageSqliteFile } from '../helpers/sqlite-damage.js'

test('a 503 carries Retry-After on the compute surface and on /v1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-retry-after-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'actiontrail.sqlite')
  const h = await buildHarness(t, file)
  await putVm(h)

  // Another process damages the file (every page but the first).
  damageSqliteFile(file)

  const read = await h.app.inject({
    url: `/v2.1/servers/${VM}/os-instance-actions`,
    headers: headers(TOKENS.admin),
  })
  assert.equal(read.statusCode, 503)
  assert.deepEqual(Object.keys(read.json()), ['serviceUnavailable'])
  assert.equal(read.headers['retry-after'], '1')

  const write = await v1(h, 'PUT', `/v1/instances/${VM}`, {
    name: 'vm-2',
    project_id: 'project-a',
    user_id: 'user-a',
  })
  assertV1Error(write, 503, 'store_unavailable')
  assert.equal(write.headers['retry-after'], '1')
})
