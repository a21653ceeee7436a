import { TERMINAL, type View } from '../app'
import { fmt, h, link, mount, notice, submitting, when } from '../dom'
import { LabError } from '../gql'
import { statusBadge } from './runs'

const SWEEPS = `query Sweeps($first: Int, $after: String) {
  sweeps(first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node {
      id experiment status metric goal runCap runCount finishedCount createdAt
      bestRun { id name summary { metrics { name value } } }
    } }
  }
}`

/** Every StartRunInput field a sweep may vary, so any swept one has its column. */
const RUN_FIELDS = `id name status lastEpoch epochs error
  learningRate validationSplit batchSize seed hiddenLayers activation optimizer
  latentDim beta likelihood architecture contextLength
  summary { metrics { name value } }`

const SWEEP = `query Sweep($id: ID!, $after: String) {
  sweep(id: $id) {
    id experiment status method metric goal runCap runCount finishedCount maxConcurrent seed error
    createdAt finishedAt parameters
    bestRun { id name summary { metrics { name value } } }
    runs(first: 100, after: $after) { pageInfo { endCursor hasNextPage } edges { node { ${RUN_FIELDS} } } }
  }
}`

const EVENTS = `subscription SweepEvents($sweepId: ID!) {
  sweepEvents(sweepId: $sweepId) {
    __typename
    ... on RunProgress { runId epoch epochs }
    ... on SweepRunStarted { run { id } }
    ... on SweepRunFinished { run { id } }
    ... on SweepStatusChanged { status }
  }
}`

const CANCEL = `mutation CancelSweep($id: ID!) { cancelSweep(id: $id) { id status } }`

const PAGE = 25

interface Summary {
  metrics: { name: string; value: number }[]
}
interface SweepRow {
  id: string
  experiment: string
  status: string
  metric: string
  goal: string
  runCap: number
  runCount: number
  finishedCount: number
  createdAt: string
  bestRun: { id: string; name: string; summary: Summary } | null
}
interface SweepRun {
  id: string
  name: string
  status: string
  lastEpoch: number
  epochs: number
  error: string | null
  summary: Summary
  [field: string]: unknown
}
interface SweepData extends SweepRow {
  method: string
  maxConcurrent: number
  seed: number
  error: string | null
  finishedAt: string | null
  parameters: { name: string }[]
  runs: { pageInfo: { endCursor: string | null; hasNextPage: boolean }; edges: { node: SweepRun }[] }
}
type SweepEvent =
  | { __typename: 'RunProgress'; runId: string; epoch: number; epochs: number }
  | { __typename: 'SweepRunStarted' | 'SweepRunFinished'; run: { id: string } }
  | { __typename: 'SweepStatusChanged'; status: string }

function metricOf(summary: Summary, metric: string): number | null {
  return summary.metrics.find((m) => m.name === metric)?.value ?? null
}

/** The median stopping rule cancels a run with this reason (the sweep service writes it). */
export function stoppedEarly(run: { status: string; error: string | null }): boolean {
  return run.status === 'CANCELLED' && (run.error ?? '').startsWith('stopped early')
}

function progressText(s: { finishedCount: number; runCap: number }): string {
  return `${s.finishedCount} of ${s.runCap} runs done`
}

function progressBar(s: { finishedCount: number; runCap: number }): HTMLElement {
  return h('progress', {
    max: s.runCap,
    value: s.finishedCount,
    'aria-label': progressText(s),
  })
}

function bestCell(s: SweepRow): Node | string {
  if (!s.bestRun) return s.status === 'RUNNING' ? 'not yet' : 'none'
  return h(
    'span',
    {},
    link(`/runs/${s.bestRun.id}`, s.bestRun.name),
    ` (${s.metric} ${fmt(metricOf(s.bestRun.summary, s.metric))})`,
  )
}

const SWEEP_ROW = `query SweepRow($id: ID!) {
  sweep(id: $id) {
    id experiment status metric goal runCap runCount finishedCount createdAt
    bestRun { id name summary { metrics { name value } } }
  }
}`

/** Running sweeps the list follows live at once; the subscription cap per connection is the server's. */
const MAX_LIVE_ROWS = 20

function sweepRow(node: SweepRow): HTMLElement {
  return h(
    'tr',
    { 'data-sweep-id': node.id, 'data-sweep-status': node.status },
    h('td', {}, link(`/sweeps/${node.id}`, node.experiment)),
    h('td', {}, statusBadge(node.status)),
    h(
      'td',
      { 'data-progress': true, 'data-finished': node.finishedCount, 'data-planned': node.runCap },
      progressBar(node),
      ' ',
      progressText(node),
    ),
    h('td', {}, `${node.metric} (${node.goal.toLowerCase()})`),
    h('td', { 'data-best-run': node.bestRun?.id ?? '' }, bestCell(node)),
    h('td', {}, when(node.createdAt)),
  )
}

