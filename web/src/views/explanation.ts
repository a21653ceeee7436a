import { lineChart } from '../chart'
import { fmt, h, mount, notice } from '../dom'
import type { LabClient } from '../gql'
import { LabError } from '../gql'
import { renderTextExplanation } from './text'
import { renderVaeExplanation } from './vae'

const EXPLANATION = `query Explanation($id: ID!) {
  run(id: $id) {
    family
    dataset { id task rowCount featureNames featureStats { name mean min max std } }
    explanation {
      methods evaluationRows computeMs
      featureImportance { feature importance method std }
      checks { method maxGap meanGap }
      linearSurrogate { fidelityR2 intercept coefficients { feature weight standardizedWeight } }
      surrogateNetwork { fidelityR2 agreement hiddenLayers }
      partialDependence { feature grid values }
    }
  }
}`

const EXPLAIN_INSTANCE = `query ExplainInstance($runId: ID!, $row: [Float!]!, $methods: [ExplanationMethod!]) {
  explainInstance(runId: $runId, row: $row, methods: $methods) {
    prediction baselinePrediction
    attributions { feature method value }
    checks { method maxGap meanGap }
  }
}`

const DATASET_ROW = `query DatasetRow($id: ID!, $offset: Int) {
  dataset(id: $id) { preview(first: 1, offset: $offset) { index features target } }
}`

const PREDICT = `query Predict($runId: ID!, $rows: [[Float!]!]!) { predict(runId: $runId, rows: $rows) }`

interface ExplanationData {
  methods: string[]
  evaluationRows: number
  computeMs: number
  featureImportance: { feature: string; importance: number; method: string; std: number | null }[]
  checks: { method: string; maxGap: number; meanGap: number }[]
  linearSurrogate: {
    fidelityR2: number
    intercept: number
    coefficients: { feature: string; weight: number; standardizedWeight: number }[]
  } | null
  surrogateNetwork: { fidelityR2: number; agreement: number | null; hiddenLayers: number[] } | null
  partialDependence: { feature: string; grid: number[]; values: number[] }[]
}

interface DatasetFacts {
  id: string
  task: string
  rowCount: number
  featureNames: string[]
  featureStats: { name: string; mean: number; min: number; max: number; std: number }[]
}

interface InstanceData {
  prediction: number
  baselinePrediction: number
  attributions: { feature: string; method: string; value: number }[]
  checks: ExplanationData['checks']
}

/** Below this share of the attributions' total the completeness (or efficiency) gap counts as passed. */
const GAP_SHARE = 0.05

/** The methods explainInstance computes, in the order the page offers them. */
const INSTANCE_METHODS = ['INTEGRATED_GRADIENTS', 'SHAPLEY', 'LINEAR_SURROGATE']

const label = (method: string) => method.toLowerCase().replace(/_/g, ' ')

/** Importance bars of one method, largest first; each row carries its feature and exact value for tests. */
export function bars(
  method: string,
  items: ExplanationData['featureImportance'],
  check: ExplanationData['checks'][number] | undefined,
) {
  const sorted = [...items].sort((a, b) => Math.abs(b.importance) - Math.abs(a.importance))
  const top = Math.max(...sorted.map((i) => Math.abs(i.importance)), Number.MIN_VALUE)
  const total = sorted.reduce((s, i) => s + Math.abs(i.importance), 0)
  const passed = check ? check.maxGap <= GAP_SHARE * Math.max(total, 1e-9) : null
  return h(
    'figure',
    { class: 'bars', 'data-method': method },
    h(
      'figcaption',
      {},
      h('strong', {}, label(method)),
      check
        ? h(
            'span',
            { class: `badge ${passed ? 'ok' : 'warn'}`, title: `mean gap ${fmt(check.meanGap)}` },
            `${passed ? '✓' : '!'} check: max gap ${fmt(check.maxGap)}`,
          )
        : null,
    ),
    ...sorted.map((i) =>
      h(
        'div',
        { class: 'bar-row', 'data-feature': i.feature, 'data-value': i.importance },
        h('span', { class: 'bar-label' }, i.feature),
        h(
          'span',
          { class: 'bar-track' },
          h('span', {
            class: `bar ${i.importance < 0 ? 'neg' : ''}`,
            'data-width': Math.round((100 * Math.abs(i.importance)) / top),
          }),
        ),
        h('span', { class: 'bar-value' }, fmt(i.importance, 3), i.std !== null ? ` ± ${fmt(i.std, 2)}` : ''),
      ),
    ),
  )
}

