/**
 * Import of an NDJSON export (export-records.ts) into a store, through the bulk write program
 * (store/write/import-program.ts, as the Nova database importer drives it): chunks of lines, each
 * chunk checked whole before it is written, then written in one store call (its instances and its
 * actions), so that a malformed line stops the import with nothing of its chunk applied; earlier
 * chunks stay, and a rerun merges them again without adding anything (the program is idempotent).
 * The file is read as a stream, gzip detected by its magic bytes, so memory holds one chunk.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { ImportCounts } from '../domain/write-operation.js'
import type { ActionStore, ImportedAction, ImportedInstance } from '../store/action-store.js'
import { headerProblem, parseExportLine } from './export-record-schema.js'

/** Lines per chunk (one transaction each), as the Nova database importer's default batch. */
export const DEFAULT_IMPORT_CHUNK = 1000

/** What an import of an export did, and where it stopped if a line was refused. */
export interface ExportImportResult {
  actions: ImportCounts
  /** The first refused line (1-based) and why; absent when the whole file was imported. */
  failure?: { line: number; reason: string }
}

/** The text of an export file, gunzipped when it starts with gzip's magic bytes (1f 8b). */
export async function openExportFile(path: string): Promise<Readable> {
  const handle = await open(path, 'r')
  const magic = Buffer.alloc(2)
  try {
    await handle.read(magic, 0, 2, 0)
  } finally {
    await handle.close()
  }
  const raw = createReadStream(path)
  return magic[0] === 0x1f && magic[1] === 0x8b ? raw.pipe(createGunzip()) : raw
}

/** Imports the lines of an export (header first) into `store`. */
export async function importExport(
  store: Pick<ActionStore, 'write'>,
  input: Readable,
  chunkSize = DEFAULT_IMPORT_CHUNK,
): Promise<ExportImportResult> {
  const actions: ImportCounts = { created: 0, existing: 0, skipped: 0 }
  let instances = new Map<string, ImportedInstance>()
  let chunk: ImportedAction[] = []
  const flush = async () => {
    if (chunk.length === 0) return
    const [, outcome] = await store.write([
      { op: 'import_instances', instances: [...instances.values()] },
      { op: 'import_actions', actions: chunk },
    ])
    if (!outcome?.ok) throw outcome?.error ?? new Error('import_actions gave no outcome')
    if (outcome.record.kind === 'import') {
      actions.created += outcome.record.counts.created
      actions.existing += outcome.record.counts.existing
      actions.skipped += outcome.record.counts.skipped
    }
    chunk = []
    instances = new Map()
  }
  let line = 0
  let records = 0
  let ended = false
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++
    if (ended && text !== '')
      return { actions, failure: { line, reason: 'a line after the end line' } }
    if (line === 1) {
      const problem = headerProblem(text)
      if (problem !== undefined) return { actions, failure: { line, reason: problem } }
      continue
    }
    if (text === '') continue
    const parsed = parseExportLine(text)
    if (!parsed.ok) return { actions, failure: { line, reason: parsed.reason } }
    if (parsed.proof) continue
    if (parsed.end) {
      if (parsed.end.actions !== records) {
        const reason = `the end line counts ${parsed.end.actions} records, the file has ${records}`
        return { actions, failure: { line, reason } }
      }
      ended = true
      await flush()
      continue
    }
    records++
    instances.set(parsed.instance.uuid, parsed.instance)
    chunk.push(parsed.action)
    if (chunk.length >= chunkSize) await flush()
  }
  if (line === 0) return { actions, failure: { line: 1, reason: 'empty file, no header' } }
  await flush()
  // What was read is imported (each record is whole), but the caller learns the file is partial.
  if (!ended)
    return { actions, failure: { line: line + 1, reason: 'no end line: the export is incomplete' } }
  return { actions }
}
