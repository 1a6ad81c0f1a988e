/** The `actiontrail` command tree. */
import { Command, CommanderError } from 'commander'
import { backupCommand } from './commands/backup.js'
import { chainCommands } from './commands/verify.js'
import { clientCommands } from './commands/client-commands.js'
import { demoCommand } from './commands/demo.js'
import { exportCommand } from './commands/export.js'
import { followNovaCommand } from './commands/follow-nova.js'
import { importCommand } from './commands/import.js'
import { migrateCommand } from './commands/migrate.js'
import { policyCommand } from './commands/policy.js'
import { retentionCommands } from './commands/retention.js'
import { serveCommand } from './commands/serve.js'
import { tokenCommand } from './commands/token.js'
import { logTagCommand } from './commands/log-tag.js'
import { configCommand } from './commands/config.js'
import { withSettingsFile } from './settings-file-hook.js'

/** Builds the command tree; exported so tests can run it in-process. */
export function buildProgram(): Command {
  const program = new Command()
    .name('actiontrail')
    .description('ActionTrail: the audit trail of actions on compute instances')
    .version('0.1.0')
    .showHelpAfterError()
    // Usage errors (unknown flag, bad choice, missing argument) exit 2, as bad settings do; help
    // and --version still exit 0. Set before the commands are added, which inherit it.
    .exitOverride((err) => {
      throw new CommanderError(err.exitCode === 0 ? 0 : 2, err.code, err.message)
    })
    // Each command's help lists --config too.
    .configureHelp({ showGlobalOptions: true })
  withSettingsFile(program)
  serveCommand(program)
  configCommand(program)
  migrateCommand(program)
  demoCommand(program)
  followNovaCommand(program)
  policyCommand(program)
  tokenCommand(program)
  logTagCommand(program)
  importCommand(program)
  chainCommands(program)
  backupCommand(program)
  retentionCommands(program)
  exportCommand(program)
  clientCommands(program)
  return program
}
