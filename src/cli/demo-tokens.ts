/**
 * Demo tokens for `npm start`: random secrets written once to a token file next to the demo
 * database (mode 0600), never fixed strings that could leak into a real deployment.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseTokenEntries, type TokenEntry } from '../auth/token-file.js'
import { DEMO_PROJECTS, DEMO_USERS } from './demo-data.js'

function token(): string {
  // Hex, never base64url: a token starting with '-' would be read as an option by command-line
  // clients such as `openstack --os-token`.
  return randomBytes(24).toString('hex')
}

/** Reads the demo token file, creating it with fresh tokens when it does not exist. */
export async function ensureDemoTokens(path: string): Promise<TokenEntry[]> {
  if (existsSync(path)) return parseTokenEntries(JSON.parse(await readFile(path, 'utf8')))
  const entries: TokenEntry[] = [
    { token: token(), user_id: DEMO_USERS.admin, project_id: DEMO_PROJECTS.ops, roles: ['admin'] },
    {
      token: token(),
      user_id: DEMO_USERS.alice,
      project_id: DEMO_PROJECTS.demo,
      roles: ['member'],
    },
    { token: token(), user_id: DEMO_USERS.bob, project_id: DEMO_PROJECTS.demo, roles: ['reader'] },
    {
      token: token(),
      user_id: DEMO_USERS.bob,
      project_id: DEMO_PROJECTS.research,
      roles: ['member'],
    },
    { token: token(), user_id: DEMO_USERS.nova, project_id: DEMO_PROJECTS.ops, roles: ['service'] },
  ]
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${JSON.stringify({ tokens: entries }, null, 2)}\n`, { mode: 0o600 })
  return entries
}
