/**
 * The connection limits reach the real server: `actiontrail serve` started with short ones (as
 * flags, and one through its environment variable) cuts a silent connection and refuses one over
 * the cap.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openRaw } from '../helpers/raw-http.js'
import { spawnDemoServer } from '../helpers/spawn-server.js'

test('serve applies --headers-timeout-ms, --request-timeout-ms and --max-connections', async (t) => {
  const server = await spawnDemoServer(t, [
    '--headers-timeout-ms',
    '300',
    '--request-timeout-ms',
    '600',
    '--max-connections',
    '2',
  ])
  const port = Number(new URL(server.url).port)
  const silent = await openRaw(port)
  const second = await openRaw(port)
  const over = await openRaw(port)
  assert.ok(await over.closedWithin(10_000), 'the connection over the cap is closed')
  assert.equal(over.received(), '')
  // Configured: 300 ms for the headers; the default is 10 s.
  assert.ok(await silent.closedWithin(15_000), 'a silent connection is cut off')
  assert.match(silent.received(), /^HTTP\/1\.1 408 /)
  assert.ok(await second.closedWithin(15_000))
})
