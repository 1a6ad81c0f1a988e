/**
 * `actiontrail actions show <instance> <request-id>`: one action with its events
 * (GET /v1/actions?instance=…&request_id=…&include=events). Table: the action's fields, then its
 * events; json: the action with `events`; ndjson: the action on one line; csv: the events.
 */
import type { Command } from 'commander'
import { CliError, EXIT } from '../cli-error.js'
import { clientContext } from '../client-context.js'
import { withConnectionOptions } from '../client-io/connection.js'
import { printRows, withFormat } from '../output/formats.js'
import { actionStatus, EVENTS, shortTime, type Row } from '../output/record-kinds.js'
import { paintStatus } from '../output/colors.js'
import { printable } from '../output/table.js'

// The action's own fields, shown above its events rather than in every row.
const ACTION_FIELDS = new Set(['ACTION', 'INSTANCE', 'REQUEST'])

/** Registers `actions show`. */
export function actionsShowCommand(actions: Command): void {
  withFormat(
    withConnectionOptions(
      actions
        .command('show')
        .argument('<instance>', 'instance uuid')
        .argument('<request-id>', "the action's request id")
        .description('one action with its events'),
    ),
  ).action(async (instance: string, requestId: string, opts: { url?: string; format?: string }) => {
    const { reader, printer } = clientContext(opts)
    const params = new URLSearchParams({
      instance,
      request_id: requestId,
      include: 'events',
      limit: '1',
    })
    const page = (await reader.get(`/v1/actions?${params.toString()}`)) as { actions?: Row[] }
    const action = page.actions?.[0]
    if (!action)
      throw new CliError(`no action with that request id on instance ${instance}`, EXIT.api)
    const events = (Array.isArray(action.events) ? (action.events as Row[]) : []).map((e) => ({
      instance_uuid: action.instance_uuid,
      request_id: action.request_id,
      action: action.action,
      ...e,
    }))
    if (printer.format === 'json') printer.write(`${JSON.stringify(action, null, 2)}\n`)
    else if (printer.format === 'ndjson') printer.write(`${JSON.stringify(action)}\n`)
    else if (printer.format === 'csv') printRows(printer, EVENTS, events)
    else {
      const fields: [string, string][] = [
        ['Action', String(action.action)],
        ['Status', paintStatus(printer.colors, actionStatus(action))],
        ['Instance', String(action.instance_uuid)],
        ['Request', String(action.request_id)],
        ['User', String(action.user_id ?? '')],
        ['Project', String(action.project_id ?? '')],
        ['Start', shortTime(action.start_time)],
        ['Finish', shortTime(action.finish_time)],
      ]
      for (const [k, v] of fields)
        printer.write(`${printer.colors.bold(k.padEnd(9))}${printable(v)}\n`)
      printer.write('\n')
      printRows(
        printer,
        { ...EVENTS, columns: EVENTS.columns.filter((c) => !ACTION_FIELDS.has(c.header)) },
        events,
      )
    }
  })
}
