/** `actiontrail demo`: load the demo history (idempotent). */
import type { Command } from 'commander'
import { DATABASE_OPTION_HELP, resolveDatabase } from '../../config.js'
import { createActionService } from '../../local-service.js'
import { openStore } from '../../store/open-store.js'
import { loadDemo } from '../demo-data.js'

/** Registers the demo command. */
export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('load a realistic demo history into the database (running it twice adds nothing)')
    .option('--db <path>', DATABASE_OPTION_HELP)
    .action(async (opts: { db?: string }) => {
      const store = await openStore(resolveDatabase(opts.db))
      try {
        const result = await loadDemo(createActionService(store))
        console.log(
          `demo history: ${result.instances} instances, ${result.actionsAdded} actions added`,
        )
      } finally {
        await store.close()
      }
    })
}