export const sweepsView: View = (root, { client }) => {
  mount(root, h('h1', {}, 'Sweeps'), notice('loading', 'Loading sweeps…'))
  let after: string | null = null
  let left = false
  const list = h('tbody')
  const more = h('button', { type: 'button', hidden: true }, 'Show more')
  /** Per running sweep shown: its subscription's end and a pending re-read of its row. */
  const live = new Map<string, { unsubscribe: () => void; pending?: ReturnType<typeof setTimeout> }>()

  const stopFollowing = (id: string) => {
    const entry = live.get(id)
    if (!entry) return
    clearTimeout(entry.pending)
    entry.unsubscribe()
    live.delete(id)
  }
  const reread = async (id: string) => {
    try {
      const { sweep } = await client.request<{ sweep: SweepRow | null }>(SWEEP_ROW, { id })
      const row = list.querySelector(`tr[data-sweep-id="${id}"]`)
      if (left || !sweep || !row) return
      row.replaceWith(sweepRow(sweep))
      if (sweep.status !== 'RUNNING') stopFollowing(id)
    } catch {
      // The row keeps its last figures; the next event or a reload reads it again.
    }
  }
  // Events say that something changed; the row's figures (counts, best run) are read once per burst.
  const follow = (id: string) => {
    if (live.size >= MAX_LIVE_ROWS || live.has(id)) return
    const entry: { unsubscribe: () => void; pending?: ReturnType<typeof setTimeout> } = {
      unsubscribe: () => {},
    }
    live.set(id, entry)
    const soon = () => {
      clearTimeout(entry.pending)
      entry.pending = setTimeout(() => void reread(id), 250)
    }
    entry.unsubscribe = client.subscribe<{ sweepEvents: SweepEvent }>(EVENTS, () => ({ sweepId: id }), {
      next: (d) => {
        if (d.sweepEvents.__typename !== 'RunProgress') soon()
      },
      error: () => stopFollowing(id),
      complete: () => void reread(id),
    })
  }
  const offReconnect = client.onReconnect(() => {
    for (const id of live.keys()) void reread(id)
  })

  const load = async () => {
    try {
      const data = await client.request<{
        sweeps: {
          totalCount: number
          pageInfo: { endCursor: string | null; hasNextPage: boolean }
          edges: { node: SweepRow }[]
        }
      }>(SWEEPS, { first: PAGE, after })
      if (left) return
      const { edges, pageInfo, totalCount } = data.sweeps
      if (after === null && totalCount === 0) {
        mount(
          root,
          h('h1', {}, 'Sweeps'),
          notice(
            'empty',
            'No sweeps yet. Start one (startSweep) to search hyperparameters; the server runs it and it appears here.',
          ),
        )
        return
      }
      if (after === null) {
        mount(
          root,
          h('h1', {}, 'Sweeps'),
          h(
            'p',
            { class: 'muted' },
            `${totalCount} sweep${totalCount === 1 ? '' : 's'}, newest first; running ones update live`,
          ),
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'grid sweeps' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Experiment', 'Status', 'Progress', 'Metric', 'Best run', 'Created'].map((c) =>
                    h('th', {}, c),
                  ),
                ),
              ),
              list,
            ),
          ),
          more,
        )
      }
      for (const { node } of edges) {
        list.append(sweepRow(node))
        if (node.status === 'RUNNING') follow(node.id)
      }
      after = pageInfo.endCursor
      more.hidden = !pageInfo.hasNextPage
    } catch (err) {
      mount(root, h('h1', {}, 'Sweeps'), notice('error', (err as LabError).message))
    }
  }
  more.addEventListener('click', () => void load())
  void load()
  return () => {
    left = true
    offReconnect()
    for (const id of [...live.keys()]) stopFollowing(id)
  }
}

/** A swept field's value as the table shows it and as a parallel-coordinates axis reads it. */
function valueOf(run: SweepRun, name: string): number | string | null {
  const v = run[name]
  if (v === null || v === undefined) return null
  if (typeof v === 'number') return v
  if (Array.isArray(v)) return v.join('·')
  return String(v)
}

interface Axis {
  name: string
  /** Categorical axes place their values evenly, in sorted order. */
  categories: string[] | null
  min: number
  max: number
  log: boolean
}

