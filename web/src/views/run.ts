import { TERMINAL, type View } from '../app'
import { metricChart, type MetricChart } from '../chart'
import { fmt, h, link, mount, notice, submitting, when } from '../dom'
import { LabError } from '../gql'
import { renderExplanation } from './explanation'
import { statusBadge } from './runs'

const RUN = `query Run($id: ID!) {
  run(id: $id) {
    id name status family backend epochs lastEpoch attempt seed error
    createdAt startedAt finishedAt
    hiddenLayers activation optimizer learningRate batchSize validationSplit latentDim beta likelihood architecture contextLength tags
    experiment { name }
    dataset { id name version }
    summary { bestEpoch bestValLoss metrics { name value } }
  }
}`

const HISTORY = `query MetricHistory($id: ID!, $metric: String!, $maxPoints: Int) {
  run(id: $id) { lastEpoch metricHistory(metric: $metric, maxPoints: $maxPoints) { epoch value } }
}`

const EVENTS = `subscription RunEvents($runId: ID!, $afterEpoch: Int) {
  runEvents(runId: $runId, afterEpoch: $afterEpoch) {
    __typename
    ... on EpochCompleted { metric { epoch values { name value } } }
    ... on RunStatusChanged { status error }
    ... on ExplanationReady { runId }
  }
}`

const CANCEL = `mutation CancelRun($id: ID!) { cancelRun(id: $id) { id status } }`

interface RunData {
  id: string
  name: string
  status: string
  family: string
  backend: string | null
  epochs: number
  lastEpoch: number
  attempt: number
  seed: number
  error: string | null
  createdAt: string
  startedAt: string | null
  finishedAt: string | null
  hiddenLayers: number[]
  activation: string
  optimizer: string
  learningRate: number
  batchSize: number
  validationSplit: number
  latentDim: number | null
  beta: number | null
  likelihood: string | null
  architecture: string | null
  contextLength: number | null
  tags: string[]
  experiment: { name: string }
  dataset: { id: string; name: string; version: number }
  summary: {
    bestEpoch: number | null
    bestValLoss: number | null
    metrics: { name: string; value: number }[]
  }
}
type RunEvent =
  | { __typename: 'EpochCompleted'; metric: { epoch: number; values: { name: string; value: number }[] } }
  | { __typename: 'RunStatusChanged'; status: string; error: string | null }
  | { __typename: 'ExplanationReady'; runId: string }

function duration(from: string | null, to: string | null): string {
  if (!from) return '–'
  const ms = (to ? new Date(to) : new Date()).getTime() - new Date(from).getTime()
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
}

function specList(run: RunData): HTMLElement {
  const items: [string, string | Node][] = [
    ['Experiment', link(`/experiments/${encodeURIComponent(run.experiment.name)}`, run.experiment.name)],
    ['Dataset', link(`/datasets/${run.dataset.id}`, `${run.dataset.name} v${run.dataset.version}`)],
    ['Family', run.family],
    ['Hidden layers', run.hiddenLayers.join(' · ')],
    ['Activation', run.activation],
    ['Optimizer', run.optimizer],
    ['Learning rate', fmt(run.learningRate)],
    ['Batch size', String(run.batchSize)],
    ['Epochs', String(run.epochs)],
    ['Validation split', fmt(run.validationSplit)],
    ['Seed', String(run.seed)],
  ]
  if (run.latentDim !== null) items.push(['Latent dimensions', String(run.latentDim)])
  if (run.beta !== null) items.push(['β', fmt(run.beta)])
  if (run.likelihood !== null) items.push(['Likelihood', run.likelihood])
  if (run.architecture !== null) items.push(['Architecture', run.architecture])
  if (run.contextLength !== null) items.push(['Context length', String(run.contextLength)])
  if (run.tags.length > 0) items.push(['Tags', run.tags.join(', ')])
  return h('dl', { class: 'facts' }, ...items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))
}

