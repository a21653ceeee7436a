import type { View } from '../app'
import { h, link, mount, notice, when } from '../dom'
import { LabError } from '../gql'

const EXPERIMENTS = `query Experiments($first: Int, $after: String) {
  experiments(first: $first, after: $after) {
    totalCount
    pageInfo { endCursor hasNextPage }
    edges { node { id name createdAt runs(first: 1) { totalCount } } }
  }
}`

interface ExperimentsData {
  experiments: {
    totalCount: number
    pageInfo: { endCursor: string | null; hasNextPage: boolean }
    edges: { node: { id: string; name: string; createdAt: string; runs: { totalCount: number } } }[]
  }
}

export const experimentsView: View = (root, { client, canWrite }) => {
  mount(root, h('h1', {}, 'Experiments'), notice('loading', 'Loading experiments…'))
  let after: string | null = null
  const list = h('tbody')
  const more = h('button', { type: 'button', hidden: true }, 'Show more')
  const load = async () => {
    try {
      const data = await client.request<ExperimentsData>(EXPERIMENTS, { first: 50, after })
      const { edges, pageInfo, totalCount } = data.experiments
      if (after === null && totalCount === 0) {
        mount(
          root,
          h('h1', {}, 'Experiments'),
          notice('empty', 'No experiments yet. Start a run and its experiment appears here.'),
          canWrite ? h('p', {}, link('/new', 'Start your first run →')) : null,
        )
        return
      }
      if (after === null) {
        mount(
          root,
          h('h1', {}, 'Experiments'),
          h('p', { class: 'muted' }, `${totalCount} experiment${totalCount === 1 ? '' : 's'}, newest first`),
          h(
            'table',
            { class: 'grid' },
            h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Runs'), h('th', {}, 'Created'))),
            list,
          ),
          more,
        )
      }
      for (const { node } of edges) {
        list.append(
          h(
            'tr',
            { 'data-experiment': node.name },
            h('td', {}, link(`/experiments/${encodeURIComponent(node.name)}`, node.name)),
            h('td', { class: 'num' }, node.runs.totalCount),
            h('td', {}, when(node.createdAt)),
          ),
        )
      }
      after = pageInfo.endCursor
      more.hidden = !pageInfo.hasNextPage
    } catch (err) {
      mount(root, h('h1', {}, 'Experiments'), notice('error', (err as LabError).message))
    }
  }
  more.addEventListener('click', () => void load())
  void load()
}
