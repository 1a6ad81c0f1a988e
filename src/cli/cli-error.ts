/**
 * A failure the `actiontrail` client commands report as one line on stderr, with the exit code
 * that tells scripts what kind of failure it was (README, "The CLI": exit codes).
 */

/** Exit codes of the client commands. */
export const EXIT = {
  /** The server answered with an error (400, 401, 403, 404, 5xx). */
  api: 1,
  /** The command line is wrong: unknown flag, bad value (as `serve`'s bad settings). */
  usage: 2,
  /** No answer: connection refused, unknown host, timeout. */
  unreachable: 3,
} as const

/** A client command's failure: `message` is printed as `actiontrail: <message>`, never a stack. */
export class CliError extends Error {
  /** The process exit code (EXIT). */
  readonly exitCode: number

  constructor(message: string, exitCode: number) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A usage error (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage)
}
