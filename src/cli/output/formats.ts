/**
 * The `--format` of the client commands: `table` (default; for people), `json` (one JSON
 * document: an array of the rows, or the one record of `show`), `ndjson` (one JSON object per
 * line) and `csv` (a header line and one line per row, RFC 4180 quoting by csv-stringify; the
 * kind's known fields first, then any other scalar field the rows have; nested arrays such as an
 * action's events are left out). JSON, NDJSON and CSV carry the API's values unchanged.
 */
import { Option, type Command } from 'commander'
import { stringify } from 'csv-stringify/sync'
import type { Colors } from './colors.js'
import type { RecordKind, Row } from './record-kinds.js'
import { renderTable } from './table.js'

/** The output formats. */
export const FORMATS = ['table', 'json', 'ndjson', 'csv'] as const
/** An output format. */
export type Format = (typeof FORMATS)[number]

/** Adds `--format` (with the formats a command supports) to a command. */
export function withFormat(command: Command, formats: readonly Format[] = FORMATS): Command {
  return command.addOption(
    new Option('--format <format>', 'output format').choices(formats).default('table'),
  )
}

/**
 * The width tables must fit: COLUMNS when set to a number (to force one, e.g. in tests or
 * `watch`), else the terminal's width when stdout is a terminal, else none (no cutting).
 */
export function tableWidth(
  env: NodeJS.ProcessEnv = process.env,
  stdout: { isTTY?: boolean; columns?: number } = process.stdout,
): number | undefined {
  const forced = Number(env.COLUMNS)
  if (env.COLUMNS && Number.isInteger(forced) && forced > 0) return forced
  return stdout.isTTY && stdout.columns ? stdout.columns : undefined
}

/** Where and how a command prints. */
export interface Printer {
  format: Format
  colors: Colors
  width: number | undefined
  write: (text: string) => void
}

function csvFields(kind: RecordKind, rows: readonly Row[]): string[] {
  const fields = [...kind.fields]
  for (const row of rows)
    for (const [key, value] of Object.entries(row))
      if (!fields.includes(key) && (value === null || typeof value !== 'object')) fields.push(key)
  return fields
}

/** Prints rows of one kind in the printer's format. */
export function printRows(printer: Printer, kind: RecordKind, rows: readonly Row[]): void {
  switch (printer.format) {
    case 'json':
      printer.write(`${JSON.stringify(rows, null, 2)}\n`)
      return
    case 'ndjson':
      for (const row of rows) printer.write(`${JSON.stringify(row)}\n`)
      return
    case 'csv': {
      const columns = csvFields(kind, rows)
      const records = rows.map((row) => columns.map((c) => row[c] ?? ''))
      printer.write(stringify(records, { header: true, columns, cast: { boolean: String } }))
      return
    }
    case 'table':
      if (rows.length === 0) {
        printer.write('(no rows)\n')
        return
      }
      printer.write(
        `${renderTable(kind.columns, rows, printer.width, printer.colors).join('\n')}\n`,
      )
  }
}
