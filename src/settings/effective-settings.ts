/**
 * The effective value of every setting and where it came from (flag > environment > file >
 * default), with secrets masked: what `actiontrail config show` prints.
 */
import { SETTINGS, type SecretKind, type SettingDefinition } from './setting-definitions.js'
import type { SettingsValues } from './settings-file.js'

/** Where a setting's effective value came from; `unset` when nothing sets it and it has no default. */
export type SettingSource = 'flag' | 'env' | 'file' | 'default' | 'unset'

/** One setting as `config show` reports it. */
export interface EffectiveSetting {
  key: string
  env: string
  /** The value as the environment would spell it, masked when secret; null when unset. */
  value: string | null
  source: SettingSource
  secret: boolean
}

/** The mask that replaces a secret value (or a URL's password). */
export const MASK = '***'

/** A secret value fit to print: a URL keeps all but its password; anything else is masked whole. */
export function maskValue(value: string, secret: SecretKind | undefined): string {
  if (secret === undefined) return value
  if (secret === 'value') return MASK
  // A database setting may be a plain SQLite path, which holds no password.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return value
  try {
    const url = new URL(value.trim())
    if (url.password) url.password = MASK
    return url.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

/** What is set where: `flags` by environment variable (the flags given), `env`, the file's. */
export interface SettingLayers {
  flags: SettingsValues
  env: NodeJS.ProcessEnv
  file: SettingsValues
}

function pick(
  setting: SettingDefinition,
  layers: SettingLayers,
): { raw: string | undefined; source: SettingSource } {
  const flag = layers.flags[setting.env]
  if (flag !== undefined) return { raw: flag, source: 'flag' }
  const env = layers.env[setting.env]
  if (env !== undefined && env !== '') return { raw: env, source: 'env' }
  const file = layers.file[setting.env]
  if (file !== undefined) return { raw: file, source: 'file' }
  if (setting.default !== undefined) return { raw: setting.default, source: 'default' }
  return { raw: undefined, source: 'unset' }
}

/** Every setting's effective value and source, in SETTINGS order. */
export function effectiveSettings(layers: SettingLayers): EffectiveSetting[] {
  return SETTINGS.map((setting) => {
    const { raw, source } = pick(setting, layers)
    return {
      key: setting.key,
      env: setting.env,
      value: raw === undefined ? null : maskValue(raw, setting.secret),
      source,
      secret: setting.secret !== undefined,
    }
  })
}

/** The environment the layers amount to: the file under the environment, flags on top. */
export function effectiveEnv(layers: SettingLayers): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...layers.env }
  for (const [variable, value] of Object.entries(layers.file))
    if (env[variable] === undefined || env[variable] === '') env[variable] = value
  return { ...env, ...layers.flags }
}
