/**
 * `actiontrail token hash`: prints the `sha256:<hex>` form of a token read from stdin, to store in
 * a token file instead of the token itself. The token is read from stdin, not from an argument,
 * so it stays out of the shell history and the process list.
 */
import type { Command } from 'commander'
import { tokenDigest } from '../../auth/token-file.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Registers the token command. */
export function tokenCommand(program: Command): void {
  const token = program.command('token').description('token file tools')
  token
    .command('hash')
    .description('print sha256:<hex> of the token on stdin (one line; a final newline is ignored)')
    .action(async () => {
      const text = (await readStdin()).replace(/\r?\n$/, '')
      if (text.length === 0 || /[\r\n]/.test(text)) {
        console.error('actiontrail token hash: expected exactly one token on stdin')
        process.exitCode = 2
        return
      }
      console.log(`sha256:${tokenDigest(text)}`)
    })
}
