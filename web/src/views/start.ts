import type { View } from '../app'
import { h, mount, notice, submitting } from '../dom'
import { LabError } from '../gql'

// Starting work without writing a query: generate a dataset (or pick one), then train a model on it.

const DATASETS = `query StartDatasets { datasets(first: 100) { edges { node { id name version kind task rowCount } } } }`
const GENERATE = `mutation Generate($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`
const START = `mutation Start($input: StartRunInput!) { startRun(input: $input) { id } }`
const SWEEP = `mutation Sweep($input: SweepInput!) { startSweep(input: $input) { id } }`

/** Hyperparameters a sweep from this page may vary (the API takes more; the CLI and GraphQL reach them). */
const SWEEPABLE = [
  'learningRate',
  'batchSize',
  'hiddenLayers',
  'epochs',
  'activation',
  'optimizer',
  'latentDim',
  'beta',
  'contextLength',
]

interface DatasetOption {
  id: string
  name: string
  version: number
  kind: string
  task: string
  rowCount: number
}

/** Each generator with what it makes and sizes that train in seconds here. */
const GENERATORS: { name: string; about: string; rows: number }[] = [
  { name: 'FRIEDMAN1', about: 'regression, 10 features (5 matter)', rows: 2000 },
  { name: 'LINEAR', about: 'regression, 5 features, known coefficients', rows: 1000 },
  { name: 'XOR', about: 'binary classification, 2 features', rows: 1000 },
  { name: 'SPRITES', about: '16 x 16 images of shapes with known factors (for a VAE)', rows: 3000 },
  { name: 'LATENT_LINEAR', about: 'features mixed from known factors (for a VAE)', rows: 2000 },
  {
    name: 'COPY_TEXT',
    about: 'text where each letter copies one a few back (for the text generator)',
    rows: 5000,
  },
]

/** The family a dataset suggests: the text generator for a corpus, a VAE without targets, else an MLP. */
function familyFor(d: DatasetOption): string {
  if (d.kind === 'TEXT') return 'SEQUENCE'
  if (d.task === 'UNSUPERVISED') return 'VAE'
  return 'MLP'
}

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  return h('label', {}, h('span', {}, label), control, hint ? h('small', { class: 'muted' }, hint) : null)
}

function numberInput(name: string, value: number | '', step = 'any'): HTMLInputElement {
  return h('input', { type: 'number', name, value, step, id: `start-${name}` })
}

function select(name: string, options: [string, string][], value?: string): HTMLSelectElement {
  const el = h(
    'select',
    { name, id: `start-${name}` },
    ...options.map(([v, text]) => h('option', { value: v }, text)),
  )
  if (value !== undefined) el.value = value
  return el
}

/** A number field's value, or undefined when left empty (the server's default applies). */
function optionalNumber(input: HTMLInputElement): number | undefined {
  return input.value.trim() === '' ? undefined : Number(input.value)
}

/** "128, 64" as [128, 64]; undefined when empty; a message when it is not a list of whole numbers. */
function layersOf(text: string): number[] | undefined | string {
  if (text.trim() === '') return undefined
  const parts = text.split(/[\s,]+/).filter((p) => p !== '')
  const widths = parts.map(Number)
  return widths.every((w) => Number.isInteger(w) && w > 0)
    ? widths
    : 'Hidden layers are whole numbers above 0, separated by commas.'
}

/**
 * A swept parameter's values as typed: "0.001, 0.01" (numbers), "RELU, TANH" (names), "64 32; 128" (one
 * list of layer widths per `;`). A message when an entry is empty.
 */
export function sweepValuesOf(text: string): (number | string | number[])[] | string {
  const separator = text.includes(';') ? ';' : ','
  const items = text.split(separator).map((v) => v.trim())
  if (items.length === 0 || items.some((v) => v === ''))
    return 'Give each swept parameter its values, separated by commas.'
  return items.map((item) => {
    const parts = item.split(/[\s,]+/)
    if (parts.length > 1 && parts.every((p) => p !== '' && Number.isFinite(Number(p))))
      return parts.map(Number)
    return item !== '' && Number.isFinite(Number(item)) ? Number(item) : item
  })
}

