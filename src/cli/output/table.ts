/**
 * Renders rows as a text table that fits a width: when the natural table is too wide, the
 * lowest-priority columns are dropped (never those of priority 1) until the rest fit with their
 * long cells cut, then the widest cuttable columns are cut down (with `…`) until the table fits.
 * Without a width (stdout not a terminal and no COLUMNS) nothing is dropped or cut, so piping a
 * table into grep or a file keeps every value whole.
 */
import type { Colors } from './colors.js'
import { paintStatus } from './colors.js'
import type { Column, Row } from './record-kinds.js'
import { displayWidth, padEnd, truncate } from './text-width.js'

const GAP = 2

/**
 * Control characters (escape sequences, newlines) from stored data would move the cursor or
 * recolour the terminal: each is shown as `?`.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function fitted(columns: readonly Column[], natural: number[], width: number): number[] {
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0) + GAP * (ws.length - 1)
  const widths = [...natural]
  // Cut the widest cuttable column one step at a time: long ids lose their tails before a short
  // name loses anything.
  while (total(widths) > width) {
    let widest = -1
    for (let i = 0; i < columns.length; i += 1) {
      const min = columns[i]?.minWidth
      if (min === undefined || (widths[i] ?? 0) <= min) continue
      if (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0)) widest = i
    }
    if (widest < 0) break
    widths[widest] = (widths[widest] ?? 0) - 1
  }
  return widths
}

/**
 * The columns to show and their widths, for a table at most `width` wide (undefined: no limit).
 * Columns are taken in priority order (stable): priority 1 always, any other only when it fits
 * at its cut width beside the columns already taken at their full widths; then the widest
 * cuttable columns are cut until the table fits.
 */
export function layout(
  columns: readonly Column[],
  cells: string[][],
  width: number | undefined,
): { columns: Column[]; widths: number[] } {
  const natural = columns.map((c, i) =>
    Math.max(displayWidth(c.header), ...cells.map((r) => displayWidth(r[i] ?? ''))),
  )
  const minimum = (i: number) => {
    const min = columns[i]?.minWidth
    const n = natural[i] ?? 0
    return min === undefined
      ? n
      : Math.min(n, Math.max(min, displayWidth(columns[i]?.header ?? '')))
  }
  let shown = columns.map((_, i) => i)
  if (width !== undefined) {
    const byPriority = [...shown].sort(
      (a, b) => (columns[a]?.priority ?? 1) - (columns[b]?.priority ?? 1) || a - b,
    )
    const taken: number[] = []
    let used = -GAP
    for (const i of byPriority) {
      const essential = (columns[i]?.priority ?? 1) <= 1
      if (essential || used + GAP + minimum(i) <= width) {
        taken.push(i)
        used += GAP + (natural[i] ?? 0)
      }
    }
    shown = taken.sort((a, b) => a - b)
  }
  const chosen = shown.map((i) => columns[i] as Column)
  const naturalShown = shown.map((i) => natural[i] ?? 0)
  const widths = width === undefined ? naturalShown : fitted(chosen, naturalShown, width)
  return { columns: chosen, widths }
}

/** The table of `rows` as lines (no trailing newline), fitted to `width`. */
export function renderTable(
  columns: readonly Column[],
  rows: readonly Row[],
  width: number | undefined,
  colors: Colors,
): string[] {
  const cells = rows.map((row) => columns.map((c) => printable(c.cell(row))))
  const shownIndex = (c: Column) => columns.indexOf(c)
  const { columns: shown, widths } = layout(columns, cells, width)
  const line = (parts: string[]) => parts.join(' '.repeat(GAP)).trimEnd()
  const header = line(
    shown.map((c, i) => padEnd(colors.bold(truncate(c.header, widths[i] ?? 0)), widths[i] ?? 0)),
  )
  const body = cells.map((rowCells) =>
    line(
      shown.map((c, i) => {
        const w = widths[i] ?? 0
        const text = truncate(rowCells[shownIndex(c)] ?? '', w)
        return padEnd(c.status ? paintStatus(colors, text) : text, w)
      }),
    ),
  )
  return [header, ...body]
}
