/** docs/settings.md is the table generated from the settings schema, and the docs link to it. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { renderSettingsDoc } from '../../src/settings/settings-doc.js'
import { SETTINGS } from '../../src/settings/setting-definitions.js'
import { parseSettingsFile } from '../../src/settings/settings-file.js'
import { ROOT } from '../helpers/spawn-server.js'

test('docs/settings.md is current (regenerate with npm run docs:settings)', () => {
  const committed = readFileSync(join(ROOT, 'docs', 'settings.md'), 'utf8')
  assert.equal(committed, renderSettingsDoc(), 'run `npm run docs:settings` and commit the result')
})

test('every setting is in the table once, and README and deployment.md link to it', () => {
  const doc = renderSettingsDoc()
  for (const s of SETTINGS)
    assert.equal(doc.split(`\`${s.env}\``).length - 1, 1, `${s.env} appears once`)
  assert.equal(new Set(SETTINGS.map((s) => s.key)).size, SETTINGS.length, 'keys are unique')
  assert.equal(new Set(SETTINGS.map((s) => s.env)).size, SETTINGS.length, 'variables are unique')
  assert.match(readFileSync(join(ROOT, 'README.md'), 'utf8'), /\(docs\/settings\.md\)/)
  assert.match(readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8'), /\(settings\.md\)/)
})

test('the example configuration files in the docs are valid', () => {
  for (const doc of ['README.md', join('docs', 'deployment.md'), join('docs', 'settings.md')]) {
    const text = readFileSync(join(ROOT, doc), 'utf8')
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
    const examples = blocks.filter((b) => /^(database|http|log):/m.test(b))
    assert.ok(examples.length > 0, `${doc} shows a configuration file`)
    for (const example of examples) assert.doesNotThrow(() => parseSettingsFile(example, doc))
  }
})
