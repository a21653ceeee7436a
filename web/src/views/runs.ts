import { compareHref, MAX_COMPARED, type View } from '../app'
import { fmt, h, link, mount, notice, when } from '../dom'
import { LabError } from '../gql'

const RUNS = `query Runs($filter: RunFilter, $orderBy: [RunOrder!], $first: Int, $after: String) {
  runs(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node {
      id name status family createdAt lastEpoch epochs learningRate batchSize optimizer seed
      summary { finalLoss finalValLoss bestValLoss finalValAccuracy }
    } }
  }
}`

const EVENTS = `subscription ExperimentEvents($experiment: String!) {
  experimentEvents(experiment: $experiment) {
    __typename
    ... on RunCreated { run { id } }
    ... on RunProgress { runId epoch epochs loss valLoss }
    ... on RunStatusChanged { runId status }
  }
}`

interface RunRow {
  id: string
  name: string
  status: string
  family: string
  createdAt: string
  lastEpoch: number
  epochs: number
  learningRate: number
  batchSize: number
  optimizer: string
  seed: number
  summary: {
    finalLoss: number | null
    finalValLoss: number | null
    bestValLoss: number | null
    finalValAccuracy: number | null
  }
}
interface RunsData {
  runs: {
    totalCount: number
    pageInfo: { endCursor: string | null; hasNextPage: boolean }
    edges: { node: RunRow }[]
  }
}
type ExperimentEvent =
  | { __typename: 'RunCreated'; run: { id: string } }
  | { __typename: 'RunProgress'; runId: string; epoch: number; epochs: number }
  | { __typename: 'RunStatusChanged'; runId: string; status: string }

interface Column {
  key: string
  label: string
  /** RunOrderField. */
  order: string
  num?: boolean
  cell(r: RunRow): Node | string
}

const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', order: 'NAME', cell: (r) => link(`/runs/${r.id}`, r.name) },
  { key: 'status', label: 'Status', order: 'STATUS', cell: (r) => statusBadge(r.status) },
  { key: 'epoch', label: 'Epoch', order: 'LAST_EPOCH', num: true, cell: (r) => `${r.lastEpoch}/${r.epochs}` },
  {
    key: 'learningRate',
    label: 'Learning rate',
    order: 'LEARNING_RATE',
    num: true,
    cell: (r) => fmt(r.learningRate),
  },
  { key: 'batchSize', label: 'Batch', order: 'BATCH_SIZE', num: true, cell: (r) => String(r.batchSize) },
  { key: 'seed', label: 'Seed', order: 'SEED', num: true, cell: (r) => String(r.seed) },
  { key: 'finalLoss', label: 'Loss', order: 'FINAL_LOSS', num: true, cell: (r) => fmt(r.summary.finalLoss) },
  {
    key: 'finalValLoss',
    label: 'Val loss',
    order: 'FINAL_VAL_LOSS',
    num: true,
    cell: (r) => fmt(r.summary.finalValLoss),
  },
  {
    key: 'bestValLoss',
    label: 'Best val loss',
    order: 'BEST_VAL_LOSS',
    num: true,
    cell: (r) => fmt(r.summary.bestValLoss),
  },
  {
    key: 'finalValAccuracy',
    label: 'Val accuracy',
    order: 'FINAL_VAL_ACCURACY',
    num: true,
    cell: (r) => fmt(r.summary.finalValAccuracy),
  },
  { key: 'createdAt', label: 'Created', order: 'CREATED_AT', cell: (r) => when(r.createdAt) },
]

const STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']
const PAGE = 25

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status s-${status.toLowerCase()}`, 'data-status': status }, status.toLowerCase())
}

function numberOrNull(value: FormDataEntryValue | null): number | null {
  if (typeof value !== 'string' || value.trim() === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/** The form's values as a RunFilter of the schema. */
function filterOf(experiment: string, form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form)
  const filter: Record<string, unknown> = { experiment }
  const name = String(data.get('nameContains') ?? '').trim()
  if (name) filter['nameContains'] = name
  const status = data.getAll('status').map(String)
  if (status.length > 0) filter['status'] = status
  const family = String(data.get('family') ?? '')
  if (family) filter['family'] = [family]
  const optimizer = String(data.get('optimizer') ?? '')
  if (optimizer) filter['optimizer'] = [optimizer]
  const lrMin = numberOrNull(data.get('lrMin'))
  const lrMax = numberOrNull(data.get('lrMax'))
  if (lrMin !== null || lrMax !== null)
    filter['learningRate'] = {
      ...(lrMin !== null ? { min: lrMin } : {}),
      ...(lrMax !== null ? { max: lrMax } : {}),
    }
  const vlMax = numberOrNull(data.get('valLossMax'))
  if (vlMax !== null) filter['finalValLoss'] = { max: vlMax }
  const since = String(data.get('createdFrom') ?? '')
  if (since) filter['createdAt'] = { from: new Date(since).toISOString() }
  return filter
}

function filterForm(onApply: () => void): HTMLFormElement {
  const select = (name: string, label: string, values: string[]) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name },
        h('option', { value: '' }, 'any'),
        ...values.map((v) => h('option', { value: v }, v)),
      ),
    )
  const input = (name: string, label: string, type: string, extra: Record<string, string> = {}) =>
    h('label', {}, label, h('input', { name, type, ...extra }))
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter runs' },
    input('nameContains', 'Name contains', 'search'),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Status'),
      ...STATUSES.map((s) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', name: 'status', value: s }),
          s.toLowerCase(),
        ),
      ),
    ),
    select('family', 'Family', ['MLP', 'VAE']),
    select('optimizer', 'Optimizer', ['ADAM', 'RMSPROP', 'SGD']),
    input('lrMin', 'Learning rate ≥', 'number', { step: 'any', min: '0' }),
    input('lrMax', 'Learning rate ≤', 'number', { step: 'any', min: '0' }),
    input('valLossMax', 'Val loss ≤', 'number', { step: 'any' }),
    input('createdFrom', 'Created since', 'datetime-local'),
    h('button', { type: 'submit' }, 'Apply'),
    h('button', { type: 'reset' }, 'Clear'),
  )
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    onApply()
  })
  form.addEventListener('reset', () => setTimeout(onApply))
  return form
}

export const runsView: View = (root, { client, params, navigate }) => {
  const experiment = params['name'] ?? ''
  // Runs ticked for comparison, by id (with their names for the bar): kept across pages, sorts and reloads.
  const selected = new Map<string, string>()
  let order: { field: string; direction: 'ASC' | 'DESC' } = { field: 'CREATED_AT', direction: 'DESC' }
  // Keyset paging: the cursors of the pages before this one.
  let cursors: (string | null)[] = [null]
  let page: RunsData['runs'] | null = null
  const form = filterForm(() => {
    cursors = [null]
    void load()
  })
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' })
  const table = h('div', { class: 'table-wrap' })
  const prev = h('button', { type: 'button' }, '← Previous')
  const next = h('button', { type: 'button' }, 'Next →')
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, next)
  const live = h('p', { class: 'live muted', hidden: true })
  const chosen = h('span', { 'aria-live': 'polite', 'data-selected': 0 })
  const compare = h('button', { type: 'button', disabled: true }, 'Compare')
  const clearSelection = h('button', { type: 'button', class: 'link', hidden: true }, 'Clear selection')
  const selectionBar = h('div', { class: 'selection' }, chosen, compare, clearSelection)
  mount(
    root,
    h('p', {}, link('/', '← Experiments')),
    h('h1', {}, experiment),
    form,
    summary,
    live,
    selectionBar,
    table,
    pager,
  )

  const renderSelection = () => {
    const n = selected.size
    chosen.setAttribute('data-selected', String(n))
    chosen.textContent =
      n === 0
        ? `Tick 2 to ${MAX_COMPARED} runs to compare them.`
        : `${n} selected: ${[...selected.values()].join(', ')}${n < 2 ? ' · tick one more to compare' : ''}`
    compare.disabled = n < 2 || n > MAX_COMPARED
    clearSelection.hidden = n === 0
    for (const box of table.querySelectorAll<HTMLInputElement>('input[data-select]'))
      box.disabled = !box.checked && n >= MAX_COMPARED
  }
  compare.addEventListener('click', () => navigate(compareHref([...selected.keys()])))
  clearSelection.addEventListener('click', () => {
    selected.clear()
    for (const box of table.querySelectorAll<HTMLInputElement>('input[data-select]')) box.checked = false
    renderSelection()
  })
  const selectBox = (r: RunRow) => {
    const box = h('input', {
      type: 'checkbox',
      'data-select': r.id,
      'aria-label': `Compare ${r.name}`,
      checked: selected.has(r.id),
    })
    box.addEventListener('change', () => {
      if (box.checked) selected.set(r.id, r.name)
      else selected.delete(r.id)
      renderSelection()
    })
    return box
  }
  renderSelection()

  const header = () =>
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'pick' }, h('span', { class: 'visually-hidden' }, 'Compare')),
        ...COLUMNS.map((c) => {
          const active = order.field === c.order
          const button = h(
            'button',
            { type: 'button', class: 'sort', 'data-sort': c.order },
            c.label,
            active ? (order.direction === 'ASC' ? ' ▲' : ' ▼') : '',
          )
          button.addEventListener('click', () => {
            order = { field: c.order, direction: active && order.direction === 'DESC' ? 'ASC' : 'DESC' }
            cursors = [null]
            void load()
          })
          return h(
            'th',
            {
              class: c.num ? 'num' : '',
              'aria-sort': active ? (order.direction === 'ASC' ? 'ascending' : 'descending') : 'none',
            },
            button,
          )
        }),
      ),
    )

  const row = (r: RunRow) =>
    h(
      'tr',
      { 'data-run-id': r.id },
      h('td', { class: 'pick' }, selectBox(r)),
      ...COLUMNS.map((c) => h('td', { class: c.num ? 'num' : '', 'data-col': c.key }, c.cell(r))),
    )

  let loading = 0
  async function load() {
    const ticket = ++loading
    try {
      const data = await client.request<RunsData>(RUNS, {
        filter: filterOf(experiment, form),
        orderBy: [order],
        first: PAGE,
        after: cursors[cursors.length - 1] ?? null,
      })
      if (ticket !== loading) return
      page = data.runs
      live.hidden = true
      const index = cursors.length - 1
      summary.textContent =
        page.totalCount === 0
          ? ''
          : `${page.totalCount} run${page.totalCount === 1 ? '' : 's'} · page ${index + 1} of ${Math.max(1, Math.ceil(page.totalCount / PAGE))}`
      if (page.edges.length === 0) {
        mount(
          table,
          notice('empty', 'No runs match these filters. Clear them to see every run of this experiment.'),
        )
      } else {
        mount(
          table,
          h('table', { class: 'grid runs' }, header(), h('tbody', {}, ...page.edges.map((e) => row(e.node)))),
        )
      }
      renderSelection()
      prev.disabled = index === 0
      next.disabled = !page.pageInfo.hasNextPage
    } catch (err) {
      if (ticket !== loading) return
      mount(table, notice('error', (err as LabError).message))
    }
  }
  prev.addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop()
    void load()
  })
  next.addEventListener('click', () => {
    if (!page?.pageInfo.endCursor) return
    cursors.push(page.pageInfo.endCursor)
    void load()
  })

  // New runs: reload the first page (the filters and the order decide where they land); a later page says so.
  let reloadTimer: ReturnType<typeof setTimeout> | undefined
  let newRuns = 0
  const onEvent = (e: ExperimentEvent) => {
    switch (e.__typename) {
      case 'RunCreated':
        if (cursors.length === 1) {
          clearTimeout(reloadTimer)
          reloadTimer = setTimeout(() => void load(), 200)
        } else {
          newRuns += 1
          live.hidden = false
          live.textContent = `${newRuns} new run${newRuns === 1 ? '' : 's'} since this page loaded; go to the first page to see them.`
        }
        return
      case 'RunProgress': {
        const cell = table.querySelector(`tr[data-run-id="${CSS.escape(e.runId)}"] td[data-col="epoch"]`)
        if (cell) cell.textContent = `${e.epoch}/${e.epochs}`
        return
      }
      case 'RunStatusChanged': {
        const cell = table.querySelector(`tr[data-run-id="${CSS.escape(e.runId)}"] td[data-col="status"]`)
        if (cell) mount(cell, statusBadge(e.status))
        // A finished run has its summary metrics now: reload the page for them (and for the order).
        if (cell && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.status)) {
          clearTimeout(reloadTimer)
          reloadTimer = setTimeout(() => void load(), 200)
        }
        return
      }
    }
  }
  const unsubscribe = client.subscribe<{ experimentEvents: ExperimentEvent }>(
    EVENTS,
    () => ({ experiment }),
    {
      next: (d) => onEvent(d.experimentEvents),
      error: (err) => {
        live.hidden = false
        live.textContent = `Live updates stopped: ${err.message}`
      },
    },
  )
  // Events sent while the socket was down are gone: reload what the page shows.
  const offReconnect = client.onReconnect(() => void load())
  void load()
  return () => {
    clearTimeout(reloadTimer)
    unsubscribe()
    offReconnect()
  }
}
