/**
 * An export as text: NDJSON (a header line, then one record a line) or CSV (a header row, then one
 * row per event with its action's and instance's columns; an action without events is one row with
 * empty event columns). Produced as an async iterable of chunks that a stream pipeline pulls, so
 * that a slow consumer (a file, a pipe, an HTTP client) slows the reads instead of filling memory.
 */
import { stringify } from 'csv-stringify/sync'
import type { ExportLines as LinesText } from '../store/action-store.js'
import type { ExportEnd, ExportFailure, ExportHeader, ExportRecord } from './export-records.js'

/** The export formats. */
export type ExportFormat = 'ndjson' | 'csv'

/** The CSV columns, in order: instance, action, then event. */
export const CSV_COLUMNS = [
  'instance_uuid',
  'instance_name',
  'instance_project_id',
  'instance_user_id',
  'instance_created_at',
  'instance_deleted_at',
  'action',
  'request_id',
  'user_id',
  'project_id',
  'action_start_time',
  'action_finish_time',
  'message',
  'action_written_by',
  'event',
  'event_start_time',
  'event_finish_time',
  'result',
  'host',
  'traceback',
  'details',
  'event_written_by',
  'event_finished_by',
] as const

/** The CSV rows of one record. */
export function csvRows(r: ExportRecord): (string | null)[][] {
  const i = r.instance
  const a = r.action
  const head = [
    i.uuid,
    i.name,
    i.project_id,
    i.user_id,
    i.created_at,
    i.deleted_at,
    a.action,
    a.request_id,
    a.user_id,
    a.project_id,
    a.start_time,
    a.finish_time,
    a.message,
    a.written_by,
  ]
  if (r.events.length === 0) return [[...head, ...CSV_COLUMNS.slice(head.length).map(() => null)]]
  return r.events.map((e) => [
    ...head,
    e.event,
    e.start_time,
    e.finish_time,
    e.result,
    e.host,
    e.traceback,
    e.details,
    e.written_by,
    e.finished_by,
  ])
}

/**
 * RFC 4180 text of rows (CRLF line ends; fields with a comma, quote or line break quoted, quotes
 * doubled), by csv-stringify; null is an empty field.
 */
export function csvText(rows: readonly (readonly (string | null)[])[]): string {
  // csv-stringify quotes a field holding its record delimiter (CRLF) but not a lone LF or CR,
  // which RFC 4180 parsers (and spreadsheets) read as a row break: quoted_match covers them
  // (test/cli/export.test.ts, "csvText").
  return stringify(rows as (string | null)[][], {
    record_delimiter: 'windows',
    quoted_match: /[\r\n]/,
  })
}

/** How exportLines ends a failed export. */
export interface ExportLinesOptions {
  /**
   * NDJSON only: when reading fails mid-way, end the text with an `actiontrail_export_error` line
   * (and report the error to `onError`) instead of failing the stream — for an HTTP answer whose
   * status is already sent. Without it the error propagates (a file export is then removed).
   */
  onError?: (err: unknown) => void
  /**
   * NDJSON only: lines written after the records and before the end line (an export's proof,
   * export-proof.ts), produced once every record has been read.
   */
  trailer?: () => AsyncIterable<string>
}

/** The message of the failure line: the cause stays in the server's log. */
const FAILURE_MESSAGE = 'The export stopped before its end: the server could not read the history.'

/** A page of an export: its records, or their NDJSON text as exportJsonPages makes it. */
export type ExportPage = readonly ExportRecord[] | LinesText

/** How many records a page holds. */
export function pageCount(page: ExportPage): number {
  return 'data' in page ? page.count : page.length
}

/** A page's records (NDJSON text parsed back, for CSV). */
function pageRecords(page: ExportPage): readonly ExportRecord[] {
  if (!('data' in page)) return page
  const text = typeof page.data === 'string' ? page.data : Buffer.from(page.data).toString('utf8')
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ExportRecord)
}

/**
 * The text chunks of an export, one per page of records: NDJSON (the header line, a line per
 * record, then the end line with the count) or CSV (the column row, then each record's rows).
 */
export async function* exportLines(
  header: ExportHeader,
  pages: AsyncIterable<ExportPage>,
  format: ExportFormat,
  options: ExportLinesOptions = {},
): AsyncGenerator<string | Uint8Array> {
  if (format === 'csv') {
    yield csvText([[...CSV_COLUMNS]])
    for await (const page of pages) yield csvText(pageRecords(page).flatMap(csvRows))
    return
  }
  yield JSON.stringify(header) + '\n'
  let actions = 0
  try {
    for await (const page of pages) {
      actions += pageCount(page)
      if ('data' in page) yield page.data
      else {
        let text = ''
        for (const r of page) text += JSON.stringify(r) + '\n'
        yield text
      }
    }
    if (options.trailer) for await (const text of options.trailer()) yield text
  } catch (err) {
    if (!options.onError) throw err
    options.onError(err)
    const failure: ExportFailure = { actiontrail_export_error: { message: FAILURE_MESSAGE } }
    yield JSON.stringify(failure) + '\n'
    return
  }
  const end: ExportEnd = { actiontrail_export_end: { actions } }
  yield JSON.stringify(end) + '\n'
}
