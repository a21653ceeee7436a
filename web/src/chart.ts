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