/** Widths set through the CSSOM: the CSP forbids inline style attributes. */
function sizeBars(box: HTMLElement): void {
  for (const bar of box.querySelectorAll<HTMLElement>('.bar[data-width]'))
    bar.style.width = `${bar.dataset['width']}%`
}

function methodBars(
  items: ExplanationData['featureImportance'],
  checks: ExplanationData['checks'],
): HTMLElement[] {
  const methods = [...new Set(items.map((f) => f.method))]
  return methods.map((m) =>
    bars(
      m,
      items.filter((f) => f.method === m),
      checks.find((c) => c.method === m),
    ),
  )
}

const PDP_HEIGHT = 200

/**
 * One small plot per feature: the model's mean output as that feature moves over its grid (the others kept
 * as they are in the held-out rows). The caption states the range drawn, in numbers a test or a person reads.
 */
function partialDependence(
  items: ExplanationData['partialDependence'],
  disposers: (() => void)[],
): HTMLElement | null {
  if (items.length === 0) return null
  const grid = h('div', { class: 'pdp-grid' })
  // Each plot follows its own cell: several per row at 1280 px, one per row on a narrow window.
  const byFigure = new Map<Element, ReturnType<typeof lineChart>>()
  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries)
      byFigure.get(entry.target)?.resize(Math.max(160, Math.floor(entry.contentRect.width)))
  })
  disposers.push(() => resizer.disconnect())
  for (const pd of items) {
    const lo = Math.min(...pd.values)
    const hi = Math.max(...pd.values)
    const chart = lineChart({
      lines: [{ label: 'mean output', xs: pd.grid, ys: pd.values }],
      xLabel: pd.feature,
      width: 260,
      height: PDP_HEIGHT,
      legend: false,
    })
    disposers.push(chart.destroy)
    const figure = h(
      'figure',
      {
        class: 'chart pdp',
        'data-pdp': pd.feature,
        'data-points': pd.grid.length,
        'data-min': lo,
        'data-max': hi,
      },
      h(
        'figcaption',
        {},
        h('strong', {}, pd.feature),
        ` · output ${fmt(lo, 3)} to ${fmt(hi, 3)} over ${pd.grid.length} points`,
      ),
      chart.el,
    )
    byFigure.set(figure, chart)
    resizer.observe(figure)
    grid.append(figure)
  }
  return h(
    'section',
    {},
    h('h3', {}, 'Partial dependence'),
    h(
      'p',
      { class: 'muted' },
      'Each plot moves one feature from its 5th to its 95th percentile and shows the mean output over the held-out rows.',
    ),
    grid,
  )
}

/** The numbers of the row form, or a message naming the first feature without one. */
function rowOf(inputs: HTMLInputElement[]): number[] | string {
  const row: number[] = []
  for (const input of inputs) {
    const v = input.value.trim()
    if (v === '' || !Number.isFinite(Number(v))) return `${input.name} needs a number.`
    row.push(Number(v))
  }
  return row
}

/**
 * One row to edit (pre-filled with the dataset's feature means), then `predict` or `explainInstance` on it:
 * the attributions of each method as bars with their check, the prediction and the baseline's. What the server
 * refuses (a value outside float32, a budget exceeded) is shown as its message.
 */
