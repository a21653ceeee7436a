// The VAE explanation: latent traversals, sensitivity and encoder-attribution heatmaps, active units,
// disentanglement per factor, and a gallery of samples drawn live at a chosen temperature.
import { dataTable, fmt, h, mount, notice } from '../dom'
import type { LabClient } from '../gql'
import { LabError } from '../gql'

const VAE_EXPLANATION = `query VaeExplanation($id: ID!) {
  run(id: $id) {
    family latentDim
    dataset { featureNames imageShape preview(first: 6) { index features } }
    explanation {
      computeMs
      latentTraversals { latent rowIndex grid outputs }
      latentSensitivity { latent feature value meanAbs }
      encoderAttribution { latent feature value }
      activeUnits { latent kl variance active }
      disentanglement { mig sap dciDisentanglement dciCompleteness dciInformativeness rows
        factors { factor mig sap completeness informativeness } }
      sampleFidelity { ksComplement correlationSimilarity }
    }
  }
}`

const RECONSTRUCT = `query Reconstruct($id: ID!, $rows: [[Float!]!]!) { reconstruct(runId: $id, rows: $rows) }`

const SAMPLE = `query Sample($id: ID!, $n: Int!, $seed: Int, $temperature: Float) {
  sample(runId: $id, n: $n, seed: $seed, temperature: $temperature)
}`

interface Traversal {
  latent: number
  rowIndex: number | null
  grid: number[]
  outputs: number[][]
}
interface LatentFeature {
  latent: number
  feature: string
  value: number
}
interface VaeExplanation {
  computeMs: number
  latentTraversals: Traversal[]
  latentSensitivity: (LatentFeature & { meanAbs: number })[]
  encoderAttribution: LatentFeature[]
  activeUnits: { latent: number; kl: number; variance: number; active: boolean }[]
  disentanglement: {
    mig: number
    sap: number
    dciDisentanglement: number
    dciCompleteness: number
    dciInformativeness: number
    rows: number
    factors: { factor: string; mig: number; sap: number; completeness: number; informativeness: number }[]
  } | null
  sampleFidelity: { ksComplement: number; correlationSimilarity: number | null } | null
}
interface VaeRun {
  family: string
  latentDim: number | null
  dataset: {
    featureNames: string[]
    imageShape: number[] | null
    preview: { index: number; features: number[] }[]
  }
  explanation: VaeExplanation | null
}

/** Samples in the gallery. */
const GALLERY = 12
/** Features drawn per traversal for a table (the rest are in the heatmaps). */
const TRAVERSAL_FEATURES = 6

/** A grey-level image of `values` (in [0, 1], row-major), scaled up so a 16 x 16 sprite is visible. */
export function imageCanvas(
  values: readonly number[],
  shape: readonly number[],
  scale = 3,
): HTMLCanvasElement {
  const [rows = 1, cols = values.length] = shape
  const canvas = h('canvas', { width: cols * scale, height: rows * scale, class: 'pixels' })
  const ctx = canvas.getContext('2d')
  if (!ctx) return canvas
  const image = ctx.createImageData(cols * scale, rows * scale)
  for (let r = 0; r < rows * scale; r++) {
    for (let c = 0; c < cols * scale; c++) {
      const v = values[Math.floor(r / scale) * cols + Math.floor(c / scale)] ?? 0
      const g = Math.round(255 * Math.min(1, Math.max(0, v)))
      const at = 4 * (r * cols * scale + c)
      image.data[at] = g
      image.data[at + 1] = g
      image.data[at + 2] = g
      image.data[at + 3] = 255
    }
  }
  ctx.putImageData(image, 0, 0)
  return canvas
}

/** A small line plot of ys over xs (one feature along a traversal). */
function sparkline(xs: readonly number[], ys: readonly number[], title: string): HTMLCanvasElement {
  const width = 120
  const height = 40
  const canvas = h('canvas', { width, height, class: 'spark', title, 'aria-label': title })
  const ctx = canvas.getContext('2d')
  if (!ctx || xs.length < 2) return canvas
  const lo = Math.min(...ys)
  const hi = Math.max(...ys)
  const span = hi - lo || 1
  const x0 = xs[0]!
  const xSpan = xs[xs.length - 1]! - x0 || 1
  ctx.strokeStyle = '#2563eb'
  ctx.lineWidth = 1.5
  ctx.beginPath()
  xs.forEach((x, i) => {
    const px = ((x - x0) / xSpan) * (width - 4) + 2
    const py = height - 2 - ((ys[i]! - lo) / span) * (height - 4)
    if (i === 0) ctx.moveTo(px, py)
    else ctx.lineTo(px, py)
  })
  ctx.stroke()
  return canvas
}

