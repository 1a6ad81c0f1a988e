/**
 * `actiontrail config show`: the effective settings — each setting's value and where it came from
 * (flag, environment, configuration file, default) — with secrets masked. It also checks them as
 * `serve` would, and exits 2 (printing nothing on stdout) when they would stop `serve` from
 * starting, so it doubles as a configuration check before a restart.
 */
import { Option, type Command } from 'commander'
import { resolveServeConfig } from '../../config.js'
import { parseDatabaseTarget } from '../../store/open-store.js'
import { SETTINGS } from '../../settings/setting-definitions.js'
import {
  effectiveEnv,
  effectiveSettings,
  type EffectiveSetting,
} from '../../settings/effective-settings.js'
import {
  readSettingsFile,
  exposureWarning,
  type SettingsValues,
} from '../../settings/settings-file.js'
import { printable } from '../output/table.js'
import { configFileOf, noteFileOrigin } from '../settings-file-hook.js'

// The serve flags a setting has, offered here too so that `config show` answers "what would
// `serve` run with, given these flags".
const FLAG_OPTIONS = SETTINGS.filter((s) => s.flag !== undefined).map((setting) => {
  const isBoolean = setting.type.kind === 'boolean'
  const option = new Option(
    isBoolean ? `${setting.flag}` : `${setting.flag} <value>`,
    `as serve's ${setting.flag} (${setting.env})`,
  )
  return { setting, option, isBoolean }
})

function flagValues(opts: Record<string, unknown>): SettingsValues {
  const out: Record<string, string> = {}
  for (const { setting, option, isBoolean } of FLAG_OPTIONS) {
    const value = opts[option.attributeName()]
    if (value === undefined) continue
    out[setting.env] = isBoolean ? '1' : String(value)
  }
  return out
}

function printTable(file: string | undefined, rows: readonly EffectiveSetting[]): void {
  console.log(`configuration file: ${file === undefined ? '(none)' : printable(file)}`)
  const header = { key: 'KEY', value: 'VALUE', source: 'SOURCE', env: 'VARIABLE' }
  const cells = rows.map((r) => ({
    key: r.key,
    value: r.value === null ? '-' : printable(r.value),
    source: r.source,
    env: r.env,
  }))
  const width = (k: keyof typeof header) =>
    Math.max(header[k].length, ...cells.map((c) => c[k].length))
  const [wKey, wValue, wSource] = [width('key'), width('value'), width('source')]
  for (const c of [header, ...cells])
    console.log(
      `${c.key.padEnd(wKey)}  ${c.value.padEnd(wValue)}  ${c.source.padEnd(wSource)}  ${c.env}`,
    )
}

/** Registers `config show`. */
export function configCommand(program: Command): void {
  const config = program
    .command('config')
    .description('the configuration: settings from flags, environment, configuration file')
  const show = config
    .command('show')
    .description(
      'print every setting with its effective value and source (flag, env, file, default); ' +
        'secrets masked; exit 2 when the settings would stop serve',
    )
    .option('--json', 'one JSON document instead of a table')
  for (const { option } of FLAG_OPTIONS) show.addOption(option)
  show.action((opts: Record<string, unknown>, command: Command) => {
    const file = configFileOf(command, process.env)
    const fromFile = file === undefined ? {} : readSettingsFile(file)
    const exposure = file === undefined ? undefined : exposureWarning(file, fromFile)
    if (exposure !== undefined) console.error(`actiontrail: warning: ${exposure}`)
    const layers = { flags: flagValues(opts), env: process.env, file: fromFile }
    const rows = effectiveSettings(layers)
    if (file !== undefined)
      noteFileOrigin(file, new Set(rows.filter((r) => r.source === 'file').map((r) => r.env)))
    // The same checks serve makes at start, on the same effective settings.
    const env = effectiveEnv(layers)
    const checked = resolveServeConfig({}, env)
    parseDatabaseTarget(checked.database, env)
    if (opts.json === true) console.log(JSON.stringify({ file: file ?? null, settings: rows }))
    else printTable(file, rows)
  })
}
