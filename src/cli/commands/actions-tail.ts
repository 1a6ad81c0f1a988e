/**
 * `actiontrail actions tail`: follows the live stream (GET /v1/stream), one line per new or
 * changed action or event; reconnects by itself after a dropped connection, resuming after the
 * last position seen (client-io/stream-follower.ts). Ctrl-C stops it with exit code 0.
 * `--format ndjson` (or `json`) prints each message as one JSON object per line:
 * `{"id": "<position>", "type": "action"|"event", …the message's data}`.
 */
import type { Command } from 'commander'
import { Option } from 'commander'
import { usageError } from '../cli-error.js'
import { clientContext, type ClientOptions } from '../client-context.js'
import { withConnectionOptions } from '../client-io/connection.js'
import { filterParams, withFilters, type FilterName } from '../client-io/query-flags.js'
import { followStream } from '../client-io/stream-follower.js'
import { withFormat } from '../output/formats.js'
import { streamLine } from '../output/stream-line.js'

const STREAM_FILTERS: readonly FilterName[] = [
  'instance',
  'project',
  'owner_project',
  'user',
  'action',
  'request_id',
  'host',
]

/** Registers `actions tail`. */
export function actionsTailCommand(actions: Command): void {
  const command = actions
    .command('tail')
    .description('follow new and changed actions and events live (GET /v1/stream)')
  withFilters(command, STREAM_FILTERS)
  command
    .addOption(new Option('--types <types>', 'action, event or action,event (default both)'))
    .option('--after <position>', 'start after this stream position (0: every retained change)')
  withFormat(withConnectionOptions(command), ['table', 'json', 'ndjson']).action(
    async (opts: ClientOptions & { types?: string; after?: string }) => {
      if (opts.after !== undefined && !/^\d{1,30}$/.test(opts.after))
        throw usageError(
          `--after must be a stream position (digits), not ${JSON.stringify(opts.after)}`,
        )
      const { connection, printer } = clientContext(opts)
      const params = filterParams(opts, STREAM_FILTERS)
      if (opts.types !== undefined) params.set('types', opts.types)
      const stop = new AbortController()
      const onSignal = () => stop.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      try {
        await followStream({
          connection,
          params,
          after: opts.after,
          signal: stop.signal,
          onNotice: (text) => process.stderr.write(`actiontrail: ${text}\n`),
          onMessage: (message) => {
            if (printer.format === 'table')
              printer.write(`${streamLine(message, printer.colors, printer.width)}\n`)
            else
              printer.write(
                `${JSON.stringify({ id: message.id, type: message.type, ...message.data })}\n`,
              )
          },
        })
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    },
  )
}
