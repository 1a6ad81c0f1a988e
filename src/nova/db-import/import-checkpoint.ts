/**
 * Where an import stands, per cell: the last instance id and action id whose batch is committed.
 * Kept in a small JSON file written after each committed batch (to a temporary name, then renamed
 * over the old one, so a crash leaves the old or the new file, never half of one). A crash between
 * a commit and the file's write repeats one batch on resume, which the import's idempotence makes
 * harmless.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import { AppError } from '../../domain/errors.js'

/** One cell's position. */
export interface CellPosition {
  instancesAfter: number
  actionsAfter: number
}

/** The checkpoint of an import run. */
export interface ImportCheckpoint {
  get(cell: string): CellPosition
  save(cell: string, position: CellPosition): Promise<void>
}

/** A checkpoint in memory only (no resume): the import still is idempotent. */
export function memoryCheckpoint(): ImportCheckpoint {
  const cells = new Map<string, CellPosition>()
  return {
    get: (cell) => cells.get(cell) ?? { instancesAfter: 0, actionsAfter: 0 },
    save: (cell, position) => {
      cells.set(cell, { ...position })
      return Promise.resolve()
    },
  }
}

/** Opens (or starts) the checkpoint file at `path`. */
export async function fileCheckpoint(path: string): Promise<ImportCheckpoint> {
  let cells: Record<string, CellPosition> = {}
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { cells?: unknown }
    if (typeof parsed.cells !== 'object' || parsed.cells === null) throw new Error('no cells')
    cells = parsed.cells as Record<string, CellPosition>
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AppError('invalid_input', `unreadable checkpoint file ${path}`, { cause: err })
  }
  return {
    get: (cell) => ({
      instancesAfter: Number(cells[cell]?.instancesAfter ?? 0),
      actionsAfter: Number(cells[cell]?.actionsAfter ?? 0),
    }),
    save: async (cell, position) => {
      cells[cell] = { ...position }
      const tmp = `${path}.tmp`
      await writeFile(tmp, JSON.stringify({ version: 1, cells }, null, 1) + '\n')
      await rename(tmp, path)
    },
  }
}
