/**
 * Reads a `/v1` list (`{"<items>": [...], "next_cursor": …}`) page by page, following
 * `next_cursor`, until `limit` rows were read (default 50, the API's page size) or, with
 * `--all`, to the last page. Pages ask for at most what is still missing (1000 at most, the
 * API's maximum), so `--limit 5` reads five rows in one small request.
 */
import type { Command } from 'commander'
import { Option } from 'commander'
import { CliError, EXIT, usageError } from '../cli-error.js'
import type { ApiReader } from './api-reader.js'

/** The API's largest page. */
const MAX_PAGE = 1000

/** How many rows to read. */
export interface RowLimit {
  /** Rows in total; undefined = every row (`--all`). */
  limit: number | undefined
}

/** Adds `--limit` and `--all` to a command. */
export function withPaging(command: Command): Command {
  return command
    .addOption(new Option('--limit <n>', 'rows to show in total (default 50)'))
    .addOption(new Option('--all', 'every matching row (follows every page)').conflicts('limit'))
}

/** Reads `--limit` / `--all`. */
export function rowLimit(opts: { limit?: string; all?: boolean }): RowLimit {
  if (opts.all) return { limit: undefined }
  if (opts.limit === undefined) return { limit: 50 }
  if (!/^[1-9]\d{0,8}$/.test(opts.limit))
    throw usageError(`--limit must be a positive whole number, not ${JSON.stringify(opts.limit)}`)
  return { limit: Number(opts.limit) }
}

/** Reads rows of `path` with `params` (not modified) up to the limit, following the cursors. */
export async function readRows(
  reader: ApiReader,
  path: string,
  params: URLSearchParams,
  itemsKey: string,
  { limit }: RowLimit,
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = []
  let cursor: string | null = null
  do {
    const query = new URLSearchParams(params)
    const missing = limit === undefined ? MAX_PAGE : limit - rows.length
    query.set('limit', String(Math.min(missing, MAX_PAGE)))
    if (cursor !== null) query.set('cursor', cursor)
    const page = (await reader.get(`${path}?${query.toString()}`)) as Record<string, unknown>
    const items = page[itemsKey]
    if (!Array.isArray(items))
      throw new CliError(`unexpected answer from ${path}: no ${itemsKey}`, EXIT.api)
    rows.push(...(items as Record<string, unknown>[]))
    cursor = typeof page.next_cursor === 'string' ? page.next_cursor : null
  } while (cursor !== null && (limit === undefined || rows.length < limit))
  return limit === undefined ? rows : rows.slice(0, limit)
}
