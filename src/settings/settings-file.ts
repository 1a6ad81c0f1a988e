/**
 * The YAML configuration file: read, validated against the schema generated from SETTINGS, and
 * turned into the environment variables it stands for. Messages name the file and the key, never
 * a value (a value may be a password).
 */
import { readFileSync, statSync } from 'node:fs'
import { Ajv, type ErrorObject } from 'ajv'
import { Type, type TSchema } from 'typebox'
import YAML from 'yaml'
import { AppError } from '../domain/errors.js'
import { maskValue } from './effective-settings.js'
import { SETTINGS, type SettingDefinition, type SettingType } from './setting-definitions.js'

/** A value of the file as its environment variable would spell it, keyed by variable. */
export type SettingsValues = Readonly<Record<string, string>>

function typeSchema(type: SettingType): TSchema {
  switch (type.kind) {
    case 'integer':
      return Type.Integer({ minimum: type.min, maximum: type.max })
    case 'number':
      return Type.Number({ minimum: type.min, maximum: type.max })
    case 'string':
      return Type.String(
        type.pattern === undefined ? { minLength: 1 } : { minLength: 1, pattern: type.pattern },
      )
    case 'boolean':
      return Type.Boolean()
    case 'enum':
      return Type.Union(type.values.map((v) => Type.Literal(v)))
    case 'pairs':
      return Type.Union([
        Type.String({ minLength: 1 }),
        Type.Record(
          Type.String({ pattern: '^[^=,]+$' }),
          Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: type.valuePattern })]),
        ),
      ])
    case 'list':
      return Type.Union([
        Type.Boolean(),
        Type.String({ minLength: 1 }),
        Type.Array(Type.String({ minLength: 1, pattern: '^[^,]+$' })),
      ])
  }
}

function describeType(type: SettingType): string {
  switch (type.kind) {
    case 'integer':
      return `must be an integer from ${type.min} to ${type.max}`
    case 'number':
      return `must be a number from ${type.min} to ${type.max}`
    case 'string':
      return type.hint === undefined ? 'must be non-empty text' : `must be ${type.hint}`
    case 'boolean':
      return 'must be true or false'
    case 'enum':
      return `must be one of ${type.values.join(', ')}`
    case 'pairs':
      return `must be a mapping of ${type.hint}, or text NAME=VALUE,…`
    case 'list':
      return 'must be true, false, or a list of addresses and CIDRs'
  }
}

// The file's shape: one mapping per section, nothing else allowed at either level.
function fileSchema(): TSchema {
  const sections = new Map<string, Record<string, TSchema>>()
  for (const setting of SETTINGS) {
    const [section = '', name = ''] = setting.key.split('.')
    const props = sections.get(section) ?? {}
    props[name] = Type.Optional(typeSchema(setting.type))
    sections.set(section, props)
  }
  const top: Record<string, TSchema> = {}
  for (const [section, props] of sections)
    top[section] = Type.Optional(Type.Object(props, { additionalProperties: false }))
  return Type.Object(top, { additionalProperties: false })
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
const validate = ajv.compile(fileSchema())

/** The sections of the file, in the order SETTINGS lists them. */
export const SECTIONS: readonly string[] = [
  ...new Set(SETTINGS.map((s) => s.key.split('.')[0] ?? '')),
]

// Keys are the operator's own text: shown, but bounded and quoted so a stray paste stays short.
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)
}

function problemOf(error: ErrorObject): string {
  const path = error.instancePath.split('/').slice(1).map(decodeURIComponent)
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty?: unknown }).additionalProperty)
    const key = [...path, extra].join('.')
    const known = path.length === 0 ? SECTIONS : undefined
    const hint = SETTINGS.find((s) => s.key.endsWith(`.${extra}`))
    const suggestion = hint
      ? ` (did you mean ${hint.key}?)`
      : known
        ? ` (the sections are ${known.join(', ')})`
        : ''
    return `unknown setting ${quoteKey(key)}${suggestion}`
  }
  const setting = SETTINGS.find((s) => s.key === path.slice(0, 2).join('.'))
  if (setting) return `${setting.key} ${describeType(setting.type)}`
  if (path.length === 1) return `${quoteKey(path[0] ?? '')} must be a mapping of settings`
  return 'the file must be a mapping of sections (database:, http:, …)'
}

