/**
 * The `--config FILE` option (or ACTIONTRAIL_CONFIG) of every command: before a command runs, the
 * file's settings fill the process environment where it leaves them unset (settings-file.ts says
 * why the environment), so flags > environment > file > defaults for every command that reads a
 * setting. `config show` reads the file itself, to tell the layers apart.
 */
import type { Command } from 'commander'
import { applySettingsFile } from '../settings/settings-file.js'

/** The configuration file a command was given: `--config`, else ACTIONTRAIL_CONFIG. */
export function configFileOf(command: Command, env: NodeJS.ProcessEnv): string | undefined {
  const flag = command.optsWithGlobals<{ config?: string }>().config
  return flag ?? (env.ACTIONTRAIL_CONFIG || undefined)
}

function isConfigShow(command: Command): boolean {
  return command.name() === 'show' && command.parent?.name() === 'config'
}

/** Adds `--config FILE` to the program and applies the file before any command's action. */
export function withSettingsFile(program: Command): Command {
  return program
    .option(
      '--config <file>',
      'YAML configuration file (env ACTIONTRAIL_CONFIG); flags and environment override it',
    )
    .hook('preAction', (_program, command) => {
      if (isConfigShow(command)) return
      const file = configFileOf(command, process.env)
      if (file !== undefined) applySettingsFile(file, process.env)
    })
}
