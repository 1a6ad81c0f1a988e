/**
 * `actiontrail import --from-export FILE`: ActionTrail's own NDJSON export (gzipped or not) into
 * the store (src/export/import-export.ts). Idempotent: a second run adds nothing. A refused line
 * is reported as `line N: reason` with exit 1; the chunks before it are imported, its own chunk
 * is not, so the same command run on a corrected file goes on where it stopped.
 */
import { resolveDatabase } from '../../config.js'
import { DEFAULT_IMPORT_CHUNK, importExport, openExportFile } from '../../export/import-export.js'
import { openStore } from '../../store/open-store.js'
import { CliError, EXIT, usageError } from '../cli-error.js'

/** The flags the export import reads. */
export interface ExportImportFlags {
  fromExport?: string
  batchSize?: string
  db?: string
}

/** Runs `import --from-export`. */
export async function importFromExportCommand(opts: ExportImportFlags): Promise<void> {
  const file = opts.fromExport as string
  const chunk = opts.batchSize === undefined ? DEFAULT_IMPORT_CHUNK : Number(opts.batchSize)
  if (!Number.isInteger(chunk) || chunk < 1 || chunk > 100_000)
    throw usageError('--batch-size must be an integer from 1 to 100000')
  // The file first: a wrong path fails before the database is created or migrated.
  const input = await openExportFile(file).catch((err: NodeJS.ErrnoException) => {
    throw usageError(`import: cannot read ${file} (${err.code ?? 'error'})`)
  })
  const store = await openStore(resolveDatabase(opts.db))
  try {
    const { actions: a, failure } = await importExport(store, input, chunk)
    console.log(
      `${failure ? 'stopped' : 'imported'}: ${a.created} actions new, ${a.existing} already there, ` +
        `${a.skipped} skipped`,
    )
    if (failure) throw new CliError(`${file}: line ${failure.line}: ${failure.reason}`, EXIT.api)
  } finally {
    input.destroy()
    await store.close()
  }
}
