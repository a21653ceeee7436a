/** Plain-text tables and the cell formats the CLI's tables share. Pure, so unit-tested. */

/** One column of a {@link formatTable} table. */
export interface Column {
  header: string
  /** Numbers read best right-aligned. Default left. */
  align?: 'left' | 'right'
  /** The column may be cut (with an ellipsis) when the table is wider than `maxWidth`. */
  shrink?: boolean
}

const GAP = '  '
const ELLIPSIS = '…'
/** A shrinkable column is never cut below this (or its header, if longer). */
const MIN_SHRUNK = 8

/**
 * Lays rows out under their headers, columns separated by two spaces, each line ending in `\n`.
 * With `maxWidth`, shrinkable columns are cut, widest first, until the table fits (or they cannot
 * shrink further: a table too wide for the terminal wraps rather than loses every column).
 */
export function formatTable(columns: Column[], rows: string[][], opts: { maxWidth?: number } = {}): string {
  const widths = columns.map((col, i) => Math.max(col.header.length, ...rows.map((r) => (r[i] ?? '').length)))
  if (opts.maxWidth !== undefined) shrink(columns, widths, opts.maxWidth)
  const line = (cells: string[]) =>
    columns
      .map((col, i) => {
        const width = widths[i] ?? 0
        const cell = cut(cells[i] ?? '', width)
        return col.align === 'right' ? cell.padStart(width) : cell.padEnd(width)
      })
      .join(GAP)
      .trimEnd() + '\n'
  return line(columns.map((c) => c.header)) + rows.map(line).join('')
}

function shrink(columns: Column[], widths: number[], maxWidth: number): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * Math.max(0, widths.length - 1)
  const floor = (i: number) => Math.max(MIN_SHRUNK, columns[i]?.header.length ?? 0)
  while (total() > maxWidth) {
    let widest = -1
    for (let i = 0; i < columns.length; i++) {
      if (!columns[i]?.shrink || (widths[i] ?? 0) <= floor(i)) continue
      if (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0)) widest = i
    }
    if (widest < 0) return
    // One character at a time from the widest, so long columns end up sharing the cut.
    widths[widest] = (widths[widest] ?? 0) - 1
  }
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : text.slice(0, Math.max(0, width - 1)) + ELLIPSIS
}

/**
 * A metric or setting for a table cell: four significant digits, exponent notation for the very small
 * or very large, `-` for a missing value.
 */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-'
  if (value === 0) return '0'
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf'
  const abs = Math.abs(value)
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(2)
  return String(Number(value.toPrecision(4)))
}

/** An ISO timestamp as `YYYY-MM-DD HH:MM` in UTC; what is not a date is shown as given. */
export function formatDate(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date.toISOString().slice(0, 16).replace('T', ' ')
}

/** A JSON setting (a parameter value) for a cell: numbers as {@link formatNumber}, lists compact. */
export function formatSetting(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value)
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return '-'
  return JSON.stringify(value)
}