function instanceForm(
  client: LabClient,
  runId: string,
  dataset: DatasetFacts,
  withSurrogate: boolean,
): HTMLElement {
  const classification = dataset.task === 'BINARY_CLASSIFICATION'
  const means = new Map(dataset.featureStats.map((s) => [s.name, s.mean]))
  const inputs = dataset.featureNames.map((name) =>
    h('input', {
      type: 'number',
      step: 'any',
      name,
      id: `row-${name}`,
      value: String(Number((means.get(name) ?? 0).toPrecision(4))),
      required: true,
    }),
  )
  const offered = INSTANCE_METHODS.filter((m) => m !== 'LINEAR_SURROGATE' || withSurrogate)
  const methodBoxes = offered.map((m) =>
    h('input', { type: 'checkbox', name: 'method', value: m, checked: true }),
  )
  const explainButton = h('button', { type: 'submit' }, 'Explain this row')
  const predictButton = h('button', { type: 'button', 'data-predict': true }, 'Predict')
  const resetButton = h('button', { type: 'button' }, 'Reset to the means')
  const rowIndex = h('input', {
    type: 'number',
    id: 'row-index',
    min: 0,
    max: dataset.rowCount - 1,
    step: 1,
    value: 0,
    class: 'index',
  })
  const loadRow = h('button', { type: 'button' }, 'Use this dataset row')
  const output = h('div', { 'aria-live': 'polite', 'data-instance-result': true })
  const form = h(
    'form',
    { class: 'row-form', 'aria-label': 'A row to predict and explain', novalidate: true },
    h(
      'div',
      { class: 'row-fields' },
      ...dataset.featureNames.map((name, i) =>
        h('label', { for: `row-${name}` }, h('span', {}, name), inputs[i]),
      ),
    ),
    h(
      'fieldset',
      { class: 'methods' },
      h('legend', {}, 'Methods'),
      ...offered.map((m, i) => h('label', { class: 'check' }, methodBoxes[i], label(m))),
    ),
    h('div', { class: 'actions' }, explainButton, predictButton, resetButton),
    h('div', { class: 'actions' }, h('label', { for: 'row-index' }, 'Row #'), rowIndex, loadRow),
  )
  const busy = (on: boolean) => {
    explainButton.disabled = on
    predictButton.disabled = on
  }
  const rowOrSay = (): number[] | null => {
    const row = rowOf(inputs)
    if (typeof row === 'string') {
      mount(output, notice('error', row))
      return null
    }
    return row
  }
  const ask = async (what: () => Promise<void>) => {
    busy(true)
    try {
      await what()
    } catch (err) {
      const message = err instanceof LabError ? err.message : 'The request failed.'
      mount(output, notice('error', `The server refused this row: ${message}`))
    } finally {
      busy(false)
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const row = rowOrSay()
    if (!row) return
    const methods = methodBoxes.filter((b) => b.checked).map((b) => b.value)
    if (methods.length === 0) {
      mount(output, notice('error', 'Choose at least one method.'))
      return
    }
    mount(output, notice('loading', 'Explaining…'))
    void ask(async () => {
      const { explainInstance: x } = await client.request<{ explainInstance: InstanceData }>(
        EXPLAIN_INSTANCE,
        { runId, row, methods },
      )
      const what = classification ? 'logit' : 'prediction'
      mount(
        output,
        h(
          'p',
          { 'data-explained': x.prediction },
          `Explained ${what}: `,
          h('strong', {}, fmt(x.prediction)),
          ` · at the baseline (the training mean): ${fmt(x.baselinePrediction)}`,
        ),
        h(
          'div',
          { class: 'charts', 'data-instance-bars': true },
          ...methodBars(
            x.attributions.map((a) => ({ ...a, importance: a.value, std: null })),
            x.checks,
          ),
        ),
      )
      sizeBars(output)
    })
  })
  predictButton.addEventListener('click', () => {
    const row = rowOrSay()
    if (!row) return
    void ask(async () => {
      const { predict } = await client.request<{ predict: number[] }>(PREDICT, { runId, rows: [row] })
      const value = predict[0] ?? Number.NaN
      mount(
        output,
        h(
          'p',
          { 'data-predicted': value },
          classification ? 'Probability of class 1: ' : 'Prediction: ',
          h('strong', {}, fmt(value)),
        ),
      )
    })
  })
  loadRow.addEventListener('click', () => {
    const offset = Number(rowIndex.value)
    if (!Number.isInteger(offset) || offset < 0 || offset >= dataset.rowCount) {
      mount(output, notice('error', `Choose a row from 0 to ${dataset.rowCount - 1}.`))
      return
    }
    void ask(async () => {
      const { dataset: d } = await client.request<{
        dataset: { preview: { index: number; features: number[]; target: number | null }[] } | null
      }>(DATASET_ROW, { id: dataset.id, offset })
      const row = d?.preview[0]
      if (!row) {
        mount(output, notice('error', `The dataset has no row ${offset}.`))
        return
      }
      inputs.forEach((input, i) => {
        input.value = String(row.features[i] ?? '')
      })
      mount(
        output,
        h(
          'p',
          { class: 'muted' },
          `Row ${row.index} of the dataset`,
          row.target !== null ? `, stored target ${fmt(row.target)}` : '',
          '.',
        ),
      )
    })
  })
  resetButton.addEventListener('click', () => {
    inputs.forEach((input) => {
      input.value = String(Number((means.get(input.name) ?? 0).toPrecision(4)))
    })
    mount(output)
  })
  return h(
    'section',
    { 'data-instance': true },
    h('h3', {}, 'One row: predict and explain'),
    h('p', { class: 'muted' }, 'Edit the feature values (they start at the dataset’s means), then ask.'),
    form,
    output,
  )
}

