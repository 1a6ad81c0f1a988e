/** `npm run docs:settings`: writes docs/settings.md from the settings schema. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderSettingsDoc } from '../src/settings/settings-doc.js'

const target = join(fileURLToPath(new URL('..', import.meta.url)), 'docs', 'settings.md')
writeFileSync(target, renderSettingsDoc())
console.log(`wrote ${target}`)
