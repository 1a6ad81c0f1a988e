#!/usr/bin/env node
// In a checkout, run the TypeScript sources through tsx (never a stale build); an installed
// package ships only the compiled dist/.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const source = join(root, 'src', 'cli', 'main.ts')
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(source).href)
} else {
  await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href)
}