/**
 * The MLP explanation: importance bars per method with their check badge, the surrogates, partial
 * dependence and the row form. Returns the cleanup of what it drew (charts, observers).
 */
export async function renderExplanation(
  box: HTMLElement,
  client: LabClient,
  runId: string,
): Promise<() => void> {
  const disposers: (() => void)[] = []
  const dispose = () => {
    for (const d of disposers.splice(0)) d()
  }
  try {
    const { run } = await client.request<{
      run: { family: string; dataset: DatasetFacts; explanation: ExplanationData | null } | null
    }>(EXPLANATION, { id: runId })
    // The text view's prompt box works whether or not the run stored an explanation.
    if (run?.family === 'SEQUENCE') return await renderTextExplanation(box, client, runId)
    const e = run?.explanation
    if (run?.family === 'VAE' && e) {
      await renderVaeExplanation(box, client, runId)
      return dispose
    }
    if (!run || !e) {
      mount(
        box,
        h('h2', {}, 'Explanation'),
        notice(
          'empty',
          'This run has no explanation: none was computed (it may have been started with explain: []).',
        ),
      )
      return dispose
    }
    if (run.family !== 'MLP') {
      mount(
        box,
        h('h2', {}, 'Explanation'),
        notice('empty', `The ${run.family} explanation view is not in the page yet; query Run.explanation.`),
      )
      return dispose
    }
    const ls = e.linearSurrogate
    mount(
      box,
      h('h2', {}, 'Explanation'),
      h('p', { class: 'muted' }, `${e.evaluationRows} held-out rows · ${fmt(e.computeMs / 1000, 3)} s`),
      h('div', { class: 'charts' }, ...methodBars(e.featureImportance, e.checks)),
      ls
        ? h(
            'section',
            {},
            h('h3', {}, `Linear surrogate (fidelity R² ${fmt(ls.fidelityR2, 3)})`),
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'grid', 'data-surrogate': true },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    h('th', {}, 'Feature'),
                    h('th', { class: 'num' }, 'Weight'),
                    h('th', { class: 'num' }, 'Standardised'),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  h(
                    'tr',
                    {},
                    h('td', {}, '(intercept)'),
                    h('td', { class: 'num' }, fmt(ls.intercept)),
                    h('td', {}),
                  ),
                  ...ls.coefficients.map((c) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, c.feature),
                      h('td', { class: 'num' }, fmt(c.weight)),
                      h('td', { class: 'num' }, fmt(c.standardizedWeight)),
                    ),
                  ),
                ),
              ),
            ),
          )
        : null,
      e.surrogateNetwork
        ? h(
            'p',
            {},
            `Surrogate network ${e.surrogateNetwork.hiddenLayers.join('-')}: fidelity R² ${fmt(e.surrogateNetwork.fidelityR2, 3)}`,
            e.surrogateNetwork.agreement !== null
              ? `, agreement ${fmt(e.surrogateNetwork.agreement, 3)}`
              : '',
          )
        : null,
      partialDependence(e.partialDependence, disposers),
      instanceForm(client, runId, run.dataset, ls !== null),
    )
    sizeBars(box)
  } catch (err) {
    mount(box, h('h2', {}, 'Explanation'), notice('error', (err as LabError).message))
  }
  return dispose
}
