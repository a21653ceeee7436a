import { MAX_COMPARED, type View } from '../app'
import { lineChart, PALETTE } from '../chart'
import { fmt, h, link, mount, notice } from '../dom'
import { LabError } from '../gql'
import { statusBadge } from './runs'

const RUN = `query CompareRun($id: ID!) {
  run(id: $id) {
    id name status family epochs seed
    hiddenLayers activation optimizer learningRate batchSize validationSplit latentDim beta likelihood
    experiment { name }
    dataset { id name version }
    summary { bestEpoch bestValLoss metrics { name value } }
    explanation { featureImportance { feature importance method } }
  }
}`

const HISTORY = `query CompareHistory($id: ID!, $metric: String!, $maxPoints: Int) {
  run(id: $id) { metricHistory(metric: $metric, maxPoints: $maxPoints) { epoch value } }
}`

interface ComparedRun {
  id: string
  name: string
  status: string
  family: string
  epochs: number
  seed: number
  hiddenLayers: number[]
  activation: string
  optimizer: string
  learningRate: number
  batchSize: number
  validationSplit: number
  latentDim: number | null
  beta: number | null
  likelihood: string | null
  experiment: { name: string }
  dataset: { id: string; name: string; version: number }
  summary: {
    bestEpoch: number | null
    bestValLoss: number | null
    metrics: { name: string; value: number }[]
  }
  explanation: { featureImportance: { feature: string; importance: number; method: string }[] } | null
}

/** What the table compares, row by row; a row whose values differ between runs is marked. */
const PARAMETERS: [string, (r: ComparedRun) => string][] = [
  ['Status', (r) => r.status.toLowerCase()],
  ['Family', (r) => r.family],
  ['Dataset', (r) => `${r.dataset.name} v${r.dataset.version}`],
  ['Hidden layers', (r) => r.hiddenLayers.join(' · ')],
  ['Activation', (r) => r.activation],
  ['Optimizer', (r) => r.optimizer],
  ['Learning rate', (r) => fmt(r.learningRate)],
  ['Batch size', (r) => String(r.batchSize)],
  ['Epochs', (r) => String(r.epochs)],
  ['Validation split', (r) => fmt(r.validationSplit)],
  ['Seed', (r) => String(r.seed)],
  ['Latent dimensions', (r) => (r.latentDim === null ? '–' : String(r.latentDim))],
  ['β', (r) => fmt(r.beta)],
  ['Likelihood', (r) => r.likelihood ?? '–'],
  ['Best epoch', (r) => fmt(r.summary.bestEpoch)],
  ['Best val loss', (r) => fmt(r.summary.bestValLoss)],
]

const runHeader = (r: ComparedRun, i: number) =>
  h(
    'th',
    { class: 'num', scope: 'col' },
    h('span', { class: `swatch c${i % PALETTE.length}`, 'aria-hidden': 'true' }),
    link(`/runs/${r.id}`, r.name),
  )

function parameterTable(runs: ComparedRun[]): HTMLElement {
  const metricNames = [...new Set(runs.flatMap((r) => r.summary.metrics.map((m) => m.name)))]
  const rows: [string, string[]][] = [
    ...PARAMETERS.map(([name, cell]) => [name, runs.map(cell)] as [string, string[]]),
    ...metricNames.map(
      (name) =>
        [`Final ${name}`, runs.map((r) => fmt(r.summary.metrics.find((m) => m.name === name)?.value))] as [
          string,
          string[],
        ],
    ),
  ].filter(([, cells]) => cells.some((c) => c !== '–'))
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid compare', 'data-compare-params': true },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Run'), ...runs.map(runHeader))),
      h(
        'tbody',
        {},
        ...rows.map(([name, cells]) =>
          h(
            'tr',
            { class: new Set(cells).size > 1 ? 'differs' : '', 'data-param': name },
            h('th', { scope: 'row' }, name),
            ...cells.map((c, i) => h('td', { class: 'num', 'data-run': runs[i]?.id ?? '' }, c)),
          ),
        ),
      ),
    ),
  )
}

