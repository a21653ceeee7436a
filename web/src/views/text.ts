// The text generator's view: a prompt box whose generation streams in, each character shaded by its
// probability; "why": explainGeneration's attributions as a target x source heatmap, and hovering (or
// focusing) a generated character lights up its context.
import { dataTable, fmt, h, mount, notice } from '../dom'
import type { LabClient } from '../gql'
import { LabError } from '../gql'

const TEXT_RUN = `query TextRun($id: ID!) {
  run(id: $id) {
    family contextLength dataset { vocabulary }
    explanation {
      computeMs
      distanceProfile { method distances meanAbsAttribution peakDistance peakShare windows maxGap }
      nextCharacterSurrogates { kind order top1Agreement meanKl evaluationWindows backoffShare }
      textSamples { prompt temperature text reference meanProbability }
    }
  }
}`

interface TextRunExplanation {
  computeMs: number
  distanceProfile:
    | {
        method: string
        distances: number[]
        meanAbsAttribution: number[]
        peakDistance: number
        peakShare: number
        windows: number
        maxGap: number
      }[]
    | null
  nextCharacterSurrogates:
    | {
        kind: string
        order: number | null
        top1Agreement: number
        meanKl: number
        evaluationWindows: number
        backoffShare: number | null
      }[]
    | null
  textSamples:
    { prompt: string; temperature: number; text: string; reference: string; meanProbability: number }[] | null
}

const GENERATION_EVENTS = `subscription Generate($runId: ID!, $prompt: String!, $maxTokens: Int, $temperature: Float, $seed: Int) {
  generationEvents(runId: $runId, prompt: $prompt, maxTokens: $maxTokens, temperature: $temperature, seed: $seed) {
    token probability entropy alternatives { token probability }
  }
}`

const EXPLAIN_GENERATION = `query ExplainGeneration($runId: ID!, $prompt: String!, $maxTokens: Int, $temperature: Float, $seed: Int, $methods: [TokenAttributionMethod!]) {
  explainGeneration(runId: $runId, prompt: $prompt, maxTokens: $maxTokens, temperature: $temperature, seed: $seed, methods: $methods) {
    sourceTokens targetTokens baseline
    stepScores { probability entropy }
    attributions { method target source value }
    checks { method maxGap meanGap maxStdError minFidelityR2 maxSteps }
  }
}`

interface Token {
  token: string
  probability: number
  entropy: number
  alternatives: { token: string; probability: number }[]
}

interface GenerationExplanation {
  sourceTokens: string[]
  targetTokens: string[]
  baseline: string
  stepScores: { probability: number; entropy: number }[]
  attributions: { method: string; target: number; source: number; value: number }[]
  checks: {
    method: string
    maxGap: number
    meanGap: number
    maxStdError: number | null
    minFidelityR2: number | null
    maxSteps: number | null
  }[]
}

const METHODS = ['INTEGRATED_GRADIENTS', 'OCCLUSION', 'SHAPLEY', 'LINEAR_SURROGATE']
const label = (method: string) => method.toLowerCase().replace(/_/g, ' ')
/** A character as shown: spaces and line breaks made visible. */
const shown = (c: string) => (c === ' ' ? '␣' : c === '\n' ? '↵' : c)

/** Background of a character by a share in [0, 1] (CSSOM: the CSP forbids style attributes). */
function shade(el: HTMLElement, share: number, hue: 'blue' | 'red' | 'amber'): void {
  const rgb = hue === 'blue' ? '37, 99, 235' : hue === 'red' ? '220, 38, 38' : '217, 119, 6'
  el.style.backgroundColor = share > 0 ? `rgba(${rgb}, ${Math.min(1, share) * 0.7})` : ''
}