function axisOf(name: string, values: (number | string)[]): Axis {
  if (values.some((v) => typeof v === 'string')) {
    const categories = [...new Set(values.map(String))].sort()
    return { name, categories, min: 0, max: Math.max(1, categories.length - 1), log: false }
  }
  const nums = values as number[]
  const min = Math.min(...nums)
  const max = Math.max(...nums)
  // Rates spanning decades (log-uniform draws) are told apart only on a log axis.
  return { name, categories: null, min, max, log: min > 0 && max / min >= 100 }
}

/** 0 at the bottom of an axis, 1 at the top. */
function position(axis: Axis, v: number | string): number {
  if (axis.categories) {
    const i = axis.categories.indexOf(String(v))
    return axis.categories.length === 1 ? 0.5 : i / axis.max
  }
  const n = v as number
  if (axis.max === axis.min) return 0.5
  if (axis.log) return (Math.log(n) - Math.log(axis.min)) / (Math.log(axis.max) - Math.log(axis.min))
  return (n - axis.min) / (axis.max - axis.min)
}

function axisLabel(axis: Axis, at: 0 | 1): string {
  if (axis.categories) return at === 0 ? (axis.categories[0] ?? '') : (axis.categories.at(-1) ?? '')
  return fmt(at === 0 ? axis.min : axis.max)
}

/**
 * Parallel coordinates: one axis per swept hyperparameter plus the metric, one polyline per ended run
 * with a final metric; the best run drawn last and thick, early-stopped runs dashed. The same numbers
 * go into a visually hidden table (data attributes), for screen readers and for tests.
 */
function parallelCoordinates(sweep: SweepData, runs: SweepRun[], width: number): HTMLElement {
  const names = [...sweep.parameters.map((p) => p.name), sweep.metric]
  const lines = runs
    .filter((r) => TERMINAL.includes(r.status) && metricOf(r.summary, sweep.metric) !== null)
    .map((r) => ({
      run: r,
      values: names.map((n, i) =>
        i === names.length - 1 ? (metricOf(r.summary, sweep.metric) as number) : valueOf(r, n),
      ),
    }))
    .filter((l) => l.values.every((v) => v !== null)) as { run: SweepRun; values: (number | string)[] }[]
  // Wrapped: a table grows to its content whatever its width, a div clips it.
  const table = h(
    'div',
    { class: 'visually-hidden' },
    h(
      'table',
      { 'data-parallel': true },
      h('caption', {}, `Runs by ${names.join(', ')}`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Run'),
          names.map((n) => h('th', {}, n)),
        ),
      ),
      h(
        'tbody',
        {},
        lines.map((l) =>
          h(
            'tr',
            {
              'data-line': l.run.id,
              'data-best': l.run.id === sweep.bestRun?.id,
              'data-early-stopped': stoppedEarly(l.run),
            },
            h('th', {}, l.run.name),
            l.values.map((v, i) => h('td', { 'data-axis': names[i], 'data-value': v }, String(v))),
          ),
        ),
      ),
    ),
  )
  const box = h('figure', { class: 'parallel' })
  if (lines.length === 0) {
    box.append(notice('empty', 'Lines appear here as runs finish.'), table)
    return box
  }
  const axes = names.map((n, i) =>
    axisOf(
      n,
      lines.map((l) => l.values[i] as number | string),
    ),
  )
  const height = 280
  const canvas = h('canvas', {
    width,
    height,
    'data-lines': lines.length,
    role: 'img',
    'aria-label': `Parallel coordinates of ${lines.length} run(s): ${names.join(', ')}`,
  })
  const ctx = canvas.getContext('2d')
  if (ctx) {
    const pad = { left: 60, right: 60, top: 28, bottom: 28 }
    const x = (i: number) =>
      axes.length === 1 ? width / 2 : pad.left + (i * (width - pad.left - pad.right)) / (axes.length - 1)
    const y = (p: number) => pad.top + (1 - p) * (height - pad.top - pad.bottom)
    ctx.font = '12px system-ui, sans-serif'
    ctx.textAlign = 'center'
    axes.forEach((a, i) => {
      ctx.strokeStyle = '#888'
      ctx.lineWidth = 1
      ctx.setLineDash([])
      ctx.beginPath()
      ctx.moveTo(x(i), y(0))
      ctx.lineTo(x(i), y(1))
      ctx.stroke()
      ctx.fillStyle = '#222'
      ctx.fillText(a.name + (a.log ? ' (log)' : ''), x(i), 14)
      ctx.fillStyle = '#555'
      ctx.fillText(axisLabel(a, 1), x(i), y(1) - 4)
      ctx.fillText(axisLabel(a, 0), x(i), y(0) + 14)
    })
    const best = lines.filter((l) => l.run.id === sweep.bestRun?.id)
    const rest = lines.filter((l) => l.run.id !== sweep.bestRun?.id)
    for (const l of [...rest, ...best]) {
      const isBest = l.run.id === sweep.bestRun?.id
      ctx.strokeStyle = isBest ? '#d9480f' : stoppedEarly(l.run) ? '#999' : '#1c7ed6'
      ctx.globalAlpha = isBest ? 1 : 0.6
      ctx.lineWidth = isBest ? 3 : 1.5
      ctx.setLineDash(stoppedEarly(l.run) ? [4, 4] : [])
      ctx.beginPath()
      l.values.forEach((v, i) => {
        const px = x(i)
        const py = y(position(axes[i]!, v))
        if (i === 0) ctx.moveTo(px, py)
        else ctx.lineTo(px, py)
      })
      ctx.stroke()
    }
    ctx.globalAlpha = 1
  }
  box.append(
    canvas,
    h(
      'figcaption',
      { class: 'muted' },
      'One line per ended run; the best run is thick and orange, runs stopped early are dashed grey.',
    ),
    table,
  )
  return box
}