/** Importances of one method, features down, runs across: a bar scaled to the largest |value| of each run. */
function importanceTable(runs: ComparedRun[], method: string): HTMLElement {
  const explained = runs.filter((r) => r.explanation?.featureImportance.some((f) => f.method === method))
  const features = [
    ...new Set(
      explained.flatMap((r) =>
        r.explanation!.featureImportance.filter((f) => f.method === method).map((f) => f.feature),
      ),
    ),
  ]
  const valueOf = (r: ComparedRun, feature: string) =>
    r.explanation?.featureImportance.find((f) => f.method === method && f.feature === feature)?.importance
  const tops = new Map(
    explained.map((r) => [
      r.id,
      Math.max(...features.map((f) => Math.abs(valueOf(r, f) ?? 0)), Number.MIN_VALUE),
    ]),
  )
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid compare', 'data-compare-importance': method },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Feature'),
          ...explained.map((r) => runHeader(r, runs.indexOf(r))),
        ),
      ),
      h(
        'tbody',
        {},
        ...features.map((feature) =>
          h(
            'tr',
            { 'data-feature': feature },
            h('th', { scope: 'row' }, feature),
            ...explained.map((r) => {
              const v = valueOf(r, feature)
              return h(
                'td',
                { class: 'num', 'data-run': r.id, 'data-value': v ?? '' },
                h(
                  'span',
                  { class: 'bar-track mini' },
                  h('span', {
                    class: `bar ${v !== undefined && v < 0 ? 'neg' : ''}`,
                    'data-width': v === undefined ? 0 : Math.round((100 * Math.abs(v)) / tops.get(r.id)!),
                  }),
                ),
                fmt(v, 3),
              )
            }),
          ),
        ),
      ),
    ),
  )
}

/**
 * 2 to 10 runs side by side: one metric's curves overlaid (metricHistory per run), their hyperparameters and
 * summaries in one table, and the importances of one method (runs with an explanation).
 */