// `key:` with nothing after it leaves a setting unset, as an example file often does.
function withoutNulls(doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (v === null) continue
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? withoutNulls(v) : v
  }
  return out
}

function envText(setting: SettingDefinition, value: unknown): string {
  if (setting.type.kind === 'boolean') return value === true ? '1' : '0'
  if (Array.isArray(value)) return value.join(',')
  if (value !== null && typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',')
  return String(value)
}

/**
 * Parses and validates a configuration file's text; `file` names it in messages. Throws
 * `invalid_input` naming each bad key (never a value).
 */
export function parseSettingsFile(source: string, file: string): SettingsValues {
  const doc = YAML.parseDocument(source, { uniqueKeys: true })
  const syntax = doc.errors[0]
  if (syntax) {
    // The parser's own message quotes the offending line, which may hold a secret.
    const at = syntax.linePos?.[0]
    const where = at ? ` at line ${at.line}, column ${at.col}` : ''
    throw new AppError('invalid_input', `${file}: not valid YAML${where} (${syntax.code})`)
  }
  const data = withoutNulls(doc.toJS() ?? {})
  if (!validate(data)) {
    const problems = [...new Set((validate.errors ?? []).map(problemOf))]
    throw new AppError('invalid_input', `${file}: ${problems.slice(0, 5).join('; ')}`)
  }
  const values: Record<string, string> = {}
  const sections = data as Record<string, Record<string, unknown>>
  for (const setting of SETTINGS) {
    const [section = '', name = ''] = setting.key.split('.')
    const value = sections[section]?.[name]
    if (value !== undefined) values[setting.env] = envText(setting, value)
  }
  return values
}

/** Reads and validates a configuration file (parseSettingsFile); an unreadable file is named. */
export function readSettingsFile(file: string): SettingsValues {
  let source: string
  try {
    source = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new AppError('invalid_input', `cannot read the configuration file ${file} (${code})`)
  }
  return parseSettingsFile(source, file)
}

/**
 * Fills `env` with the file's values for every variable the environment leaves unset or empty,
 * and returns the variables it filled. The file goes into the process environment (rather than an
 * object passed down) because every reader of a setting already falls back to `process.env` —
 * config.ts, the store's pool and lock settings, `log-tag`, `verify`, `policy`, and readers other
 * modules add — so one fill before a command runs reaches all of them, and flags > environment >
 * file > defaults holds without changing any reader.
 */
export function applySettingsFile(
  file: string,
  env: NodeJS.ProcessEnv,
  warn: (message: string) => void = () => {},
): Set<string> {
  const values = readSettingsFile(file)
  const exposure = exposureWarning(file, values)
  if (exposure !== undefined) warn(exposure)
  const filled = new Set<string>()
  for (const [variable, value] of Object.entries(values)) {
    if (env[variable] !== undefined && env[variable] !== '') continue
    env[variable] = value
    filled.add(variable)
  }
  return filled
}

/**
 * A warning naming the secrets (their keys) a configuration file holds when every user of the
 * machine may read it, as for a token file every user can read; undefined otherwise.
 */
export function exposureWarning(file: string, values: SettingsValues): string | undefined {
  const exposed = secretsReadableByAll(file, values)
  if (exposed.length === 0) return undefined
  return `${file} holds secrets (${exposed.join(', ')}) and every user can read it: chmod 0600`
}

function secretsReadableByAll(file: string, values: SettingsValues): string[] {
  let mode: number
  try {
    mode = statSync(file).mode
  } catch {
    return []
  }
  if ((mode & 0o004) === 0) return []
  // A URL setting is a secret only when it carries a password (a SQLite path does not).
  const secret = (s: SettingDefinition, value: string | undefined) =>
    value !== undefined &&
    (s.secret === 'value' || (s.secret === 'url' && maskValue(value, 'url') !== value))
  return SETTINGS.filter((s) => secret(s, values[s.env])).map((s) => s.key)
}
