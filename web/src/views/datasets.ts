import type { View, ViewContext } from '../app'
import { fmt, h, link, mount, notice, when } from '../dom'
import { LabError } from '../gql'

const DATASETS = `query Datasets($first: Int, $after: String) {
  datasets(first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node { id name version task rowCount featureNames createdAt } }
  }
}`

const DATASET = `query Dataset($id: ID!) {
  dataset(id: $id) {
    id name version kind task rowCount featureNames targetName factorNames imageShape contentHash createdAt
    featureStats { name min max mean std }
  }
}`

interface DatasetRow {
  id: string
  name: string
  version: number
  task: string
  rowCount: number
  featureNames: string[]
  createdAt: string
}
const PREVIEW = `query DatasetPreview($id: ID!, $first: Int, $offset: Int) {
  dataset(id: $id) { preview(first: $first, offset: $offset) { index features target factors } }
}`

interface PreviewRow {
  index: number
  features: number[]
  target: number | null
  factors: number[]
}

interface DatasetDetail extends DatasetRow {
  kind: string
  targetName: string | null
  factorNames: string[]
  imageShape: number[] | null
  contentHash: string
  featureStats: { name: string; min: number; max: number; mean: number; std: number }[]
}

export const datasetsView: View = (root, { client, canWrite }) => {
  mount(root, h('h1', {}, 'Datasets'), notice('loading', 'Loading datasets…'))
  const rows: DatasetRow[] = []
  const load = async () => {
    try {
      let after: string | null = null
      // Grouped by name, every version listed: pages of 100 until the end (datasets are few).
      for (;;) {
        const data: {
          datasets: {
            edges: { node: DatasetRow }[]
            pageInfo: { endCursor: string | null; hasNextPage: boolean }
          }
        } = await client.request(DATASETS, { first: 100, after })
        rows.push(...data.datasets.edges.map((e) => e.node))
        if (!data.datasets.pageInfo.hasNextPage || rows.length >= 1000) break
        after = data.datasets.pageInfo.endCursor
      }
      if (rows.length === 0) {
        mount(
          root,
          h('h1', {}, 'Datasets'),
          notice(
            'empty',
            'No datasets yet. Generate one on the New run page, or create one with createDataset or importCsvDataset.',
          ),
          canWrite ? h('p', {}, link('/new', 'Generate a dataset and train on it →')) : null,
        )
        return
      }
      const byName = new Map<string, DatasetRow[]>()
      for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r])
      mount(
        root,
        h('h1', {}, 'Datasets'),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'Name'),
                h('th', {}, 'Task'),
                h('th', {}, 'Versions'),
                h('th', { class: 'num' }, 'Rows (latest)'),
                h('th', { class: 'num' }, 'Features'),
                h('th', {}, 'Latest'),
              ),
            ),
            h(
              'tbody',
              {},
              ...[...byName.entries()].map(([name, versions]) => {
                const latest = versions.reduce((a, b) => (b.version > a.version ? b : a))
                return h(
                  'tr',
                  { 'data-dataset': name },
                  h('td', {}, link(`/datasets/${latest.id}`, name)),
                  h('td', {}, latest.task.toLowerCase().replace(/_/g, ' ')),
                  h(
                    'td',
                    {},
                    ...versions
                      .sort((a, b) => b.version - a.version)
                      .flatMap((v, i) => [i > 0 ? ' ' : '', link(`/datasets/${v.id}`, `v${v.version}`)]),
                  ),
                  h('td', { class: 'num' }, latest.rowCount),
                  h('td', { class: 'num' }, latest.featureNames.length),
                  h('td', {}, when(latest.createdAt)),
                )
              }),
            ),
          ),
        ),
      )
    } catch (err) {
      mount(root, h('h1', {}, 'Datasets'), notice('error', (err as LabError).message))
    }
  }
  void load()
}

export const datasetView: View = (root, { client, params, canWrite }) => {
  const id = params['id'] ?? ''
  mount(root, notice('loading', 'Loading the dataset…'))
  void (async () => {
    try {
      const { dataset: d } = await client.request<{ dataset: DatasetDetail | null }>(DATASET, { id })
      if (!d) {
        mount(
          root,
          notice('empty', `There is no dataset with id ${id}.`),
          h('p', {}, link('/datasets', '← Datasets')),
        )
        return
      }
      mount(
        root,
        h('p', {}, link('/datasets', '← Datasets')),
        h('h1', {}, `${d.name} v${d.version}`),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Task'),
          h('dd', {}, d.task.toLowerCase().replace(/_/g, ' ')),
          h('dt', {}, 'Rows'),
          h('dd', {}, d.rowCount),
          h('dt', {}, 'Target'),
          h('dd', {}, d.targetName ?? 'none'),
          h('dt', {}, 'Image'),
          h('dd', {}, d.imageShape ? d.imageShape.join(' × ') : 'no'),
          h('dt', {}, 'Known factors'),
          h('dd', {}, d.factorNames.length > 0 ? d.factorNames.join(', ') : 'none'),
          h('dt', {}, 'Created'),
          h('dd', {}, when(d.createdAt)),
          h('dt', {}, 'Content hash'),
          h('dd', {}, h('code', {}, d.contentHash.slice(0, 16))),
        ),
        canWrite
          ? h('p', {}, link(`/new?dataset=${encodeURIComponent(d.id)}`, 'Train a model on this version →'))
          : null,
        h('h2', {}, d.imageShape ? 'Images' : 'Rows'),
        d.kind === 'TEXT'
          ? notice('empty', 'A text corpus has no table rows to show.')
          : d.rowCount === 0
            ? notice('empty', 'This dataset has no rows.')
            : rowPreview(client, d),
        featureStatsTable(d),
      )
    } catch (err) {
      mount(root, notice('error', (err as LabError).message))
    }
  })()
}

