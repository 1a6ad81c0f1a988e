/**
 * The incremental batch scanners: whatever way the body is split into pieces, they find the same
 * operations JSON.parse finds in the whole body (and refuse what it refuses); they stop at the
 * operation and depth caps as soon as the body crosses them, not at its end.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { isAppError } from '../../domain/errors.js'
import {
  jsonArrayScanner,
  MAX_JSON_DEPTH,
  ndjsonScanner,
  type BatchItem,
  type BatchScanner,
} from './batch-scanner.js'

const SEED = 20261206

function scan(scanner: BatchScanner, pieces: readonly string[]): BatchItem[] {
  const items: BatchItem[] = []
  for (const piece of pieces) items.push(...scanner.push(piece))
  items.push(...scanner.end())
  return items
}

/** `text` cut at the given offsets (sorted, deduplicated, within the text). */
function cut(text: string, offsets: readonly number[]): string[] {
  const at = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b)
  const pieces: string[] = []
  let from = 0
  for (const o of at) {
    pieces.push(text.slice(from, o))
    from = o
  }
  pieces.push(text.slice(from))
  return pieces
}

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf))
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf))
  return 0
}

/** What the scanner must do with a whole body, decided by JSON.parse: the values, or an error. */
function oracle(text: string): { values: unknown[] } | { error: string } {
  let whole: unknown
  try {
    whole = JSON.parse(text)
  } catch {
    return { error: 'invalid_input' }
  }
  if (!Array.isArray(whole)) return { error: 'invalid_input' }
  if (depthOf(whole) > MAX_JSON_DEPTH) return { error: 'invalid_input' }
  return { values: whole }
}

function outcome(pieces: readonly string[]): { values: unknown[] } | { error: string } {
  try {
    const items = scan(jsonArrayScanner(), pieces)
    return { values: items.map((i) => (i.ok ? i.value : i)) }
  } catch (err) {
    if (!isAppError(err)) throw err
    return { error: err.code }
  }
}

const spacing = fc.constantFrom(undefined, 0, 1, 2, '\t', ' \r\n ')
const offsets = fc.array(fc.nat(), { maxLength: 8 })

describe('JSON array scanner', () => {
  test('finds the elements JSON.parse finds, however the body is split (seeded)', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 6 })), spacing, offsets, (ops, sp, at) => {
        const text = JSON.stringify(ops, null, sp)
        assert.deepEqual(outcome(cut(text, at)), oracle(text))
      }),
      { seed: SEED, numRuns: 1000 },
    )
  })

  test('refuses what JSON.parse refuses: damaged arrays and random text (seeded)', () => {
    const damaged = fc
      .tuple(fc.array(fc.jsonValue({ maxDepth: 4 }), { minLength: 1 }), fc.nat(), fc.nat())
      .map(([ops, i, j]) => {
        const text = JSON.stringify(ops)
        const at = i % text.length
        // Remove one character, or put a structural one in its place.
        const put = ['', ',', ']', '[', '{', '}', '"', '\\', ':', ' '][j % 10]
        return text.slice(0, at) + put + text.slice(at + 1)
      })
    const text = fc.oneof(damaged, fc.string({ unit: fc.constantFrom(...'[]{}",:\\ 01an') }))
    fc.assert(
      fc.property(text, offsets, (body, at) => {
        assert.deepEqual(outcome(cut(body, at)), oracle(body), JSON.stringify(body))
      }),
      { seed: SEED, numRuns: 3000 },
    )
  })

  test('a leading BOM is allowed, as the whole-body parser allowed it', () => {
    assert.deepEqual(outcome(['\ufeff', '[{"a":1}]']), { values: [{ a: 1 }] })
  })

  test('not an array → "body must be a JSON array of operations", at its first character', () => {
    const scanner = jsonArrayScanner()
    assert.throws(() => scanner.push('  {"op":'), {
      code: 'invalid_input',
      message: 'body must be a JSON array of operations',
    })
    assert.throws(() => jsonArrayScanner().end(), { code: 'invalid_input' })
  })

  test('the operation past the cap is refused when it completes, before the rest arrives', () => {
    const scanner = jsonArrayScanner({ maxOps: 3 })
    assert.equal(scanner.push('[{},{},').length, 2)
    assert.throws(() => scanner.push('{},{},'), {
      code: 'payload_too_large',
      message: 'The batch has more than 3 operations; at most 3 are allowed',
    })
  })

  test('nesting past the cap is refused at the bracket that crosses it', () => {
    const scanner = jsonArrayScanner()
    assert.deepEqual(scanner.push('['.repeat(MAX_JSON_DEPTH)), [])
    assert.throws(() => scanner.push('['), {
      code: 'invalid_input',
      message: `body is nested more than ${MAX_JSON_DEPTH} levels deep`,
    })
    // Brackets inside strings are text, not nesting.
    const text = `[{"a":"${'['.repeat(1000)}"}]`
    assert.deepEqual(outcome([text]), { values: [{ a: '['.repeat(1000) }] })
  })

  test('a million nested brackets: refused, no stack overflow', () => {
    assert.deepEqual(outcome(['['.repeat(1_000_000) + ']'.repeat(1_000_000)]), {
      error: 'invalid_input',
    })
  })
})

/** The NDJSON rules as the whole-body parser applied them (the oracle). */
function ndjsonOracle(text: string): BatchItem[] {
  const lines = text.split('\n')
  const items: BatchItem[] = []
  lines.forEach((raw, i) => {
    const line = i === 0 && raw.startsWith('\ufeff') ? raw.slice(1) : raw
    if (line.trim() === '') return
    try {
      const value: unknown = JSON.parse(line)
      items.push(
        depthOf(value) > MAX_JSON_DEPTH
          ? {
              ok: false,
              message: `line ${i + 1} is nested more than ${MAX_JSON_DEPTH} levels deep`,
            }
          : { ok: true, value },
      )
    } catch {
      items.push({ ok: false, message: `line ${i + 1} is not valid JSON` })
    }
  })
  return items
}

describe('NDJSON scanner', () => {
  test('one item per non-blank line, as the whole-body parser, however split (seeded)', () => {
    const line = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: fc.constantFrom(...'[]{}",:\\ \r\t01a\u00a0') }),
      fc.constant(''),
    )
    fc.assert(
      fc.property(fc.array(line), fc.boolean(), offsets, (lines, bom, at) => {
        const text = (bom ? '\ufeff' : '') + lines.join('\n')
        assert.deepEqual(scan(ndjsonScanner(), cut(text, at)), ndjsonOracle(text))
      }),
      { seed: SEED, numRuns: 2000 },
    )
  })

  test('a line nested too deep is its own 400; the next line is read normally', () => {
    const deep = '['.repeat(500_000) + ']'.repeat(500_000)
    assert.deepEqual(scan(ndjsonScanner(), [`{"a":1}\n${deep}\n`, '{"b":2}']), [
      { ok: true, value: { a: 1 } },
      { ok: false, message: `line 2 is nested more than ${MAX_JSON_DEPTH} levels deep` },
      { ok: true, value: { b: 2 } },
    ])
  })

  test('the line past the operation cap is refused when it ends', () => {
    const scanner = ndjsonScanner({ maxOps: 2 })
    assert.equal(scanner.push('{}\n\n{}\n{').length, 2)
    assert.throws(() => scanner.push('}\n'), { code: 'payload_too_large' })
  })
})
