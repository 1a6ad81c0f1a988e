/**
 * The Nova importer's checkpoint: the last server whose history was committed, per pass (live
 * servers, then deleted ones), so an interrupted import resumes after it. Written atomically
 * (temporary file, then rename) after each server's transaction commits: a crash leaves either
 * the old or the new checkpoint, and the servers after it are imported again idempotently.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'

/** Where an import stands. */
export interface ImportCheckpoint {
  /** The Nova endpoint it belongs to: a checkpoint of another Nova is refused. */
  url: string
  /** The pass in progress. */
  pass: 'live' | 'deleted'
  /** The last server of that pass done (Nova's list marker); null: none yet. */
  marker: string | null
  /** Servers done so far, over both passes. */
  servers: number
  /** True once both passes finished. */
  complete: boolean
}

/** Reads a checkpoint file; undefined when there is none. Throws on a damaged file. */
export function readCheckpoint(path: string): ImportCheckpoint | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const value = JSON.parse(text) as Partial<ImportCheckpoint>
  if (
    typeof value.url !== 'string' ||
    (value.pass !== 'live' && value.pass !== 'deleted') ||
    (value.marker !== null && typeof value.marker !== 'string') ||
    typeof value.servers !== 'number' ||
    typeof value.complete !== 'boolean'
  )
    throw new Error('not a checkpoint of actiontrail import')
  return value as ImportCheckpoint
}

/** Writes the checkpoint atomically. */
export function writeCheckpoint(path: string, checkpoint: ImportCheckpoint): void {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, `${JSON.stringify(checkpoint)}\n`)
  renameSync(tmp, path)
}
