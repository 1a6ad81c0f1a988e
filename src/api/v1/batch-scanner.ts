/**
 * Incremental scanners for the two batch body forms, fed the body text piece by piece as it
 * arrives. They track only what is needed to find where one operation ends — string and escape
 * state, nesting depth — and hand each operation's text to JSON.parse on its own, so that:
 * - operations are counted while the body is received, and the (MAX_BATCH_OPS + 1)-th stops it
 *   at once: a 64 MiB array of `{}` (22 million operations) is refused after 300 KB, where
 *   parsing it whole took 49 s of event loop and 2.5 GB of memory (issue 9);
 * - nothing is ever materialised beyond the operations kept;
 * - nesting deeper than MAX_JSON_DEPTH is refused before anything deep is built.
 * JSON.parse still decides what is valid JSON; the scanners only find the boundaries.
 */
import { AppError } from '../../domain/errors.js'

/** Most operations one batch may carry. */
export const MAX_BATCH_OPS = 100_000

/**
 * Deepest nesting accepted, counting a JSON array batch's own brackets: an operation is a flat
 * object (depth 2 inside the array), so 16 leaves room for any field added later while keeping
 * hostile nesting (`[[[[…`) from reaching a recursive consumer.
 */
export const MAX_JSON_DEPTH = 16

/** A batch item before validation: a parsed JSON value, or why it is not one. */
export type BatchItem = { ok: true; value: unknown } | { ok: false; message: string }

/** Feeds body text to a scanner; each call returns the operations it completed, in order. */
export interface BatchScanner {
  /** The next piece of the body (any split, even inside a string or an escape). */
  push(text: string): BatchItem[]
  /** The body is complete: returns the last operations, or throws if the body is cut short. */
  end(): BatchItem[]
}

/** Limits of a scanner (the defaults are the API's). */
export interface ScanLimits {
  maxOps?: number
  maxDepth?: number
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const NEWLINE = 0x0a
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const BOM = 0xfeff

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

function tooMany(maxOps: number): AppError {
  return new AppError(
    'payload_too_large',
    `The batch has more than ${maxOps} operations; at most ${maxOps} are allowed`,
  )
}

function tooDeep(maxDepth: number): string {
  return `nested more than ${maxDepth} levels deep`
}

const NOT_AN_ARRAY = 'body must be a JSON array of operations'

/**
 * Collects the text of the value being scanned across pushes: the pieces of earlier pushes, then
 * the current one from `start`.
 */
class Pieces {
  #parts: string[] = []

  keep(text: string, start: number): void {
    if (start < text.length) this.#parts.push(text.slice(start))
  }