/** Many features (the pixels of an image): the statistics fold away, so the rows come first. */
const FOLDED_STATS = 24

function featureStatsTable(d: DatasetDetail): HTMLElement[] {
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid', 'data-feature-stats': true },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Feature', 'Min', 'Mean', 'Max', 'Std'].map((c, i) =>
            h('th', { class: i > 0 ? 'num' : '' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...d.featureStats.map((s) =>
          h(
            'tr',
            {},
            h('td', {}, s.name),
            ...[s.min, s.mean, s.max, s.std].map((v) => h('td', { class: 'num' }, fmt(v))),
          ),
        ),
      ),
    ),
  )
  if (d.featureStats.length <= FOLDED_STATS) return [h('h2', {}, 'Feature statistics'), table]
  return [
    h(
      'details',
      { class: 'stats' },
      h('summary', {}, `Feature statistics (${d.featureStats.length} features)`),
      table,
    ),
  ]
}

/** A grey-scale image of one row's pixels (values in [0, 1], row-major), drawn at its own size. */
function image(row: PreviewRow, [height, width]: [number, number]): HTMLCanvasElement {
  const canvas = h('canvas', { width, height, class: 'sprite', 'data-row': row.index })
  const ctx = canvas.getContext('2d')
  if (!ctx) return canvas
  const pixels = ctx.createImageData(width, height)
  row.features.forEach((v, i) => {
    const grey = Math.round(255 * Math.min(1, Math.max(0, v)))
    pixels.data.set([grey, grey, grey, 255], i * 4)
  })
  ctx.putImageData(pixels, 0, 0)
  return canvas
}

function rowTable(d: DatasetDetail, rows: PreviewRow[]): HTMLElement {
  const headers = ['#', ...d.featureNames, ...(d.targetName ? [d.targetName] : []), ...d.factorNames]
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid', 'data-preview': true },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...headers.map((c, i) =>
            h('th', { class: 'num', scope: 'col' }, i > d.featureNames.length ? h('em', {}, c) : c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...rows.map((r) =>
          h(
            'tr',
            { 'data-row': r.index },
            h('th', { class: 'num', scope: 'row' }, r.index),
            ...[...r.features, ...(d.targetName ? [r.target] : []), ...r.factors].map((v) =>
              h('td', { class: 'num', 'data-value': v ?? '' }, fmt(v)),
            ),
          ),
        ),
      ),
    ),
  )
}

function imageGrid(d: DatasetDetail, shape: [number, number], rows: PreviewRow[]): HTMLElement {
  return h(
    'div',
    { class: 'images', 'data-preview': true },
    ...rows.map((r) =>
      h(
        'figure',
        { class: 'image' },
        image(r, shape),
        h(
          'figcaption',
          {},
          `#${r.index}`,
          d.factorNames.length > 0 ? h('br') : null,
          d.factorNames.map((f, i) => `${f} ${fmt(r.factors[i])}`).join(' · '),
        ),
      ),
    ),
  )
}

/** The stored rows a page at a time (`Dataset.preview`): a table, or the images of an image dataset. */
function rowPreview(client: ViewContext['client'], d: DatasetDetail): HTMLElement {
  const shape =
    d.imageShape && d.imageShape.length === 2
      ? ([d.imageShape[0], d.imageShape[1]] as [number, number])
      : null
  const size = shape ? 24 : 20
  let offset = 0
  const body = h('div', { 'aria-live': 'polite' })
  const caption = h('span', { class: 'muted' })
  const prev = h('button', { type: 'button' }, '← Previous rows')
  const next = h('button', { type: 'button' }, 'Next rows →')
  const load = async () => {
    prev.disabled = true
    next.disabled = true
    try {
      const { dataset } = await client.request<{ dataset: { preview: PreviewRow[] } | null }>(PREVIEW, {
        id: d.id,
        first: size,
        offset,
      })
      const rows = dataset?.preview ?? []
      caption.textContent =
        rows.length === 0 ? 'No rows here.' : `Rows ${offset + 1} to ${offset + rows.length} of ${d.rowCount}`
      mount(body, shape ? imageGrid(d, shape, rows) : rowTable(d, rows))
      prev.disabled = offset === 0
      next.disabled = offset + size >= d.rowCount
    } catch (err) {
      mount(body, notice('error', `The rows could not be loaded: ${(err as LabError).message}`))
      prev.disabled = offset === 0
      next.disabled = false
    }
  }
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - size)
    void load()
  })
  next.addEventListener('click', () => {
    offset += size
    void load()
  })
  void load()
  return h(
    'section',
    { 'data-rows': true },
    h('nav', { class: 'pager', 'aria-label': 'Rows' }, prev, next, caption),
    body,
  )
}
