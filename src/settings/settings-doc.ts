/**
 * docs/settings.md, generated from SETTINGS (`npm run docs:settings`); a test fails when the
 * committed file differs, so the table cannot drift from the schema the file is validated with.
 */
import { ENVIRONMENT_ONLY, SETTINGS, type SettingDefinition } from './setting-definitions.js'
import { SECTIONS } from './settings-file.js'

function values(setting: SettingDefinition): string {
  const t = setting.type
  switch (t.kind) {
    case 'integer':
      return `integer ${t.min.toLocaleString('en')}–${t.max.toLocaleString('en')}`
    case 'number':
      return `number ${t.min.toLocaleString('en')}–${t.max.toLocaleString('en')}`
    case 'string':
      return t.hint ?? 'text'
    case 'boolean':
      return '`true` / `false`'
    case 'enum':
      return t.values.map((v) => `\`${v}\``).join(', ')
    case 'pairs':
      return `mapping ${t.hint}`
    case 'list':
      return '`true`, `false`, or a list'
  }
}

function defaultOf(setting: SettingDefinition): string {
  if (setting.default !== undefined) return `\`${setting.default}\``
  return setting.unsetMeans === undefined ? '—' : `— (${setting.unsetMeans})`
}

function row(setting: SettingDefinition): string {
  const name = setting.key.split('.')[1] ?? setting.key
  const variable = `\`${setting.env}\`${setting.flag === undefined ? '' : `<br>\`${setting.flag}\``}`
  const secret = setting.secret === 'value' ? ' (secret: never printed)' : ''
  const url = setting.secret === 'url' ? " (secret: a URL's password is masked)" : ''
  const cells = [`\`${name}\``, variable, defaultOf(setting), values(setting)]
  return `| ${cells.join(' | ')} | ${setting.description}${secret}${url} |`
}

/** The whole of docs/settings.md. */
export function renderSettingsDoc(): string {
  const out: string[] = [
    '# Settings',
    '',
    '<!-- Generated from src/settings/setting-definitions.ts by `npm run docs:settings`; do not edit. -->',
    '',
    'Every setting can come from a flag of `actiontrail serve` (where it has one), an environment',
    'variable, or the YAML configuration file given by `--config FILE` or `ACTIONTRAIL_CONFIG`.',
    'A flag wins over the environment, the environment over the file, the file over the default;',
    'an environment variable set to the empty string counts as unset. The file has one section per',
    'group below, e.g.',
    '',
    '```yaml',
    'http:',
    '  host: 0.0.0.0',
    '  port: 8774',
    'log:',
    '  level: info',
    '```',
    '',
    'A key left empty (`read_url:`) is unset. An unknown section or key, a value of the wrong type',
    'or out of range, a file that is not YAML or cannot be read stops every command before it runs,',
    'with exit code 2 and a message naming the file and the key (never the value).',
    '`actiontrail config show [--config FILE] [--json]` prints the effective value of each',
    'setting and where it came from (`flag`, `env`, `file`, `default`), secrets masked, and exits',
    '2 when the settings would stop `serve`. Secrets are never printed; paths to files are not',
    'secrets, so a key file is named by its path, and a file holding secrets should be readable by',
    'the service only (`0600`): every command warns, naming the keys, when every user can read',
    'a file that holds a secret.',
    '',
  ]
  for (const section of SECTIONS) {
    out.push(`## \`${section}:\``, '')
    out.push(
      '| Key | Variable / flag | Default | Values | Meaning |',
      '| --- | --- | --- | --- | --- |',
    )
    for (const setting of SETTINGS.filter((s) => s.key.startsWith(`${section}.`)))
      out.push(row(setting))
    out.push('')
  }
  out.push('## Environment only', '')
  out.push('These are not read from the configuration file.', '')
  out.push('| Variable | Meaning |', '| --- | --- |')
  for (const v of ENVIRONMENT_ONLY) out.push(`| \`${v.env}\` | ${v.description} |`)
  out.push(
    '',
    '`import --from-nova-api` also reads the `OS_*` variables of an openrc file (`OS_AUTH_URL`,',
    '`OS_USERNAME`, `OS_PASSWORD`, …); see [nova-integration.md](nova-integration.md).',
    '',
  )
  return out.join('\n')
}