/** Prompt box, streamed generation and its explanation for a SEQUENCE run. */
export async function renderTextExplanation(
  box: HTMLElement,
  client: LabClient,
  runId: string,
): Promise<() => void> {
  let run: {
    contextLength: number | null
    dataset: { vocabulary: string[] | null }
    explanation: TextRunExplanation | null
  } | null
  try {
    run = (await client.request<{ run: typeof run }>(TEXT_RUN, { id: runId })).run
  } catch (err) {
    mount(box, h('h2', {}, 'Generate'), notice('error', (err as LabError).message))
    return () => {}
  }
  const vocabulary = run?.dataset.vocabulary ?? []
  const promptInput = h('input', {
    id: 'gen-prompt',
    name: 'prompt',
    required: true,
    value: vocabulary.slice(0, 3).join(''),
    autocomplete: 'off',
    spellcheck: false,
  })
  const maxTokens = h('input', { id: 'gen-max', name: 'maxTokens', type: 'number', min: 1, value: 40 })
  const temperature = h('input', {
    id: 'gen-temperature',
    name: 'temperature',
    type: 'number',
    min: 0,
    max: 10,
    step: 0.1,
    value: 0,
  })
  const seed = h('input', { id: 'gen-seed', name: 'seed', type: 'number', value: 1 })
  const output = h('p', { class: 'generated', 'data-generated': true, 'aria-live': 'polite' })
  const status = h('p', { class: 'muted', 'data-gen-status': 'idle' })
  const detail = h('p', { class: 'muted token-detail' })
  const methodSelect = h(
    'select',
    { id: 'explain-method' },
    ...METHODS.map((m) => h('option', { value: m }, label(m))),
  )
  const explainButton = h('button', { type: 'button', disabled: true }, 'Explain this generation')
  const why = h('section', { 'data-why': true })
  let stop: () => void = () => {}
  let tokens: Token[] = []
  let prompt = ''
  // The arguments of the generation shown: explaining it generates it again (same seed, same text), which
  // also works when the text holds the unknown symbol a target could not be given as.
  let generated: { temperature: number; seed: number } = { temperature: 0, seed: 1 }

  const drawText = () => {
    mount(
      output,
      [...prompt].map((c, i) => h('span', { class: 'src prompt', 'data-source': i }, shown(c))),
      tokens.map((tk, t) =>
        h(
          'span',
          {
            class: 'src gen',
            tabindex: 0,
            'data-source': prompt.length + t,
            'data-target': t,
            'data-probability': tk.probability,
            title: `p = ${fmt(tk.probability, 3)} · entropy ${fmt(tk.entropy, 3)} nats · next likely: ${tk.alternatives
              .map((a) => `${shown(a.token)} ${fmt(a.probability, 2)}`)
              .join(', ')}`,
          },
          shown(tk.token),
        ),
      ),
    )
    // Unlikely characters stand out: the shade is 1 - p.
    for (const el of output.querySelectorAll<HTMLElement>('span.gen')) {
      shade(el, 1 - Number(el.dataset['probability']), 'amber')
    }
  }

  const generate = (ev: Event) => {
    ev.preventDefault()
    stop()
    prompt = promptInput.value
    const variables = {
      runId,
      prompt,
      maxTokens: Number(maxTokens.value),
      temperature: Number(temperature.value),
      seed: Number(seed.value),
    }
    generated = { temperature: variables.temperature, seed: variables.seed }
    explainButton.disabled = true
    mount(why)
    status.setAttribute('data-gen-status', 'streaming')
    status.textContent = 'Generating…'
    stop = client.subscribe<{ generationEvents: Token }>(
      GENERATION_EVENTS,
      () => {
        // Subscribed again after a reconnect: the same seed gives the same text, so start it over.
        tokens = []
        drawText()
        return variables
      },
      {
        next: ({ generationEvents }) => {
          tokens.push(generationEvents)
          drawText()
          status.textContent = `Generating… ${tokens.length} characters`
        },
        error: (err) => {
          status.setAttribute('data-gen-status', 'error')
          mount(status, notice('error', err.message))
        },
        complete: () => {
          status.setAttribute('data-gen-status', 'done')
          const mean = tokens.reduce((s, tk) => s + tk.probability, 0) / Math.max(1, tokens.length)
          status.textContent = `${tokens.length} characters, mean probability ${fmt(mean, 3)}. Hover or focus a generated character for its alternatives; explain to see what it looked at.`
          explainButton.disabled = tokens.length === 0
        },
      },
    )
  }

  explainButton.addEventListener('click', async () => {
    explainButton.disabled = true
    mount(why, notice('loading', 'Attributing each character to its context…'))
    try {
      const { explainGeneration } = await client.request<{ explainGeneration: GenerationExplanation }>(
        EXPLAIN_GENERATION,
        { runId, prompt, maxTokens: tokens.length, ...generated, methods: [methodSelect.value] },
      )
      renderWhy(why, output, detail, explainGeneration, methodSelect.value)
    } catch (err) {
      mount(why, notice('error', (err as LabError).message))
    } finally {
      explainButton.disabled = false
    }
  })

  mount(
    box,
    h('h2', {}, 'Generate'),
    h(
      'form',
      { class: 'controls generate', onsubmit: generate },
      h('label', { for: 'gen-prompt' }, 'Prompt '),
      promptInput,
      h('label', { for: 'gen-max' }, ' characters '),
      maxTokens,
      h('label', { for: 'gen-temperature' }, ' temperature '),
      temperature,
      h('label', { for: 'gen-seed' }, ' seed '),
      seed,
      ' ',
      h('button', { type: 'submit' }, 'Generate'),
    ),
    h(
      'p',
      { class: 'muted' },
      `Temperature 0 is greedy. The model sees the last ${run?.contextLength ?? '?'} characters; its vocabulary: ${vocabulary.map(shown).join('')}`,
    ),
    output,
    status,
    detail,
    h(
      'p',
      { class: 'controls' },
      h('label', { for: 'explain-method' }, 'Method '),
      methodSelect,
      ' ',
      explainButton,
    ),
    why,
    run?.explanation ? globalExplanation(run.explanation) : null,
  )
  for (const bar of box.querySelectorAll<HTMLElement>('.bar[data-width]'))
    bar.style.width = `${bar.dataset['width']}%`
  // Leaving the page ends a generation still streaming.
  return () => stop()
}

