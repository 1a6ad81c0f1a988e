/**
 * The sanitizer pool gives exactly sanitizeTraceback / sanitizeDetails, whichever path a text
 * takes (worker thread or inline slices), and keeps the event loop turning while it works.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import { TRACEBACK_CASES } from '../../test/fixtures/traceback-fixtures.js'
import { adversarialTraceback } from '../../test/helpers/freeze-attacks.js'
import { createSanitizerPool, INLINE_SLICE, WORKER_THRESHOLD } from './sanitize-pool.js'
import { sanitizeDetails, sanitizeTraceback } from './sanitize-traceback.js'

// Every text to a worker, and every text inline: the two paths the default pool chooses between.
const viaWorker = createSanitizerPool({ workers: 2, workerThreshold: 0 })
const inlineOnly = createSanitizerPool({ workerThreshold: Number.POSITIVE_INFINITY })
after(async () => {
  await viaWorker.close()
  await inlineOnly.close()
})

/** Event-loop turns (setImmediate callbacks) that run before `work` settles. */
async function turnsDuring<T>(work: Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0
  let done = false
  const tick = () => {
    if (done) return
    turns++
    setImmediate(tick)
  }
  setImmediate(tick)
  const value = await work
  done = true
  return { value, turns }
}

const unit = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n)

const INPUTS: ReadonlyArray<[string, string]> = [
  ...TRACEBACK_CASES.map((c): [string, string] => [c.name, c.input]),
  ['empty', ''],
  ['adversarial URL user info, 64 KiB', adversarialTraceback(64 * 1024)],
  ['over the stored cap', unit('File "/home/bob/x.py", line 1 password=hunter2\n', 200_000)],
  ['ligatures (NFKC grows the text)', unit('\ufdfa', 20_000)],
  ['escapes and invisible characters', unit('\u001b[31mpass\u200bword=x\u00ad\n', 30_000)],
]

describe('the same output on every path', () => {
  for (const [name, input] of INPUTS) {
    test(name, async () => {
      const traceback = sanitizeTraceback(input)
      const details = sanitizeDetails(input)
      assert.equal(await viaWorker.traceback(input), traceback)
      assert.equal(await viaWorker.details(input), details)
      assert.equal(await inlineOnly.traceback(input), traceback)
      assert.equal(await inlineOnly.details(input), details)
    })
  }

  test('generated text (seeded)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (text) => {
        assert.equal(await viaWorker.traceback(text), sanitizeTraceback(text))
        assert.equal(await inlineOnly.details(text), sanitizeDetails(text))
      }),
      { seed: 20261206, numRuns: 200 },
    )
  })

  test('many texts at once are each answered with their own result, in any order', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `password=s${i} File "/home/u${i}/a.py"`)
    const results = await Promise.all(
      texts.map((t, i) => (i % 2 ? viaWorker.traceback(t) : inlineOnly.traceback(t))),
    )
    assert.deepEqual(
      results,
      texts.map((t) => sanitizeTraceback(t)),
    )
  })
})

describe('the event loop keeps turning', () => {
  test('while a large adversarial traceback is sanitized on a worker', async () => {
    const pool = createSanitizerPool({ workers: 1 })
    after(() => pool.close())
    const input = adversarialTraceback(256 * 1024)
    assert.ok(input.length >= WORKER_THRESHOLD)
    const { value, turns } = await turnsDuring(pool.traceback(input))
    assert.equal(value, sanitizeTraceback(input))
    // Inline, the whole text would be one turn (0 turns in between).
    assert.ok(turns > 1, `${turns} turns of the event loop while the worker ran`)
  })

  test('between slices of many small texts sanitized inline', async () => {
    const pool = createSanitizerPool({ workers: 1 })
    after(() => pool.close())
    const small = adversarialTraceback(WORKER_THRESHOLD - 1)
    const count = 40
    const { value, turns } = await turnsDuring(
      Promise.all(Array.from({ length: count }, () => pool.traceback(small))),
    )
    assert.ok(value.every((v) => v === sanitizeTraceback(small)))
    // At most INLINE_SLICE characters (here: one text) before the loop turns again.
    const slices = Math.ceil((count * small.length) / (INLINE_SLICE + small.length))
    assert.ok(turns >= slices - 1, `${turns} turns for ${count} texts (at least ${slices - 1})`)
  })

  test('a closed pool still sanitizes (inline), with the same output', async () => {
    const pool = createSanitizerPool({ workers: 1 })
    const input = adversarialTraceback(WORKER_THRESHOLD * 2)
    assert.equal(await pool.traceback(input), sanitizeTraceback(input))
    await pool.close()
    assert.equal(await pool.traceback(input), sanitizeTraceback(input))
  })
})
