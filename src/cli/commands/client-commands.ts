/**
 * The commands that talk to a running server: `actions list|show|query|stuck|tail`,
 * `events query`, `instances list`.
 */
import type { Command } from 'commander'
import { actionsListCommand } from './actions-list.js'
import { actionsQueryCommand } from './actions-query.js'
import { actionsShowCommand } from './actions-show.js'
import { actionsStuckCommand } from './actions-stuck.js'
import { actionsTailCommand } from './actions-tail.js'
import { eventsQueryCommand } from './events-query.js'
import { instancesListCommand } from './instances-list.js'

/** Registers the client command groups on the program. */
export function clientCommands(program: Command): void {
  const actions = program
    .command('actions')
    .description('actions of a running server: list, show, query, stuck, tail')
  actionsListCommand(actions)
  actionsShowCommand(actions)
  actionsQueryCommand(actions)
  actionsStuckCommand(actions)
  actionsTailCommand(actions)
  eventsQueryCommand(program.command('events').description('events of a running server: query'))
  instancesListCommand(
    program.command('instances').description('instances of a running server: list'),
  )
}