function runsTable(sweep: SweepData, runs: SweepRun[]): HTMLElement {
  const names = sweep.parameters.map((p) => p.name)
  const table = h(
    'table',
    { class: 'grid runs' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Run'),
        h('th', {}, 'Status'),
        h('th', {}, 'Epoch'),
        names.map((n) => h('th', {}, n)),
        h('th', {}, sweep.metric),
      ),
    ),
    h(
      'tbody',
      {},
      runs.map((r) =>
        h(
          'tr',
          {
            'data-run-id': r.id,
            'data-early-stopped': stoppedEarly(r),
            class: r.id === sweep.bestRun?.id ? 'best' : null,
          },
          h(
            'td',
            { 'data-col': 'name' },
            link(`/runs/${r.id}`, r.name),
            r.id === sweep.bestRun?.id ? h('strong', {}, ' ★ best') : null,
          ),
          h(
            'td',
            { 'data-col': 'status', title: r.error ?? null },
            stoppedEarly(r)
              ? h('span', { class: 'status s-early', 'data-status': r.status }, 'stopped early')
              : statusBadge(r.status),
          ),
          h('td', { class: 'num', 'data-col': 'epoch' }, `${r.lastEpoch}/${r.epochs}`),
          names.map((n) => {
            const v = valueOf(r, n)
            return h('td', { class: 'num', 'data-col': n }, typeof v === 'number' ? fmt(v) : (v ?? '–'))
          }),
          h('td', { class: 'num', 'data-col': 'metric' }, fmt(metricOf(r.summary, sweep.metric))),
        ),
      ),
    ),
  )
  return h('div', { class: 'table-wrap' }, table)
}

