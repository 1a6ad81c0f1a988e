import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ensureDemoTokens } from './demo-tokens.js'

// A token starting with '-' broke `openstack --os-token <t>` (argparse read it as an option).
test('demo tokens never start with a dash and are created once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'at-demo-tokens-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (let i = 0; i < 40; i++) {
    const entries = await ensureDemoTokens(join(dir, `t${i}.json`))
    for (const e of entries) assert.match(e.token, /^[0-9a-f]{48}$/)
  }
  const first = await ensureDemoTokens(join(dir, 't0.json'))
  assert.deepEqual(await ensureDemoTokens(join(dir, 't0.json')), first)
})