/** Traversals from z = 0 (rowIndex null): one row per latent, a cell per grid point. */
function traversalGrid(traversals: Traversal[], run: VaeRun): HTMLElement {
  const fromPrior = traversals.filter((t) => t.rowIndex === null)
  const shown = fromPrior.length > 0 ? fromPrior : traversals
  const shape = run.dataset.imageShape
  const features = run.dataset.featureNames
  return h(
    'section',
    { 'data-traversals': shown.length },
    h('h3', {}, 'Latent traversals'),
    h(
      'p',
      { class: 'muted' },
      shape
        ? 'Each row decodes z = t·e_k for one latent k, t from the left to the right of the grid; the other latents stay 0.'
        : `Each row moves one latent along the grid (the other latents at 0); the lines show the first ${Math.min(TRAVERSAL_FEATURES, features.length)} features' decoded values.`,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid traversal' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'latent'),
            ...(shape
              ? shown[0]!.grid.map((t) => h('th', { class: 'num' }, `t=${fmt(t, 2)}`))
              : features.slice(0, TRAVERSAL_FEATURES).map((f) => h('th', {}, f))),
          ),
        ),
        h(
          'tbody',
          {},
          ...shown.map((t) =>
            h(
              'tr',
              { 'data-latent': t.latent },
              h('th', {}, `z${t.latent}`),
              ...(shape
                ? t.outputs.map((row) => h('td', {}, imageCanvas(row, shape)))
                : features.slice(0, TRAVERSAL_FEATURES).map((f, j) => {
                    const ys = t.outputs.map((row) => row[j]!)
                    return h(
                      'td',
                      { 'data-range': fmt(Math.max(...ys) - Math.min(...ys)) },
                      sparkline(t.grid, ys, `${f} along z${t.latent}`),
                    )
                  })),
            ),
          ),
        ),
      ),
    ),
  )
}

/**
 * latent x feature values: for an image dataset one image per latent (|value| per pixel, scaled to the
 * largest of all latents, so latents compare); otherwise a table whose cells are shaded by |value|, the
 * number in the cell.
 */
function heatmap(
  title: string,
  name: string,
  cells: LatentFeature[],
  note: string,
  shape: number[] | null,
): HTMLElement | null {
  if (cells.length === 0) return null
  const latents = [...new Set(cells.map((c) => c.latent))].sort((a, b) => a - b)
  const features = [...new Set(cells.map((c) => c.feature))]
  const top = Math.max(...cells.map((c) => Math.abs(c.value)), Number.MIN_VALUE)
  const at = new Map(cells.map((c) => [`${c.latent}/${c.feature}`, c.value]))
  if (shape) {
    return h(
      'section',
      {},
      h('h3', {}, title),
      h(
        'p',
        { class: 'muted' },
        `${note} Brighter: larger; every image on the same scale (max ${fmt(top, 3)}).`,
      ),
      h(
        'div',
        { class: 'gallery', [`data-${name}`]: true },
        ...latents.map((k) => {
          const values = features.map((f) => Math.abs(at.get(`${k}/${f}`) ?? 0) / top)
          return h(
            'figure',
            { 'data-latent': k, 'data-max': Math.max(...values) * top },
            imageCanvas(values, shape),
            h('figcaption', {}, `z${k}`),
          )
        }),
      ),
    )
  }
  return h(
    'section',
    {},
    h('h3', {}, title),
    h('p', { class: 'muted' }, note),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid heatmap', [`data-${name}`]: true },
        h('thead', {}, h('tr', {}, h('th', {}, ''), ...features.map((f) => h('th', { class: 'num' }, f)))),
        h(
          'tbody',
          {},
          ...latents.map((k) =>
            h(
              'tr',
              {},
              h('th', {}, `z${k}`),
              ...features.map((f) => {
                const v = at.get(`${k}/${f}`) ?? 0
                return h(
                  'td',
                  {
                    class: `num heat${v < 0 ? ' neg' : ''}`,
                    'data-shade': Math.round((100 * Math.abs(v)) / top),
                    'data-value': v,
                    title: `z${k} → ${f}: ${fmt(v)}`,
                  },
                  fmt(v, 2),
                )
              }),
            ),
          ),
        ),
      ),
    ),
  )
}

