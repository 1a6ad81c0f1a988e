/** Entry point of the `actiontrail` command. */
import { CommanderError } from 'commander'
import { isAppError } from '../domain/errors.js'
import { CliError } from './cli-error.js'
import { buildProgram } from './program.js'
import { withFileOrigin } from './settings-file-hook.js'

try {
  await buildProgram().parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode)
  if (err instanceof CliError) {
    console.error(`actiontrail: ${err.message}`)
    process.exit(err.exitCode)
  }
  // Known failures print their safe message; anything else prints only its class.
  const reason = isAppError(err)
    ? err.message
    : err instanceof Error
      ? `${err.constructor.name}: ${err.message}`
      : 'failed'
  console.error(`actiontrail: ${withFileOrigin(reason)}`)
  process.exit(isAppError(err) && err.code === 'invalid_input' ? 2 : 1)
}
