import type { View } from '../app'
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
    id name version task rowCount featureNames targetName factorNames imageShape contentHash createdAt
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
interface DatasetDetail extends DatasetRow {
  targetName: string | null
  factorNames: string[]
  imageShape: number[] | null
  contentHash: string
  featureStats: { name: string; min: number; max: number; mean: number; std: number }[]
}

export const datasetsView: View = (root, { client }) => {
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
            'No datasets yet. Create one with generateDataset, createDataset or importCsvDataset.',
          ),
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

export const datasetView: View = (root, { client, params }) => {
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
        h('h2', {}, 'Feature statistics'),
        h(
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
        ),
        h(
          'p',
          { class: 'muted' },
          'A preview of rows needs a rows field on Dataset, which the API does not have yet.',
        ),
      )
    } catch (err) {
      mount(root, notice('error', (err as LabError).message))
    }
  })()
}
