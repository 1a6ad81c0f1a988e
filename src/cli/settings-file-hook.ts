/**
 * The `--config FILE` option (or ACTIONTRAIL_CONFIG) of every command: before a command runs, the
 * file's settings fill the process environment where it leaves them unset (settings-file.ts says
 * why the environment), so flags > environment > file > defaults for every command that reads a
 * setting. `config show` reads the file itself, to tell the layers apart.
 */
import type { Command } from 'commander'
import { SETTINGS } from '../settings/setting-definitions.js'
import { applySettingsFile } from '../settings/settings-file.js'

// What the file set in this process, so that a later message naming a variable can say where the
// value came from (an operator with only a file would otherwise look for a variable in vain).
let applied: { file: string; variables: ReadonlySet<string> } | undefined

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
      if (file === undefined) return
      // On stderr, so that a command's output (an export, JSON) stays clean.
      const warn = (message: string) => console.error(`actiontrail: warning: ${message}`)
      applied = { file, variables: applySettingsFile(file, process.env, warn) }
    })
}

/** Records that `file` set these variables (for withFileOrigin), as `config show` reads it itself. */
export function noteFileOrigin(file: string, variables: ReadonlySet<string>): void {
  applied = { file, variables }
}

/**
 * A message naming variables that the configuration file set, with where they were set appended
 * (`ACTIONTRAIL_TLS_CERT is http.tls_cert in FILE`); the message unchanged otherwise.
 */
export function withFileOrigin(message: string): string {
  if (applied === undefined) return message
  const { file, variables } = applied
  const named = SETTINGS.filter(
    (s) => variables.has(s.env) && new RegExp(`\\b${s.env}\\b`).test(message),
  )
  if (named.length === 0) return message
  return `${message} (${named.map((s) => `${s.env} is ${s.key}`).join(', ')} in ${file})`
}
