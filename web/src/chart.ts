// One uPlot line chart per metric, fed point by point.
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { h } from './dom'

export interface MetricChart {
  el: HTMLElement
  /** Appends one point; refuses (and counts) an epoch not after the last one held. */
  add(epoch: number, value: number): void
  /** Replaces the points (metricHistory's downsampled series). */
  set(points: { epoch: number; value: number }[]): void
  lastEpoch(): number
  /** Width the chart draws at, in CSS pixels: the maxPoints to ask metricHistory for. */
  width(): number
  resize(width: number): void
  destroy(): void
}

export function metricChart(name: string, initialWidth: number): MetricChart {
  let width = initialWidth
  const xs: number[] = []
  const ys: number[] = []
  let duplicates = 0
  const count = h('span', { class: 'points', 'data-points': name }, '0')
  const body = h('div', { class: 'chart-body' })
  const el = h(
    'figure',
    { class: 'chart', 'data-metric': name, 'data-duplicates': '0' },
    h('figcaption', {}, h('strong', {}, name), ' · ', count, ' points'),
    body,
  )
  const plot = new uPlot(
    {
      width,
      height: 180,
      scales: { x: { time: false } },
      axes: [{ label: 'epoch' }, {}],
      series: [{ label: 'epoch' }, { label: name, stroke: '#2563eb', width: 1.5 }],
      legend: { show: true },
    },
    [xs, ys],
    body,
  )
  let pending = false
  const redraw = () => {
    count.textContent = String(xs.length)
    el.setAttribute('data-last-epoch', String(xs[xs.length - 1] ?? 0))
    if (pending) return
    pending = true
    requestAnimationFrame(() => {
      pending = false
      plot.setData([xs, ys])
    })
  }
  return {
    el,
    add(epoch, value) {
      const last = xs[xs.length - 1]
      if (last !== undefined && epoch <= last) {
        duplicates += 1
        el.setAttribute('data-duplicates', String(duplicates))
        return
      }
      xs.push(epoch)
      ys.push(value)
      redraw()
    },
    set(points) {
      xs.length = 0
      ys.length = 0
      for (const p of points) {
        xs.push(p.epoch)
        ys.push(p.value)
      }
      redraw()
    },
    lastEpoch: () => xs[xs.length - 1] ?? 0,
    width: () => width,
    resize(w) {
      if (w === width) return
      width = w
      plot.setSize({ width, height: 180 })
    },
    destroy: () => plot.destroy(),
  }
}

/** One line of a static chart: its own x values (they need not match the other lines'). */
export interface Line {
  label: string
  xs: number[]
  ys: number[]
}

/** Distinct enough for ten overlaid lines, and for people who confuse red and green (Tableau 10). */
export const PALETTE = [
  '#2563eb',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
]

/**
 * A chart drawn once from whole series (partial dependence, compared runs): the lines' x values are joined
 * (uPlot wants one x axis), a line without a point at some x leaves a gap bridged by the stroke.
 */
export function lineChart(opts: {
  lines: Line[]
  xLabel: string
  width: number
  height: number
  legend?: boolean
  /** The x values are whole numbers (epochs): no ticks between them. */
  integerX?: boolean
}): { el: HTMLElement; resize(width: number): void; destroy(): void } {
  const body = h('div', { class: 'chart-body' })
  const data = uPlot.join(opts.lines.map((l) => [l.xs, l.ys] as uPlot.AlignedData))
  let width = opts.width
  const plot = new uPlot(
    {
      width,
      height: opts.height,
      scales: { x: { time: false } },
      axes: [
        {
          label: opts.xLabel,
          ...(opts.integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : {}),
        },
        { size: 56 },
      ],
      series: [
        { label: opts.xLabel },
        ...opts.lines.map((l, i) => ({
          label: l.label,
          stroke: PALETTE[i % PALETTE.length] ?? '#2563eb',
          width: 1.5,
          spanGaps: true,
        })),
      ],
      legend: { show: opts.legend ?? true },
    },
    data,
    body,
  )
  return {
    el: body,
    resize(w) {
      if (w === width) return
      width = w
      plot.setSize({ width, height: opts.height })
    },
    destroy: () => plot.destroy(),
  }
}
