import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AppError } from '../../domain/errors.js'
import { IMPORT_WRITE_ATTEMPTS, writeWithRetry } from './write-with-retry.js'

/** A write that fails `failures` times with `code`, then answers 'written'. */
function flaky(
  failures: number,
  code: 'store_unavailable' | 'invalid_input' = 'store_unavailable',
) {
  let calls = 0
  return {
    write: () => {
      calls += 1
      if (calls <= failures) return Promise.reject(new AppError(code, `failure ${calls}`))
      return Promise.resolve('written')
    },
    calls: () => calls,
  }
}

const waits: number[] = []
const noWait = (ms: number) => {
  waits.push(ms)
  return Promise.resolve()
}

test('a batch the store could not take for a while is written again, with growing waits', async () => {
  waits.length = 0
  const w = flaky(3)
  assert.equal(await writeWithRetry(w.write, undefined, noWait), 'written')
  assert.equal(w.calls(), 4)
  assert.equal(waits.length, 3)
  assert.ok(waits[0]! <= 100 && waits[2]! >= 200, waits.join(','))
})

test('the store still unavailable after every attempt: its error, not a hang', async () => {
  const w = flaky(100)
  await assert.rejects(writeWithRetry(w.write, undefined, noWait), {
    code: 'store_unavailable',
    message: `failure ${IMPORT_WRITE_ATTEMPTS}`,
  })
  assert.equal(w.calls(), IMPORT_WRITE_ATTEMPTS)
})

test('other errors and an aborted import are not retried', async () => {
  const bad = flaky(1, 'invalid_input')
  await assert.rejects(writeWithRetry(bad.write, undefined, noWait), { code: 'invalid_input' })
  assert.equal(bad.calls(), 1)
  const aborted = flaky(5)
  await assert.rejects(writeWithRetry(aborted.write, AbortSignal.abort(), noWait), {
    code: 'store_unavailable',
  })
  assert.equal(aborted.calls(), 1)
})