export const startView: View = (root, { client, canWrite, navigate }) => {
  if (!canWrite) {
    mount(
      root,
      h('h1', {}, 'New run'),
      notice('empty', 'This API key may only read. Starting runs needs a key with WRITE scope.'),
    )
    return
  }
  mount(root, h('h1', {}, 'New run'), notice('loading', 'Loading datasets…'))
  const wanted = new URLSearchParams(location.search).get('dataset')
  let datasets: DatasetOption[] = []

  const datasetSelect = h('select', { name: 'dataset', id: 'start-dataset' })
  const generator = select(
    'generator',
    GENERATORS.map((g) => [g.name, `${g.name} – ${g.about}`]),
  )
  const genRows = numberInput('rows', GENERATORS[0]!.rows, '1')
  const genSeed = numberInput('dataset-seed', 1, '1')
  const generateButton = h('button', { type: 'submit' }, 'Generate dataset')
  const generateOut = h('div', { 'aria-live': 'polite' })

  const family = select('family', [
    ['MLP', 'MLP – supervised network'],
    ['VAE', 'VAE – variational autoencoder'],
    ['SEQUENCE', 'SEQUENCE – character-level text generator'],
  ])
  const experiment = h('input', {
    name: 'experiment',
    id: 'start-experiment',
    value: 'default',
    maxlength: 200,
  })
  const runName = h('input', {
    name: 'name',
    id: 'start-name',
    maxlength: 200,
    placeholder: 'drawn when empty',
  })
  const epochs = numberInput('epochs', 10, '1')
  const learningRate = numberInput('learningRate', '', 'any')
  const hidden = h('input', { name: 'hiddenLayers', id: 'start-hiddenLayers', placeholder: 'the default' })
  const seed = numberInput('seed', '', '1')
  const latentDim = numberInput('latentDim', 4, '1')
  const beta = numberInput('beta', 1, 'any')
  const architecture = select('architecture', [
    ['WINDOW_MLP', 'WINDOW_MLP – Dense layers over a window'],
    ['RNN_GRU', 'RNN_GRU – GRU layers'],
  ])
  const contextLength = numberInput('contextLength', 32, '1')
  const explain = h('input', { type: 'checkbox', name: 'explain', id: 'start-explain', checked: true })
  const vaeFields = h(
    'div',
    { class: 'row-fields' },
    field('Latent dimensions', latentDim),
    field('β (KL weight)', beta),
  )
  const textFields = h(
    'div',
    { class: 'row-fields' },
    field('Architecture', architecture),
    field('Context length', contextLength),
  )
  const startButton = h('button', { type: 'submit' }, 'Start run')
  const startOut = h('div', { 'aria-live': 'polite' })

  const sweptNames = [0, 1].map((i) =>
    select(
      `sweep-param-${i}`,
      [['', i === 0 ? 'choose a parameter' : 'none'], ...SWEEPABLE.map((n): [string, string] => [n, n])],
      i === 0 ? 'learningRate' : '',
    ),
  )
  const sweptValues = [0, 1].map((i) =>
    h('input', {
      name: `sweep-values-${i}`,
      id: `start-sweep-values-${i}`,
      value: i === 0 ? '0.0003, 0.001, 0.003' : '',
      placeholder: 'e.g. 16, 32, 64',
    }),
  )
  const sweepMetric = h('input', {
    name: 'sweep-metric',
    id: 'start-sweep-metric',
    value: 'valLoss',
    maxlength: 100,
  })
  const sweepGoal = select('sweep-goal', [
    ['MINIMIZE', 'minimise'],
    ['MAXIMIZE', 'maximise'],
  ])
  const sweepConcurrent = numberInput('sweep-concurrent', 1, '1')
  const sweepEarly = h('input', { type: 'checkbox', name: 'sweep-early', id: 'start-sweep-early' })
  const sweepButton = h('button', { type: 'button' }, 'Start sweep')
  const sweepOut = h('div', { 'aria-live': 'polite' })

  const showFamilyFields = () => {
    vaeFields.hidden = family.value !== 'VAE'
    textFields.hidden = family.value !== 'SEQUENCE'
  }
  const suggestFamily = () => {
    const chosen = datasets.find((d) => d.id === datasetSelect.value)
    if (chosen) family.value = familyFor(chosen)
    showFamilyFields()
  }
  const fillDatasets = (selected?: string) => {
    mount(
      datasetSelect,
      datasets.map((d) =>
        h('option', { value: d.id }, `${d.name} v${d.version} – ${d.task.toLowerCase()}, ${d.rowCount} rows`),
      ),
    )
    if (selected && datasets.some((d) => d.id === selected)) datasetSelect.value = selected
    startButton.disabled = datasets.length === 0
    sweepButton.disabled = datasets.length === 0
    suggestFamily()
  }
  const loadDatasets = async (selected?: string) => {
    const data = await client.request<{ datasets: { edges: { node: DatasetOption }[] } }>(DATASETS)
    datasets = data.datasets.edges.map((e) => e.node)
    fillDatasets(selected)
  }

  const generateForm = h(
    'form',
    { class: 'row-form', 'aria-label': 'Generate a dataset', novalidate: true },
    h('h2', {}, '1. Data'),
    h('p', { class: 'muted' }, 'Pick a dataset below, or generate one with known structure first.'),
    h(
      'div',
      { class: 'row-fields' },
      field('Generator', generator),
      field('Rows', genRows),
      field('Seed', genSeed),
    ),
    h('div', { class: 'actions' }, generateButton),
    generateOut,
  )
  generator.addEventListener('change', () => {
    genRows.value = String(GENERATORS.find((g) => g.name === generator.value)?.rows ?? 1000)
  })
  generateForm.addEventListener('submit', async (e) => {
    e.preventDefault()
    await submitting(
      generateButton,
      generateOut,
      async () => {
        const input = {
          name: generator.value.toLowerCase().replace(/_/g, '-'),
          generator: generator.value,
          rows: Number(genRows.value),
          seed: Number(genSeed.value),
        }
        const data = await client.request<{ generateDataset: { id: string } }>(GENERATE, { input })
        await loadDatasets(data.generateDataset.id)
        mount(generateOut, notice('empty', `Generated ${input.name}: it is selected below.`))
      },
      'The server refused: ',
    )
  })

  const startForm = h(
    'form',
    { class: 'row-form', 'aria-label': 'Start a run', novalidate: true },
    h('h2', {}, '2. Model'),
    h(
      'div',
      { class: 'row-fields' },
      field('Dataset', datasetSelect),
      field('Family', family),
      field('Experiment', experiment),
      field('Run name', runName),
      field('Epochs', epochs),
      field('Learning rate', learningRate, 'empty: 0.001'),
      field('Hidden layers', hidden, 'e.g. 64, 32'),
      field('Seed', seed, 'empty: drawn'),
    ),
    vaeFields,
    textFields,
    h('label', { class: 'check' }, explain, 'Explain the model when training ends'),
    h('div', { class: 'actions' }, startButton),
    startOut,
  )
  datasetSelect.addEventListener('change', suggestFamily)
  family.addEventListener('change', showFamilyFields)
  /** The run the form describes; a message when a field is not what it should be. */
  const runInput = (): Record<string, unknown> | string => {
    const layers = layersOf(hidden.value)
    if (typeof layers === 'string') return layers
    const input: Record<string, unknown> = {
      datasetId: datasetSelect.value,
      family: family.value,
      experiment: experiment.value.trim() || undefined,
      name: runName.value.trim() || undefined,
      epochs: optionalNumber(epochs),
      learningRate: optionalNumber(learningRate),
      hiddenLayers: layers,
      seed: optionalNumber(seed),
      explain: explain.checked ? undefined : [],
    }
    if (family.value === 'VAE')
      Object.assign(input, { latentDim: optionalNumber(latentDim), beta: optionalNumber(beta) })
    if (family.value === 'SEQUENCE')
      Object.assign(input, { architecture: architecture.value, contextLength: optionalNumber(contextLength) })
    return input
  }
  startForm.addEventListener('submit', async (e) => {
    e.preventDefault()
    const input = runInput()
    if (typeof input === 'string') {
      mount(startOut, notice('error', input))
      return
    }
    await submitting(
      startButton,
      startOut,
      async () => {
        const data = await client.request<{ startRun: { id: string } }>(START, { input })
        navigate(`/runs/${data.startRun.id}`)
      },
      'The server refused: ',
    )
  })

  const sweepForm = h(
    'form',
    { class: 'row-form', 'aria-label': 'Start a sweep', novalidate: true },
    h('h2', {}, '3. Or sweep'),
    h(
      'p',
      { class: 'muted' },
      'Every combination of the values below (a grid), each run otherwise as in 2.; the best by the metric is marked.',
    ),
    h(
      'div',
      { class: 'row-fields' },
      field('Parameter', sweptNames[0]!),
      field('Values', sweptValues[0]!, 'commas; layer lists: 64 32; 128'),
      field('Second parameter', sweptNames[1]!),
      field('Its values', sweptValues[1]!),
      field('Metric', sweepMetric, 'loss, valLoss, valReconstruction…'),
      field('Goal', sweepGoal),
      field('Runs at once', sweepConcurrent),
    ),
    h('label', { class: 'check' }, sweepEarly, 'Stop runs worse than the median early'),
    h('div', { class: 'actions' }, sweepButton),
    sweepOut,
  )
  sweepButton.addEventListener('click', async () => {
    const base = runInput()
    if (typeof base === 'string') {
      mount(sweepOut, notice('error', base))
      return
    }
    const parameters: { name: string; values: unknown[] }[] = []
    for (const [i, name] of sweptNames.entries()) {
      if (name.value === '') continue
      const values = sweepValuesOf(sweptValues[i]!.value)
      if (typeof values === 'string') {
        mount(sweepOut, notice('error', values))
        return
      }
      parameters.push({ name: name.value, values })
    }
    if (parameters.length === 0) {
      mount(sweepOut, notice('error', 'Choose at least one parameter to sweep.'))
      return
    }
    const input = {
      experiment: (base['experiment'] as string | undefined) ?? 'default',
      datasetId: base['datasetId'],
      method: 'GRID',
      parameters,
      base: { ...base, name: undefined, experiment: undefined },
      metric: sweepMetric.value.trim(),
      goal: sweepGoal.value,
      maxConcurrent: optionalNumber(sweepConcurrent),
      earlyTerminate: sweepEarly.checked ? { type: 'MEDIAN_STOP' } : undefined,
    }
    await submitting(
      sweepButton,
      sweepOut,
      async () => {
        const data = await client.request<{ startSweep: { id: string } }>(SWEEP, { input })
        navigate(`/sweeps/${data.startSweep.id}`)
      },
      'The server refused: ',
    )
  })

  void (async () => {
    try {
      await loadDatasets(wanted ?? undefined)
      mount(root, h('h1', {}, 'New run'), generateForm, startForm, sweepForm)
    } catch (err) {
      mount(root, h('h1', {}, 'New run'), notice('error', (err as LabError).message))
    }
  })()
}