function activeUnits(units: VaeExplanation['activeUnits']): HTMLElement | null {
  if (units.length === 0) return null
  const active = units.filter((u) => u.active).length
  return h(
    'section',
    {},
    h('h3', {}, `Active units: ${active} of ${units.length}`),
    h(
      'ul',
      { class: 'units' },
      ...units.map((u) =>
        h(
          'li',
          { class: u.active ? 'ok' : 'muted', 'data-active': u.active },
          `z${u.latent}: KL ${fmt(u.kl, 3)} nats, variance ${fmt(u.variance, 3)}${u.active ? '' : ' (collapsed)'}`,
        ),
      ),
    ),
  )
}

function disentanglement(d: VaeExplanation['disentanglement']): HTMLElement | null {
  if (!d) return null
  return h(
    'section',
    {},
    h(
      'h3',
      {},
      `Disentanglement: MIG ${fmt(d.mig, 3)} · SAP ${fmt(d.sap, 3)} · DCI D ${fmt(d.dciDisentanglement, 3)} C ${fmt(d.dciCompleteness, 3)} I ${fmt(d.dciInformativeness, 3)}`,
    ),
    h('p', { class: 'muted' }, `Over ${d.rows} held-out rows with known factors.`),
    dataTable(
      { 'data-factors': true },
      ['factor', ...['MIG', 'SAP', 'completeness', 'informativeness'].map((label) => ({ label, num: true }))],
      d.factors.map((f) => [
        f.factor,
        fmt(f.mig, 3),
        fmt(f.sap, 3),
        fmt(f.completeness, 3),
        fmt(f.informativeness, 3),
      ]),
    ),
  )
}

/** Samples at a temperature chosen with a slider, drawn again (same seed) when it moves. */
function sampleGallery(client: LabClient, runId: string, run: VaeRun): HTMLElement {
  const shape = run.dataset.imageShape
  const gallery = h('div', { class: 'gallery', 'data-gallery': true })
  const slider = h('input', {
    type: 'range',
    min: 0,
    max: 2,
    step: 0.1,
    value: 1,
    id: 'sample-temperature',
    'aria-describedby': 'sample-temperature-value',
  })
  const shown = h('output', { id: 'sample-temperature-value', for: 'sample-temperature' }, '1')
  let seed = 1
  let latest = 0
  const draw = async () => {
    const temperature = Number(slider.value)
    shown.textContent = String(temperature)
    const ticket = ++latest
    gallery.setAttribute('aria-busy', 'true')
    try {
      const { sample } = await client.request<{ sample: number[][] }>(SAMPLE, {
        id: runId,
        n: GALLERY,
        seed,
        temperature,
      })
      if (ticket !== latest) return
      gallery.setAttribute('data-temperature', String(temperature))
      mount(
        gallery,
        shape
          ? sample.map((row) => imageCanvas(row, shape))
          : dataTable(
              {},
              run.dataset.featureNames.map((label) => ({ label, num: true })),
              sample.map((r) => r.map((v) => fmt(v, 3))),
            ),
      )
    } catch (err) {
      if (ticket === latest) mount(gallery, notice('error', (err as LabError).message))
    } finally {
      if (ticket === latest) gallery.removeAttribute('aria-busy')
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  slider.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(() => void draw(), 150)
  })
  const again = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        seed += 1
        void draw()
      },
    },
    'New samples',
  )
  void draw()
  return h(
    'section',
    {},
    h('h3', {}, 'Samples'),
    h(
      'p',
      { class: 'controls' },
      h('label', { for: 'sample-temperature' }, 'Temperature '),
      slider,
      ' ',
      shown,
      ' ',
      again,
    ),
    h(
      'p',
      { class: 'muted' },
      'decode(z) for z ~ N(0, T² I): at 0 every sample is the decoded prior mean; above 1 they stray from the data.',
    ),
    gallery,
  )
}