/** The heatmap of one method's attributions, and hover/focus on a generated character lighting its context. */
function renderWhy(
  why: HTMLElement,
  output: HTMLElement,
  detail: HTMLElement,
  e: GenerationExplanation,
  method: string,
): void {
  const mine = e.attributions.filter((a) => a.method === method)
  const sources = [...e.sourceTokens, ...e.targetTokens]
  const byTarget = new Map<number, Map<number, number>>()
  for (const a of mine) {
    let row = byTarget.get(a.target)
    if (!row) byTarget.set(a.target, (row = new Map()))
    row.set(a.source, a.value)
  }
  const rowMax = (t: number) =>
    Math.max(...[...(byTarget.get(t)?.values() ?? [])].map(Math.abs), Number.MIN_VALUE)
  const check = e.checks.find((c) => c.method === method)
  const light = (t: number | null) => {
    for (const el of output.querySelectorAll<HTMLElement>('span.src')) {
      el.classList.remove('lit', 'explained')
      el.removeAttribute('data-attribution')
      if (el.dataset['target'] === undefined) shade(el, 0, 'blue')
    }
    if (t === null) return
    const row = byTarget.get(t)
    const top = rowMax(t)
    const prompt = e.sourceTokens.length
    for (const [s, v] of row ?? []) {
      const el = output.querySelector<HTMLElement>(`span.src[data-source="${s}"]`)
      if (!el) continue
      el.classList.add('lit')
      el.setAttribute('data-attribution', String(v))
      shade(el, Math.abs(v) / top, v < 0 ? 'red' : 'blue')
    }
    output.querySelector<HTMLElement>(`span.gen[data-target="${t}"]`)?.classList.add('explained')
    const best = [...(row ?? [])].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))[0]
    const score = e.stepScores[t]
    detail.textContent =
      `“${shown(e.targetTokens[t] ?? '')}” (p = ${fmt(score?.probability, 3)}, entropy ${fmt(score?.entropy, 3)}): ` +
      (best
        ? `most from “${shown(sources[best[0]] ?? '')}”, ${prompt + t - best[0]} back (${fmt(best[1], 3)})`
        : '')
  }
  for (const el of output.querySelectorAll<HTMLElement>('span.gen')) {
    const t = Number(el.dataset['target'])
    el.addEventListener('mouseenter', () => light(t))
    el.addEventListener('focus', () => light(t))
  }
  output.addEventListener('mouseleave', () => light(null))

  const cell = (t: number, s: number) => {
    const v = byTarget.get(t)?.get(s)
    const td = h(
      'td',
      v === undefined
        ? { class: 'out' }
        : { 'data-value': v, 'data-share': Math.abs(v) / rowMax(t), title: `${fmt(v, 3)}` },
    )
    return td
  }
  mount(
    why,
    h('h3', {}, `Why: ${label(method)}`),
    h(
      'p',
      { class: 'muted' },
      `Each row is a generated character, each column a character before it; a cell is the attribution of the row's log-probability to that character (baseline: ${e.baseline === 'ZERO' ? 'no character, an all-zero input' : e.baseline}), shaded within its row. Grey: outside the context window.`,
      check
        ? ` Check: max gap ${fmt(check.maxGap, 3)} (mean ${fmt(check.meanGap, 3)})` +
            (check.maxStdError !== null ? `, max standard error ${fmt(check.maxStdError, 3)}` : '') +
            (check.minFidelityR2 !== null ? `, worst R² ${fmt(check.minFidelityR2, 3)}` : '') +
            (check.maxSteps !== null ? `, ${check.maxSteps} steps` : '')
        : '',
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'attribution-map', 'data-attribution-map': method },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, ''), ...sources.map((c, s) => h('th', { 'data-source': s }, shown(c)))),
        ),
        h(
          'tbody',
          {},
          ...e.targetTokens.map((c, t) =>
            h('tr', { 'data-target': t }, h('th', {}, shown(c)), ...sources.map((_, s) => cell(t, s))),
          ),
        ),
      ),
    ),
  )
  for (const td of why.querySelectorAll<HTMLElement>('td[data-value]')) {
    shade(td, Number(td.dataset['share']), Number(td.dataset['value']) < 0 ? 'red' : 'blue')
  }
}

