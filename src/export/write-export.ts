/**
 * Writes an export to a stream (a file, stdout, an HTTP response), optionally gzipped. A stream
 * pipeline pulls the chunks: a chunk is produced only when the destination has taken the previous
 * ones (it waits for 'drain'), so memory stays flat whatever the export's size.
 */
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { exportLines, pageCount, type ExportFormat } from './export-lines.js'
import { exportHeader, exportJsonPages, exportPages, type ExportSource } from './export-records.js'
import type { CommonSearch } from '../api/v1/search-params.js'

/** What to export and how. */
export interface ExportOptions {
  source: ExportSource
  search: Omit<CommonSearch, 'limit'>
  /** The filters as query parameters, recorded in the NDJSON header. */
  filters: URLSearchParams
  format: ExportFormat
  gzip?: boolean
  now?: Date
  pageSize?: number
  /**
   * NDJSON only: make the export verifiable offline (export-proof.ts): the chain's head position
   * when the export began, and the proof's lines, produced once every record was read.
   */
  proof?: { headAtStart: number; lines: () => AsyncIterable<string> }
}

/** Counts of a finished export. */
export interface ExportSummary {
  actions: number
}

/** Writes the export to `dest` and resolves when it has taken everything (and is finished). */
export async function writeExport(options: ExportOptions, dest: Writable): Promise<ExportSummary> {
  const summary: ExportSummary = { actions: 0 }
  const { proof } = options
  // NDJSON from the records' JSON text (faster where the store builds the events' JSON); CSV
  // needs the records' fields.
  const paging = options.format === 'ndjson' ? exportJsonPages : exportPages
  const pages = paging(options.source, options.search, options.pageSize, {
    withIds: proof !== undefined,
  })
  async function* counted() {
    for await (const page of pages) {
      summary.actions += pageCount(page)
      yield page
    }
  }
  const header = exportHeader(options.filters, options.now ?? new Date())
  if (proof) header.proof = { head_at_start: proof.headAtStart }
  const text = Readable.from(
    exportLines(header, counted(), options.format, proof ? { trailer: proof.lines } : {}),
  )
  if (options.gzip) await pipeline(text, createGzip(), dest)
  else await pipeline(text, dest)
  return summary
}