export const runView: View = (root, { client, params, canWrite }) => {
  const id = params['id'] ?? ''
  mount(root, notice('loading', 'Loading the run…'))
  const charts = new Map<string, MetricChart>()
  const chartBox = h('div', { class: 'charts' })
  const state = h('dl', { class: 'facts state' })
  const errorBox = h('div')
  const cancel = h('button', { type: 'button', class: 'danger' }, 'Cancel run')
  let run: RunData | null = null
  // The last epoch whose points the page holds: where runEvents resumes after a reconnect.
  let held = 0
  let unsubscribe: () => void = () => {}
  let ticker: ReturnType<typeof setInterval> | undefined
  let disposeExplanation: () => void = () => {}
  let left = false
  // Once per page: the stream replays ExplanationReady for a finished run, and a second render would reset
  // what a person typed in the view's forms.
  let explanationShown = false
  const showExplanation = () => {
    const box = root.querySelector<HTMLElement>('[data-explanation]')
    if (!box || explanationShown) return
    explanationShown = true
    void renderExplanation(box, client, id).then((dispose) => {
      disposeExplanation()
      disposeExplanation = dispose
      if (left) dispose()
    })
  }

  // Two charts side by side at 1280 px, one per row on a narrow window (style.css .charts).
  const chartWidth = () =>
    Math.max(240, Math.min(560, (chartBox.clientWidth || root.clientWidth || 560) - 24))
  const chartFor = (name: string) => {
    let chart = charts.get(name)
    if (!chart) {
      chart = metricChart(name, chartWidth())
      charts.set(name, chart)
      chartBox.append(chart.el)
    }
    return chart
  }

  // A window resized: charts follow (the points stay; metricHistory was asked once, at load).
  const resizer = new ResizeObserver(() => {
    for (const c of charts.values()) c.resize(chartWidth())
  })
  resizer.observe(chartBox)

  const renderState = () => {
    if (!run) return
    mount(
      state,
      h('dt', {}, 'Status'),
      h('dd', { 'data-run-status': run.status }, statusBadge(run.status)),
      h('dt', {}, 'Progress'),
      h('dd', { 'data-progress': true }, `epoch ${held} of ${run.epochs}`),
      h('dt', {}, 'Backend'),
      h('dd', {}, run.backend ?? 'not started'),
      h('dt', {}, 'Created'),
      h('dd', {}, when(run.createdAt)),
      h('dt', {}, 'Started'),
      h('dd', {}, when(run.startedAt)),
      h('dt', {}, 'Finished'),
      h('dd', {}, when(run.finishedAt)),
      h('dt', {}, 'Training time'),
      h('dd', {}, duration(run.startedAt, run.finishedAt)),
      h('dt', {}, 'Attempt'),
      h('dd', {}, String(run.attempt)),
    )
    cancel.hidden = !canWrite || TERMINAL.includes(run.status)
    mount(
      errorBox,
      run.error
        ? notice('error', `${run.status === 'CANCELLED' ? 'Cancelled' : 'Failed'}: ${run.error}`)
        : null,
    )
  }

  const refresh = async () => {
    const data = await client.request<{ run: RunData | null }>(RUN, { id })
    if (data.run) run = data.run
    renderState()
  }

  const onEvent = (e: RunEvent) => {
    if (!run) return
    switch (e.__typename) {
      case 'EpochCompleted': {
        const { epoch, values } = e.metric
        for (const v of values) chartFor(v.name).add(epoch, v.value)
        held = Math.max(held, epoch)
        if (run.status === 'QUEUED') run.status = 'RUNNING'
        renderState()
        return
      }
      case 'RunStatusChanged':
        run.status = e.status
        run.error = e.error
        renderState()
        // Backend, timings and summary are fields of the run, not of the event.
        void refresh().catch(() => {})
        return
      case 'ExplanationReady':
        showExplanation()
        return
    }
  }

  const load = async () => {
    try {
      const data = await client.request<{ run: RunData | null }>(RUN, { id })
      if (!data.run) {
        mount(root, notice('empty', `There is no run with id ${id}.`), h('p', {}, link('/', '← Experiments')))
        return
      }
      run = data.run
      mount(
        root,
        h(
          'p',
          {},
          link(`/experiments/${encodeURIComponent(run.experiment.name)}`, `← ${run.experiment.name}`),
        ),
        h('h1', {}, run.name),
        h('div', { class: 'run-head' }, state, h('div', {}, cancel)),
        errorBox,
        h('h2', {}, 'Metrics'),
        chartBox,
        h('h2', {}, 'Specification'),
        specList(run),
        h('section', { 'data-explanation': true }),
      )
      // Long runs: each series is drawn from metricHistory at the chart's pixel width, then grows live.
      const names = run.summary.metrics.map((m) => m.name)
      const width = chartWidth()
      const histories = await Promise.all(
        names.map((metric) =>
          client.request<{
            run: { lastEpoch: number; metricHistory: { epoch: number; value: number }[] } | null
          }>(HISTORY, { id, metric, maxPoints: width }),
        ),
      )
      names.forEach((name, i) => {
        const points = histories[i]?.run?.metricHistory ?? []
        chartFor(name).set(points)
        held = Math.max(held, points[points.length - 1]?.epoch ?? 0)
      })
      if (names.length === 0 && run.lastEpoch > 0) held = 0
      if (run.status === 'SUCCEEDED') showExplanation()
      if (charts.size === 0)
        chartBox.append(
          notice(
            'empty',
            run.status === 'QUEUED' ? 'Waiting for a worker to take the run…' : 'No epochs yet.',
          ),
        )
      renderState()
      unsubscribe = client.subscribe<{ runEvents: RunEvent }>(
        EVENTS,
        () => ({ runId: id, afterEpoch: held }),
        {
          next: (d) => {
            chartBox.querySelector('.notice')?.remove()
            onEvent(d.runEvents)
          },
          error: (err) => mount(errorBox, notice('error', `Live updates stopped: ${err.message}`)),
        },
      )
      ticker = setInterval(() => {
        if (run && !TERMINAL.includes(run.status)) renderState()
      }, 1000)
    } catch (err) {
      mount(root, notice('error', (err as LabError).message))
    }
  }

  cancel.addEventListener('click', () =>
    submitting(cancel, errorBox, async () => {
      const data = await client.request<{ cancelRun: { status: string } }>(CANCEL, { id })
      if (run) run.status = data.cancelRun.status
      renderState()
    }),
  )

  void load()
  return () => {
    left = true
    disposeExplanation()
    unsubscribe()
    clearInterval(ticker)
    resizer.disconnect()
    for (const c of charts.values()) c.destroy()
  }
}