/** The dataset's first rows beside decode(encode(row)): images, or the rows and their reconstruction error. */
function reconstruction(client: LabClient, runId: string, run: VaeRun): HTMLElement | null {
  const rows = run.dataset.preview
  if (rows.length === 0) return null
  const shape = run.dataset.imageShape
  const body = h('div', { 'data-reconstruction': true }, notice('loading', 'Reconstructing…'))
  void client
    .request<{ reconstruct: number[][] }>(RECONSTRUCT, { id: runId, rows: rows.map((r) => r.features) })
    .then(({ reconstruct }) => {
      const error = (i: number) => {
        const x = rows[i]!.features
        const y = reconstruct[i]!
        return Math.sqrt(x.reduce((s, v, j) => s + (v - y[j]!) ** 2, 0) / x.length)
      }
      const shownRow = (values: number[]) =>
        shape ? imageCanvas(values, shape) : values.map((v) => fmt(v, 3)).join(', ')
      mount(
        body,
        dataTable(
          {},
          ['row', 'original', 'reconstruction', { label: 'RMS error', num: true }],
          rows.map((r, i) => [
            String(r.index),
            shownRow(r.features),
            shownRow(reconstruct[i]!),
            h('span', { 'data-rms': error(i) }, fmt(error(i), 3)),
          ]),
          (i) => ({ 'data-row': rows[i]!.index }),
        ),
      )
    })
    .catch((err: unknown) => mount(body, notice('error', (err as LabError).message)))
  return h(
    'section',
    {},
    h('h3', {}, 'Reconstruction'),
    h(
      'p',
      { class: 'muted' },
      "The dataset's first rows and decode(posterior mean), the model's reconstruction.",
    ),
    body,
  )
}

/** The VAE explanation view of a run. */
export async function renderVaeExplanation(
  box: HTMLElement,
  client: LabClient,
  runId: string,
): Promise<void> {
  try {
    const { run } = await client.request<{ run: VaeRun | null }>(VAE_EXPLANATION, { id: runId })
    const e = run?.explanation
    if (!run || !e) {
      mount(box, h('h2', {}, 'Explanation'), notice('empty', 'This run has no explanation.'))
      return
    }
    const fidelity = e.sampleFidelity
    mount(
      box,
      h('h2', {}, 'Explanation'),
      h(
        'p',
        { class: 'muted' },
        `${run.latentDim ?? '?'} latents · ${fmt(e.computeMs / 1000, 3)} s`,
        fidelity
          ? ` · samples vs held-out rows: KS complement ${fmt(fidelity.ksComplement, 3)}, correlation similarity ${fmt(fidelity.correlationSimilarity, 3)}`
          : '',
      ),
      e.latentTraversals.length > 0 ? traversalGrid(e.latentTraversals, run) : null,
      activeUnits(e.activeUnits),
      heatmap(
        'Decoder sensitivity',
        'sensitivity',
        e.latentSensitivity.map((s) => ({ latent: s.latent, feature: s.feature, value: s.meanAbs })),
        'Mean |d x̂_j / d z_k| over posterior samples: which features each latent moves.',
        run.dataset.imageShape,
      ),
      heatmap(
        'Encoder attribution',
        'encoder',
        e.encoderAttribution,
        "Mean |IG| of each latent's posterior mean with respect to each input feature: what each latent reads.",
        run.dataset.imageShape,
      ),
      disentanglement(e.disentanglement),
      reconstruction(client, runId, run),
      sampleGallery(client, runId, run),
    )
    // Shades through the CSSOM: the CSP forbids inline style attributes.
    for (const cell of box.querySelectorAll<HTMLElement>('td.heat[data-shade]')) {
      const alpha = Number(cell.dataset['shade']) / 100
      cell.style.backgroundColor = cell.classList.contains('neg')
        ? `rgba(220, 38, 38, ${alpha * 0.6})`
        : `rgba(37, 99, 235, ${alpha * 0.6})`
    }
  } catch (err) {
    mount(box, h('h2', {}, 'Explanation'), notice('error', (err as LabError).message))
  }
}
