import { formatNumber } from './table'

/** One line of a {@link renderChart} chart: a value per epoch (null where there is none). */
export interface Series {
  label: string
  values: (number | null)[]
  /** One character drawn for this series; where two series meet, {@link OVERLAP} is drawn. */
  glyph: string
}

export interface ChartOptions {
  /** Total width in characters, labels included. */
  width: number
  /** Rows of plot area (the axis and legend add three more). */
  height: number
}

/** Drawn where two series share a cell. */
export const OVERLAP = '▓'

const MIN_PLOT_WIDTH = 10

/**
 * Renders series as a terminal line chart: a y axis labelled with the top, middle and bottom values,
 * epochs along x (stretched or sampled to the width), consecutive points joined so steep drops read as
 * lines, and a legend with each series' last value. Returns the lines without newlines; always
 * `height + 3` of them, so a caller can redraw in place.
 */
export function renderChart(series: Series[], opts: ChartOptions): string[] {
  const height = Math.max(2, Math.floor(opts.height))
  const n = Math.max(0, ...series.map((s) => s.values.length))
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)))
  let lo = all.length > 0 ? Math.min(...all) : 0
  let hi = all.length > 0 ? Math.max(...all) : 1
  if (hi === lo) {
    // A flat line still needs a scale: centre it.
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1
    lo -= pad
    hi += pad
  }
  const rowValue = (row: number) => hi - (row * (hi - lo)) / (height - 1)
  const labelRows = new Map<number, string>([
    [0, formatNumber(hi)],
    [Math.floor((height - 1) / 2), formatNumber(rowValue(Math.floor((height - 1) / 2)))],
    [height - 1, formatNumber(lo)],
  ])
  const labelWidth = Math.max(...[...labelRows.values()].map((l) => l.length))
  const plotWidth = Math.max(MIN_PLOT_WIDTH, Math.floor(opts.width) - labelWidth - 2)

  const grid: Set<number>[][] = Array.from({ length: height }, () =>
    Array.from({ length: plotWidth }, () => new Set<number>()),
  )
  const rowOf = (v: number) => Math.round(((hi - v) / (hi - lo)) * (height - 1))
  series.forEach((s, si) => {
    let prevRow: number | undefined
    for (let x = 0; x < plotWidth && n > 0; x++) {
      const v = sample(s.values, n === 1 ? 0 : (x * (n - 1)) / (plotWidth - 1))
      if (v === null) {
        prevRow = undefined
        continue
      }
      const row = rowOf(v)
      // Fill the vertical gap from the previous column so the line stays connected.
      const from =
        prevRow === undefined ? row : prevRow < row ? prevRow + 1 : prevRow > row ? prevRow - 1 : row
      for (let r = Math.min(from, row); r <= Math.max(from, row); r++) grid[r]?.[x]?.add(si)
      prevRow = row
      // One epoch is one point, not a line across the chart.
      if (n === 1) break
    }
  })

  const lines = grid.map((cells, row) => {
    const label = labelRows.get(row)
    const axis = label === undefined ? ' '.repeat(labelWidth) + ' │' : label.padStart(labelWidth) + ' ┤'
    const body = cells
      .map((set) => {
        if (set.size === 0) return ' '
        if (set.size > 1) return OVERLAP
        return series[[...set][0]!]?.glyph ?? '?'
      })
      .join('')
    return (axis + body).trimEnd()
  })
  lines.push(' '.repeat(labelWidth) + ' └' + '─'.repeat(plotWidth))
  const first = '1'
  const last = String(Math.max(1, n))
  const xLabels = n > 1 ? first + last.padStart(plotWidth - first.length) : first
  lines.push(' '.repeat(labelWidth + 2) + xLabels)
  lines.push(
    series
      .map((s) => {
        const lastValue = [...s.values].reverse().find((v) => v !== null) ?? null
        return `${s.glyph} ${s.label} ${formatNumber(lastValue)}`
      })
      .join('   '),
  )
  return lines
}

/** The value at fractional index `t`, interpolated between its neighbours; null if either is missing. */
function sample(values: (number | null)[], t: number): number | null {
  const i = Math.floor(t)
  const a = values[i]
  if (a === null || a === undefined) return null
  const frac = t - i
  if (frac === 0) return a
  const b = values[i + 1]
  if (b === null || b === undefined) return a
  return a + (b - a) * frac
}