export const sweepView: View = (root, { client, params, canWrite }) => {
  const id = params['id'] ?? ''
  mount(root, notice('loading', 'Loading the sweep…'))
  const state = h('dl', { class: 'facts state' })
  const errorBox = h('div')
  const runsBox = h('div')
  const chartBox = h('div')
  const cancel = h('button', { type: 'button', class: 'danger' }, 'Cancel sweep')
  let sweep: SweepData | null = null
  let runs: SweepRun[] = []
  let unsubscribe: () => void = () => {}
  let offReconnect: () => void = () => {}
  let pending: ReturnType<typeof setTimeout> | undefined
  let left = false

  const fetchSweep = async (): Promise<SweepData | null> => {
    const first = await client.request<{ sweep: SweepData | null }>(SWEEP, { id, after: null })
    if (!first.sweep) return null
    const all = first.sweep.runs.edges.map((e) => e.node)
    let page = first.sweep.runs.pageInfo
    while (page.hasNextPage) {
      const next = await client.request<{ sweep: SweepData }>(SWEEP, { id, after: page.endCursor })
      all.push(...next.sweep.runs.edges.map((e) => e.node))
      page = next.sweep.runs.pageInfo
    }
    runs = all
    return first.sweep
  }

  const renderState = () => {
    if (!sweep) return
    mount(
      state,
      h('dt', {}, 'Status'),
      h('dd', { 'data-sweep-status': sweep.status }, statusBadge(sweep.status)),
      h('dt', {}, 'Progress'),
      h(
        'dd',
        { 'data-progress': true, 'data-finished': sweep.finishedCount, 'data-planned': sweep.runCap },
        progressBar(sweep),
        ' ',
        progressText(sweep),
        sweep.runCount > sweep.finishedCount ? ` (${sweep.runCount - sweep.finishedCount} going)` : '',
      ),
      h('dt', {}, 'Best run'),
      h('dd', { 'data-best-run': sweep.bestRun?.id ?? '' }, bestCell(sweep)),
      h('dt', {}, 'Metric'),
      h('dd', {}, `${sweep.metric}, ${sweep.goal.toLowerCase()}`),
      h('dt', {}, 'Method'),
      h('dd', {}, `${sweep.method.toLowerCase()}, ${sweep.maxConcurrent} at once, seed ${sweep.seed}`),
      h('dt', {}, 'Created'),
      h('dd', {}, when(sweep.createdAt)),
      h('dt', {}, 'Finished'),
      h('dd', {}, when(sweep.finishedAt)),
    )
    cancel.hidden = !canWrite || sweep.status !== 'RUNNING'
    mount(
      errorBox,
      sweep.error ? notice('error', `The sweep ${sweep.status.toLowerCase()}: ${sweep.error}`) : null,
    )
  }

  const renderRuns = () => {
    if (!sweep) return
    mount(
      runsBox,
      runs.length === 0
        ? notice('empty', 'No runs yet; the sweep starts them one by one.')
        : runsTable(sweep, runs),
    )
    drawnWidth = chartWidth()
    mount(chartBox, parallelCoordinates(sweep, runs, drawnWidth))
  }
  const chartWidth = () => Math.max(320, Math.min(1100, (root.clientWidth || 900) - 16))
  // A window resized: the lines are drawn again at the new width (the numbers stay).
  let drawnWidth = 0
  const resizer = new ResizeObserver(() => {
    if (Math.abs(chartWidth() - drawnWidth) > 40) renderRuns()
  })
  resizer.observe(root)

  const refresh = async () => {
    try {
      const data = await fetchSweep()
      if (left || !data) return
      sweep = data
      renderState()
      renderRuns()
    } catch (err) {
      mount(errorBox, notice('error', (err as LabError).message))
    }
  }
  /** Events come in bursts (a run ends, the next starts): one refetch for each burst. */
  const refreshSoon = () => {
    clearTimeout(pending)
    pending = setTimeout(() => void refresh(), 150)
  }

  const onEvent = (e: SweepEvent) => {
    if (!sweep) return
    if (e.__typename === 'RunProgress') {
      const run = runs.find((r) => r.id === e.runId)
      const cell = runsBox.querySelector(`tr[data-run-id="${e.runId}"] td[data-col="epoch"]`)
      if (run && cell) {
        run.lastEpoch = e.epoch
        cell.textContent = `${e.epoch}/${e.epochs}`
        return
      }
    }
    refreshSoon()
  }

  const load = async () => {
    try {
      const data = await fetchSweep()
      if (left) return
      if (!data) {
        mount(
          root,
          notice('empty', `There is no sweep with id ${id}.`),
          h('p', {}, link('/sweeps', '← Sweeps')),
        )
        return
      }
      sweep = data
      mount(
        root,
        h('p', {}, link('/sweeps', '← Sweeps')),
        h('h1', {}, `Sweep of ${sweep.experiment}`),
        h('div', { class: 'run-head' }, state, h('div', {}, cancel)),
        errorBox,
        h('h2', {}, 'Hyperparameters against the metric'),
        chartBox,
        h('h2', {}, 'Runs'),
        runsBox,
        h(
          'p',
          {},
          link(`/experiments/${encodeURIComponent(sweep.experiment)}`, 'All runs of the experiment →'),
        ),
      )
      renderState()
      renderRuns()
      if (sweep.status !== 'RUNNING') return
      unsubscribe = client.subscribe<{ sweepEvents: SweepEvent }>(EVENTS, () => ({ sweepId: id }), {
        next: (d) => onEvent(d.sweepEvents),
        error: (err) => mount(errorBox, notice('error', `Live updates stopped: ${err.message}`)),
        // The last event is the sweep's status; what it ended with is read once more.
        complete: () => void refresh(),
      })
      // Events of the gap are replayed by the server only for runs; the counts are read again.
      offReconnect = client.onReconnect(refreshSoon)
    } catch (err) {
      mount(root, notice('error', (err as LabError).message))
    }
  }

  cancel.addEventListener('click', () =>
    submitting(cancel, errorBox, async () => {
      const data = await client.request<{ cancelSweep: { status: string } }>(CANCEL, { id })
      if (sweep) sweep.status = data.cancelSweep.status
      renderState()
      refreshSoon()
    }),
  )

  void load()
  return () => {
    left = true
    clearTimeout(pending)
    resizer.disconnect()
    unsubscribe()
    offReconnect()
  }
}
