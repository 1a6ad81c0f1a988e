/**
 * Whether the CLI colours its output, following https://no-color.org: never when NO_COLOR is set
 * to a non-empty value; always when FORCE_COLOR is set to anything but `0`/`false` (how tests and
 * `| less -R` users ask for it); otherwise only when stdout is a terminal. picocolors' own
 * detection also looks at CI variables and argv, so the decision is made here and passed to it.
 */
import pc from 'picocolors'

/** The colour functions the formatters use (identity functions when colours are off). */
export type Colors = ReturnType<typeof pc.createColors>

/** Decides whether to colour, from the environment and whether stdout is a TTY. */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false'
  return isTTY
}

/** The colour functions for this process's stdout. */
export function stdoutColors(): Colors {
  return pc.createColors(colorEnabled(process.env, process.stdout.isTTY === true))
}

/** Colours a status word: errors red, running (and stuck) work yellow, successes green. */
export function paintStatus(colors: Colors, status: string): string {
  if (status === 'error') return colors.red(status)
  if (status === 'running') return colors.yellow(status)
  if (status === 'success') return colors.green(status)
  return status
}
