/** The `actiontrail` command tree. */
import { Command } from 'commander'
import { demoCommand } from './commands/demo.js'
import { migrateCommand } from './commands/migrate.js'
import { policyCommand } from './commands/policy.js'
import { serveCommand } from './commands/serve.js'
import { tokenCommand } from './commands/token.js'

/** Builds the command tree; exported so tests can run it in-process. */
export function buildProgram(): Command {
  const program = new Command()
    .name('actiontrail')
    .description('ActionTrail: the audit trail of actions on compute instances')
    .version('0.1.0')
    .showHelpAfterError()
  serveCommand(program)
  migrateCommand(program)
  demoCommand(program)
  policyCommand(program)
  tokenCommand(program)
  return program
}
