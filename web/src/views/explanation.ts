import { fmt, h, mount, notice } from '../dom'
import type { LabClient } from '../gql'
import { LabError } from '../gql'
import { renderTextExplanation } from './text'
import { renderVaeExplanation } from './vae'

const EXPLANATION = `query Explanation($id: ID!) {
  run(id: $id) {
    family
    explanation {
      methods evaluationRows computeMs
      featureImportance { feature importance method std }
      checks { method maxGap meanGap }
      linearSurrogate { fidelityR2 intercept coefficients { feature weight standardizedWeight } }
      surrogateNetwork { fidelityR2 agreement hiddenLayers }
    }
  }
}`

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
}

/** Below this share of the attributions' total the completeness (or efficiency) gap counts as passed. */
const GAP_SHARE = 0.05

const label = (method: string) => method.toLowerCase().replace(/_/g, ' ')

function bars(
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
        { class: 'bar-row' },
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

/** The MLP explanation: importance bars per method with their check badge, and the surrogates. */
export async function renderExplanation(box: HTMLElement, client: LabClient, runId: string): Promise<void> {
  try {
    const { run } = await client.request<{
      run: { family: string; explanation: ExplanationData | null } | null
    }>(EXPLANATION, { id: runId })
    // The text view's prompt box works whether or not the run stored an explanation.
    if (run?.family === 'SEQUENCE') return renderTextExplanation(box, client, runId)
    const e = run?.explanation
    if (run?.family === 'VAE' && e) return renderVaeExplanation(box, client, runId)
    if (!run || !e) {
      mount(
        box,
        h('h2', {}, 'Explanation'),
        notice(
          'empty',
          'This run has no explanation: none was computed (it may have been started with explain: []).',
        ),
      )
      return
    }
    if (run.family !== 'MLP') {
      mount(
        box,
        h('h2', {}, 'Explanation'),
        notice('empty', `The ${run.family} explanation view is not in the page yet; query Run.explanation.`),
      )
      return
    }
    const methods = [...new Set(e.featureImportance.map((f) => f.method))]
    const ls = e.linearSurrogate
    mount(
      box,
      h('h2', {}, 'Explanation'),
      h('p', { class: 'muted' }, `${e.evaluationRows} held-out rows · ${fmt(e.computeMs / 1000, 3)} s`),
      h(
        'div',
        { class: 'charts' },
        ...methods.map((m) =>
          bars(
            m,
            e.featureImportance.filter((f) => f.method === m),
            e.checks.find((c) => c.method === m),
          ),
        ),
      ),
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
    )
    // Widths set through the CSSOM: the CSP forbids inline style attributes.
    for (const bar of box.querySelectorAll<HTMLElement>('.bar[data-width]'))
      bar.style.width = `${bar.dataset['width']}%`
  } catch (err) {
    mount(box, h('h2', {}, 'Explanation'), notice('error', (err as LabError).message))
  }
}