  take(text: string, start: number, end: number): string {
    const tail = text.slice(start, end)
    if (this.#parts.length === 0) return tail
    this.#parts.push(tail)
    const whole = this.#parts.join('')
    this.#parts = []
    return whole
  }

  clear(): void {
    this.#parts = []
  }
}

/**
 * A scanner for an `application/json` batch: the body must be one JSON array; each top-level
 * element is an operation. Anything else (not an array, invalid JSON, too deep) is a
 * `invalid_input` for the whole body, as it was when the body was parsed whole.
 */
export function jsonArrayScanner(limits: ScanLimits = {}): BatchScanner {
  const maxOps = limits.maxOps ?? MAX_BATCH_OPS
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH
  let phase: 'before' | 'inside' | 'after' = 'before'
  let depth = 0
  let inString = false
  let escaped = false
  // The element being read (depth ≥ 2, or a scalar at depth 1), and whether a comma awaits one.
  let inElement = false
  let needElement = false
  let count = 0
  let first = true
  const pieces = new Pieces()

  function invalid(detail: string): AppError {
    return new AppError('invalid_input', `body is not valid JSON: ${detail}`)
  }

  function finish(text: string, start: number, end: number, out: BatchItem[]): void {
    const element = pieces.take(text, start, end)
    count++
    if (count > maxOps) throw tooMany(maxOps)
    let value: unknown
    try {
      value = JSON.parse(element)
    } catch {
      throw invalid(`operation ${count} is malformed`)
    }
    out.push({ ok: true, value })
    inElement = false
  }

  return {
    push(text) {
      const out: BatchItem[] = []
      let start = 0
      let i = 0
      if (first && text.length > 0) {
        first = false
        if (text.charCodeAt(0) === BOM) i = 1
      }
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (inString) {
          if (escaped) escaped = false
          else if (c === BACKSLASH) escaped = true
          else if (c === QUOTE) inString = false
          continue
        }
        if (phase === 'inside') {
          if (depth === 1 && !inElement) {
            if (isJsonSpace(c)) continue
            if (c === COMMA) {
              if (needElement || count === 0) throw invalid('misplaced comma')
              needElement = true
              continue
            }
            if (c === CLOSE_ARRAY) {
              if (needElement) throw invalid('trailing comma')
              depth = 0
              phase = 'after'
              continue
            }
            if (count > 0 && !needElement) throw invalid(`missing comma after operation ${count}`)
            inElement = true
            needElement = false
            start = i
          }
          if (c === QUOTE) inString = true
          else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
            if (++depth > maxDepth)
              throw new AppError('invalid_input', `body is ${tooDeep(maxDepth)}`)
          } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
            depth--
            if (depth === 0) {
              // `]` right after a scalar element closes the array itself; `}` closes nothing.
              if (c === CLOSE_OBJECT) throw invalid('misplaced }')
              finish(text, start, i, out)
              phase = 'after'
            } else if (depth === 1) {
              finish(text, start, i + 1, out)
            }
          } else if (depth === 1 && (c === COMMA || isJsonSpace(c))) {
            // The end of a scalar element (a number, true, false, null, or a string already
            // closed): the comma is read again as a separator.
            finish(text, start, i, out)
            i--
          }
          continue
        }
        if (isJsonSpace(c)) continue
        if (phase === 'after') throw invalid('text after the array')
        if (c !== OPEN_ARRAY) throw new AppError('invalid_input', NOT_AN_ARRAY)
        phase = 'inside'
        depth = 1
      }
      if (inElement) pieces.keep(text, start)
      return out
    },
    end() {
      if (phase === 'before') throw new AppError('invalid_input', NOT_AN_ARRAY)
      if (phase !== 'after') throw invalid('the array is not closed')
      pieces.clear()
      return []
    },
  }
}

/**
 * A scanner for an `application/x-ndjson` batch: one operation per line (a leading BOM and blank
 * lines ignored). A line that is not JSON, or is nested too deep, is an item of its own carrying
 * the error, so that it is answered at its index; JSON.parse is enough because every operation
 * is then checked against a closed schema, which rejects `__proto__` and any other unknown key.
 */
export function ndjsonScanner(limits: ScanLimits = {}): BatchScanner {
  const maxOps = limits.maxOps ?? MAX_BATCH_OPS
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH
  let line = 1
  let first = true
  // Per line: string state and depth, to refuse deep nesting before JSON.parse builds it.
  let inString = false
  let escaped = false
  let depth = 0
  let deep = false
  let count = 0
  const pieces = new Pieces()

  function finishLine(text: string, start: number, end: number, out: BatchItem[]): void {
    const raw = pieces.take(text, start, end)
    const number = line++
    const wasDeep = deep
    inString = false
    escaped = false
    depth = 0
    deep = false
    if (raw.trim() === '') return
    if (++count > maxOps) throw tooMany(maxOps)
    if (wasDeep) {
      out.push({ ok: false, message: `line ${number} is ${tooDeep(maxDepth)}` })
      return
    }
    try {
      out.push({ ok: true, value: JSON.parse(raw) as unknown })
    } catch {
      out.push({ ok: false, message: `line ${number} is not valid JSON` })
    }
  }

  return {
    push(text) {
      const out: BatchItem[] = []
      let start = 0
      if (first && text.length > 0) {
        first = false
        if (text.charCodeAt(0) === BOM) start = 1
      }
      for (let i = start; i < text.length; i++) {
        const c = text.charCodeAt(i)
        if (c === NEWLINE) {
          finishLine(text, start, i, out)
          start = i + 1
        } else if (deep) {
          continue
        } else if (inString) {
          if (escaped) escaped = false
          else if (c === BACKSLASH) escaped = true
          else if (c === QUOTE) inString = false
        } else if (c === QUOTE) {
          inString = true
        } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
          if (++depth > maxDepth) deep = true
        } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
          depth--
        }
      }
      // A line too deep is not kept: only its number and verdict matter.
      if (deep) pieces.clear()
      else pieces.keep(text, start)
      return out
    },
    end() {
      const out: BatchItem[] = []
      finishLine('', 0, 0, out)
      return out
    },
  }
}