/** The stored explanation of the trained generator: how far back it looks, its surrogates, samples. */
function globalExplanation(e: TextRunExplanation): HTMLElement {
  const profiles = e.distanceProfile ?? []
  const surrogates = e.nextCharacterSurrogates ?? []
  const samples = e.textSamples ?? []
  return h(
    'section',
    { 'data-text-explanation': true },
    h('h2', {}, 'What the model learned'),
    h('p', { class: 'muted' }, `Computed after training in ${fmt(e.computeMs / 1000, 3)} s.`),
    profiles.length > 0
      ? h(
          'section',
          {},
          h('h3', {}, 'How far back it looks'),
          h(
            'p',
            { class: 'muted' },
            'Mean |attribution| of the predicted character to the character d positions before it, over held-out windows.',
          ),
          h(
            'div',
            { class: 'charts' },
            ...profiles.map((p) => {
              const top = Math.max(...p.meanAbsAttribution, Number.MIN_VALUE)
              return h(
                'figure',
                { class: 'bars', 'data-profile': p.method, 'data-peak': p.peakDistance },
                h(
                  'figcaption',
                  {},
                  h('strong', {}, label(p.method)),
                  ` · peak at ${p.peakDistance} back (largest in ${fmt(100 * p.peakShare, 3)}% of ${p.windows} windows) · max gap ${fmt(p.maxGap, 3)}`,
                ),
                ...p.distances.map((d, i) =>
                  h(
                    'div',
                    { class: 'bar-row' },
                    h('span', { class: 'bar-label' }, `${d} back`),
                    h(
                      'span',
                      { class: 'bar-track' },
                      h('span', {
                        class: 'bar',
                        'data-width': Math.round((100 * p.meanAbsAttribution[i]!) / top),
                      }),
                    ),
                    h('span', { class: 'bar-value', 'data-distance': d }, fmt(p.meanAbsAttribution[i]!, 3)),
                  ),
                ),
              )
            }),
          ),
        )
      : null,
    surrogates.length > 0
      ? h(
          'section',
          {},
          h('h3', {}, 'Interpretability models'),
          h(
            'p',
            { class: 'muted' },
            "Simpler models fitted to the generator's next-character distributions; fidelity on held-out windows.",
          ),
          dataTable(
            { 'data-surrogates': true },
            [
              'surrogate',
              { label: 'top-1 agreement', num: true },
              { label: 'mean KL (nats)', num: true },
              { label: 'backed off', num: true },
            ],
            surrogates.map((s) => [
              s.kind === 'NGRAM' ? `${s.order}-gram` : label(s.kind),
              fmt(s.top1Agreement, 3),
              fmt(s.meanKl, 3),
              s.backoffShare === null ? '' : fmt(s.backoffShare, 3),
            ]),
          ),
        )
      : null,
    samples.length > 0
      ? h(
          'section',
          {},
          h('h3', {}, 'Samples'),
          h(
            'ul',
            { class: 'samples' },
            samples.map((s) =>
              h(
                'li',
                {},
                h('code', {}, [...s.prompt].map(shown).join('')),
                ' → ',
                h('code', {}, [...s.text].map(shown).join('')),
                h(
                  'span',
                  { class: 'muted' },
                  ` (T = ${s.temperature}, mean p ${fmt(s.meanProbability, 3)}; the text went on ${[...s.reference].map(shown).join('')})`,
                ),
              ),
            ),
          ),
        )
      : null,
  )
}