export const compareView: View = (root, { client, params }) => {
  const ids = [...new Set((params['ids'] ?? '').split(',').filter((s) => s !== ''))]
  const disposers: (() => void)[] = []
  let left = false
  const back = h('p', {}, link('/', '← Experiments'))
  if (ids.length < 2 || ids.length > MAX_COMPARED) {
    mount(
      root,
      back,
      h('h1', {}, 'Compare runs'),
      notice(
        'empty',
        `A comparison takes 2 to ${MAX_COMPARED} runs; this link names ${ids.length}. ` +
          'Tick the runs in an experiment’s runs table, then press Compare.',
      ),
    )
    return
  }
  mount(root, back, h('h1', {}, 'Compare runs'), notice('loading', 'Loading the runs…'))
  const chartBox = h('div', { class: 'compare-chart', 'aria-live': 'polite' })
  const metricSelect = h('select', { id: 'compare-metric', name: 'metric' })
  const methodSelect = h('select', { id: 'compare-method', name: 'method' })
  const importanceBox = h('div')

  const drawMetric = async (runs: ComparedRun[], metric: string) => {
    for (const d of disposers.splice(0)) d()
    mount(chartBox, notice('loading', `Loading ${metric}…`))
    const width = Math.max(260, (chartBox.clientWidth || root.clientWidth || 1180) - 20)
    try {
      const histories = await Promise.all(
        runs.map((r) =>
          client.request<{ run: { metricHistory: { epoch: number; value: number }[] } | null }>(HISTORY, {
            id: r.id,
            metric,
            maxPoints: width,
          }),
        ),
      )
      if (left) return
      const lines = runs.map((r, i) => {
        const points = histories[i]?.run?.metricHistory ?? []
        return { label: r.name, xs: points.map((p) => p.epoch), ys: points.map((p) => p.value) }
      })
      const drawn = lines.filter((l) => l.xs.length > 0)
      if (drawn.length === 0) {
        mount(chartBox, notice('empty', `None of these runs has stored a value of ${metric} yet.`))
        return
      }
      const chart = lineChart({ lines, xLabel: 'epoch', width, height: 280, integerX: true })
      disposers.push(chart.destroy)
      const resizer = new ResizeObserver(() =>
        chart.resize(Math.max(260, Math.floor(chartBox.clientWidth) - 20)),
      )
      resizer.observe(chartBox)
      disposers.push(() => resizer.disconnect())
      mount(
        chartBox,
        h(
          'figure',
          { class: 'chart', 'data-compare-chart': metric, 'data-series': drawn.length },
          h('figcaption', {}, h('strong', {}, metric), ` · ${drawn.length} runs`),
          chart.el,
          h(
            'ul',
            { class: 'series' },
            ...lines.map((l, i) =>
              h(
                'li',
                { 'data-series-run': runs[i]?.id ?? '', 'data-points': l.xs.length },
                h('span', { class: `swatch c${i % PALETTE.length}`, 'aria-hidden': 'true' }),
                `${l.label}: `,
                l.xs.length === 0
                  ? 'no points'
                  : `${l.xs.length} points, last ${fmt(l.ys[l.ys.length - 1])} at epoch ${l.xs[l.xs.length - 1]}`,
              ),
            ),
          ),
        ),
      )
    } catch (err) {
      mount(chartBox, notice('error', (err as LabError).message))
    }
  }

  const drawImportance = (runs: ComparedRun[], method: string) => {
    mount(importanceBox, importanceTable(runs, method))
    // Widths through the CSSOM: the CSP forbids inline style attributes.
    for (const bar of importanceBox.querySelectorAll<HTMLElement>('.bar[data-width]'))
      bar.style.width = `${bar.dataset['width']}%`
  }

  void (async () => {
    try {
      const answers = await Promise.all(
        ids.map((id) => client.request<{ run: ComparedRun | null }>(RUN, { id })),
      )
      if (left) return
      const runs = answers.map((a) => a.run).filter((r): r is ComparedRun => r !== null)
      const missing = ids.filter((id) => !runs.some((r) => r.id === id))
      if (runs.length === 0) {
        mount(root, back, h('h1', {}, 'Compare runs'), notice('empty', 'None of these runs exists.'))
        return
      }
      const metrics = [...new Set(runs.flatMap((r) => r.summary.metrics.map((m) => m.name)))]
      const preferred = ['valLoss', 'loss'].find((m) => metrics.includes(m)) ?? metrics[0]
      mount(metricSelect, ...metrics.map((m) => h('option', { value: m, selected: m === preferred }, m)))
      const methods = [
        ...new Set(runs.flatMap((r) => r.explanation?.featureImportance.map((f) => f.method) ?? [])),
      ]
      const method =
        ['SHAPLEY', 'INTEGRATED_GRADIENTS', 'PERMUTATION_IMPORTANCE'].find((m) => methods.includes(m)) ??
        methods[0]
      mount(
        methodSelect,
        ...methods.map((m) =>
          h('option', { value: m, selected: m === method }, m.toLowerCase().replace(/_/g, ' ')),
        ),
      )
      const experiments = [...new Set(runs.map((r) => r.experiment.name))]
      mount(
        root,
        experiments.length === 1
          ? h('p', {}, link(`/experiments/${encodeURIComponent(experiments[0]!)}`, `← ${experiments[0]}`))
          : back,
        h('h1', {}, `Compare ${runs.length} runs`),
        missing.length > 0 ? notice('error', `Not found, left out: ${missing.join(', ')}.`) : null,
        h('p', {}, ...runs.flatMap((r, i) => [i > 0 ? ' ' : '', statusBadge(r.status), ' ', r.name])),
        h('h2', {}, 'Curves'),
        metrics.length > 0
          ? h('p', { class: 'inline-form' }, h('label', { for: 'compare-metric' }, 'Metric '), metricSelect)
          : notice('empty', 'None of these runs has finished an epoch yet.'),
        chartBox,
        h('h2', {}, 'Hyperparameters and summaries'),
        parameterTable(runs),
        h('p', { class: 'muted' }, 'Rows marked in the first column differ between the runs.'),
        h('h2', {}, 'Importances'),
        methods.length > 0
          ? h('p', { class: 'inline-form' }, h('label', { for: 'compare-method' }, 'Method '), methodSelect)
          : notice(
              'empty',
              'None of these runs has feature importances (MLP runs with an explanation have).',
            ),
        importanceBox,
      )
      metricSelect.addEventListener('change', () => void drawMetric(runs, metricSelect.value))
      methodSelect.addEventListener('change', () => drawImportance(runs, methodSelect.value))
      if (preferred !== undefined) void drawMetric(runs, preferred)
      if (method !== undefined) drawImportance(runs, method)
    } catch (err) {
      mount(root, back, h('h1', {}, 'Compare runs'), notice('error', (err as LabError).message))
    }
  })()
  return () => {
    left = true
    for (const d of disposers.splice(0)) d()
  }
}
