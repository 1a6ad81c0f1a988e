/**
 * What every client command (actions …, events query, instances list) starts from: the server
 * connection, an API reader and a printer, built from the command's parsed options.
 */
import { createApiReader, type ApiReader } from './client-io/api-reader.js'
import { resolveConnection, type Connection, type ConnectionFlags } from './client-io/connection.js'
import { stdoutColors } from './output/colors.js'
import { tableWidth, type Format, type Printer } from './output/formats.js'

/** The connection, reader and printer of one client command run. */
export interface ClientContext {
  connection: Connection
  reader: ApiReader
  printer: Printer
}

/** The parsed options of a client command: connection, format, paging, and its filters. */
export type ClientOptions = Record<string, unknown> &
  ConnectionFlags & { format?: string; limit?: string; all?: boolean }

/** Builds the context from a command's options (`--url`, `--token`, `--format`). */
export function clientContext(opts: ClientOptions): ClientContext {
  const connection = resolveConnection(opts)
  return {
    connection,
    reader: createApiReader(connection),
    printer: {
      format: (opts.format ?? 'table') as Format,
      colors: stdoutColors(),
      width: tableWidth(),
      write: (text) => process.stdout.write(text),
    },
  }
}
