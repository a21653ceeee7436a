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
  /**
   * `auto` (the default) turns logarithmic when every value is positive and they span more than
   * {@link LOG_SPAN}x: a loss falling from 3 to 0.01 is otherwise one spike and a flat line.
   */
  scale?: 'linear' | 'log' | 'auto'
}

/** The ratio of largest to smallest value above which `scale: 'auto'` goes logarithmic. */
export const LOG_SPAN = 50

/** Drawn where two series share a cell. */
export const OVERLAP = '▓'

const MIN_PLOT_WIDTH = 10

/**
 * Renders series as a terminal line chart: a y axis (linear or logarithmic) labelled with the top,
 * middle and bottom values, epochs along x (stretched or sampled to the width), consecutive points
 * joined so steep drops read as lines, and a legend with each series' last value. Returns the lines without newlines; always
 * `height + 3` of them, so a caller can redraw in place.
 */
export function renderChart(series: Series[], opts: ChartOptions): string[] {
  const height = Math.max(2, Math.floor(opts.height))
  const n = Math.max(0, ...series.map((s) => s.values.length))
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)))
  // Loops, not Math.min(...all): a long run has more epochs than a call has room for arguments.
  let min = Infinity
  let max = -Infinity
  for (const v of all) {
    if (v < min) min = v
    if (v > max) max = v
  }
  const positive = all.length > 0 && min > 0
  const log =
    positive && (opts.scale === 'log' || ((opts.scale ?? 'auto') === 'auto' && max / min > LOG_SPAN))
  // Positions are computed on the transformed axis; labels show values.
  const to = log ? Math.log10 : (v: number) => v
  const from = log ? (v: number) => 10 ** v : (v: number) => v
  let lo = all.length > 0 ? to(min) : 0
  let hi = all.length > 0 ? to(max) : 1
  if (hi === lo) {
    // A flat line still needs a scale: centre it.
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.1 : 1
    lo -= pad
    hi += pad
  }
  const rowValue = (row: number) => from(hi - (row * (hi - lo)) / (height - 1))
  const labelRows = new Map<number, string>([
    [0, formatNumber(rowValue(0))],
    [Math.floor((height - 1) / 2), formatNumber(rowValue(Math.floor((height - 1) / 2)))],
    [height - 1, formatNumber(rowValue(height - 1))],
  ])
  const labelWidth = Math.max(...[...labelRows.values()].map((l) => l.length))
  const plotWidth = Math.max(MIN_PLOT_WIDTH, Math.floor(opts.width) - labelWidth - 2)

  const grid: Set<number>[][] = Array.from({ length: height }, () =>
    Array.from({ length: plotWidth }, () => new Set<number>()),
  )
  const rowOf = (t: number) => Math.round(((hi - t) / (hi - lo)) * (height - 1))
  series.forEach((s, si) => {
    // Interpolated on the chart's axis, so a log chart joins points with straight lines too.
    const values = s.values.map((v) => (v === null || !Number.isFinite(v) ? null : to(v)))
    let prevRow: number | undefined
    for (let x = 0; x < plotWidth && n > 0; x++) {
      const v = sample(values, n === 1 ? 0 : (x * (n - 1)) / (plotWidth - 1))
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
