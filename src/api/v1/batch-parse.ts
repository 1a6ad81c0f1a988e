/**
 * The two body forms of `POST /v1/batch`: a JSON array (`application/json`) and NDJSON
 * (`application/x-ndjson`, one operation per line). Both become a list of items, one per operation,
 * so that a line that is not JSON is reported at its index instead of failing the whole batch.
 */
import { AppError } from '../../domain/errors.js'

/** Most operations one batch may carry. */
export const MAX_BATCH_OPS = 100_000

/** A batch item before validation: a parsed JSON value, or why it is not one. */
export type BatchItem = { ok: true; value: unknown } | { ok: false; message: string }

/** An NDJSON body as the content-type parser hands it on: split and parsed by the route. */
export class NdjsonBody {
  /** The raw body text. */
  readonly text: string

  constructor(text: string) {
    this.text = text
  }
}

function tooMany(count: number): AppError {
  return new AppError(
    'payload_too_large',
    `The batch has ${count} operations; at most ${MAX_BATCH_OPS} are allowed`,
  )
}

/** The items of an `application/json` batch; the body must be an array. */
export function jsonArrayItems(body: unknown): BatchItem[] {
  if (!Array.isArray(body))
    throw new AppError('invalid_input', 'body must be a JSON array of operations')
  if (body.length > MAX_BATCH_OPS) throw tooMany(body.length)
  return body.map((value: unknown) => ({ ok: true, value }))
}

/**
 * The items of an NDJSON batch: one per non-blank line, in order. A line that does not parse is an
 * item of its own carrying the error; JSON.parse is enough here because every operation is then
 * checked against a closed schema, which rejects `__proto__` and any other unknown key.
 */
export function ndjsonItems(text: string): BatchItem[] {
  const lines = text.split('\n')
  const present: number[] = []
  for (let i = 0; i < lines.length; i++) {
    if ((lines[i] as string).trim() !== '') present.push(i)
  }
  if (present.length > MAX_BATCH_OPS) throw tooMany(present.length)
  return present.map((i): BatchItem => {
    let line = lines[i] as string
    if (i === 0 && line.startsWith('\ufeff')) line = line.slice(1)
    try {
      return { ok: true, value: JSON.parse(line) as unknown }
    } catch {
      return { ok: false, message: `line ${i + 1} is not valid JSON` }
    }
  })
}
