/**
 * Runs the `actiontrail` command (bin/actiontrail.js) as a user runs it, in a child process, with
 * a controlled environment: the variables that change its output (ACTIONTRAIL_URL/TOKEN,
 * NO_COLOR, FORCE_COLOR, COLUMNS, and an openrc file's OS_* credentials, which `import` reads) are
 * removed from the inherited environment unless the test sets them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './spawn-server.js'

/** What a finished CLI run left. */
export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

const CONTROLLED = [
  'ACTIONTRAIL_URL',
  'ACTIONTRAIL_TOKEN',
  'ACTIONTRAIL_NOVA_TOKEN',
  'NO_COLOR',
  'FORCE_COLOR',
  'COLUMNS',
  ...Object.keys(process.env).filter((name) => name.startsWith('OS_')),
]

/** The environment of a CLI run: the test's own, minus CONTROLLED, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env }
  for (const name of CONTROLLED) delete base[name]
  return { ...base, ...env }
}

/** Starts the CLI without waiting for it (for `actions tail`). */
export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin', 'actiontrail.js'), ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Runs the CLI to its end. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = startCli(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`actiontrail ${args.join(' ')} did not finish:\n${stderr}`))
    }, 60_000)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Parses CSV as RFC 4180 writes it (quoted fields with doubled quotes, CRLF or LF lines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i += 1
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}
