/**
 * The write path is written once as programs (generators) that yield SQL steps and receive their
 * results. A runner executes the steps: synchronously on better-sqlite3 inside one transaction
 * with a prepared-statement cache, or asynchronously on a pooled driver. The logic of every write
 * therefore exists once, whatever the backend.
 */

/** A row as returned by the driver. */
export type Row = Record<string, unknown>

/** One statement to run. SQL uses `?` placeholders; runners translate for their dialect. */
export type SqlStep =
  | { mode: 'get'; sql: string; params: readonly unknown[] }
  | { mode: 'run'; sql: string; params: readonly unknown[] }

/** What a `run` step reports. */
export interface RunResult {
  changes: number
  /** Id of the inserted row for INSERT statements into tables with an integer key. */
  insertId: number
}

/** Result of a step: a row (or undefined) for `get`, counts for `run`. */
export type StepResult = Row | undefined | RunResult

/** A write program: yields steps, receives their results, returns its outcome. */
export type WriteProgram<T> = Generator<SqlStep, T, StepResult>

/** A `get` step. */
export function get(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'get', sql, params }
}

/** A `run` step. */
export function run(sql: string, ...params: unknown[]): SqlStep {
  return { mode: 'run', sql, params }
}
