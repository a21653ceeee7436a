import { collect, GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const EXPLANATION = `explanation {
  methods computeMs evaluationRows
  linearSurrogate { intercept fidelityR2 coefficients { feature weight standardizedWeight } }
  surrogateNetwork { hiddenLayers fidelityR2 agreement epochs }
  featureImportance { method feature importance std }
  partialDependence { feature grid values }
  checks { method maxGap meanGap maxStdError maxSteps meanSteps }
  cost { method ms evaluations } }`

interface Importance {
  method: string
  feature: string
  importance: number
  std: number | null
}
interface ExplanationView {
  methods: string[]
  computeMs: number
  evaluationRows: number
  linearSurrogate: {
    intercept: number
    fidelityR2: number
    coefficients: { feature: string; weight: number }[]
  } | null
  surrogateNetwork: {
    hiddenLayers: number[]
    fidelityR2: number
    agreement: number | null
    epochs: number | null
  } | null
  featureImportance: Importance[]
  partialDependence: { feature: string; grid: number[]; values: number[] }[]
  checks: {
    method: string
    maxGap: number
    meanGap: number
    maxStdError: number | null
    maxSteps: number | null
    meanSteps: number | null
  }[]
  cost: { method: string; ms: number; evaluations: number }[]
}

let t: TestLab
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '1' })
}, 60_000)
afterAll(async () => {
  await t?.stop()
})

async function dataset(input: Record<string, unknown>): Promise<string> {
  const res = await t.gql<{ generateDataset: { id: string } }>(
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input },
  )
  return res.data!.generateDataset.id
}

async function start(input: Record<string, unknown>): Promise<string> {
  const res = await t.gql<{ startRun: { id: string } }>(
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    {
      input,
    },
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.startRun.id
}

async function finished(id: string) {
  return waitFor(
    async () => {
      const res = await t.gql<{
        run: { status: string; error: string | null; explanation: ExplanationView | null }
      }>(`query($id: ID!) { run(id: $id) { status error ${EXPLANATION} } }`, { id })
      const run = res.data!.run
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined
    },
    { timeoutMs: 240_000, what: `run ${id}` },
  )
}

const importance = (e: ExplanationView, method: string) =>
  Object.fromEntries(
    e.featureImportance.filter((f) => f.method === method).map((f) => [f.feature, f.importance]),
  )

describe('a network trained on Friedman #1', () => {
  let runId: string
  let explanation: ExplanationView
  let events: { runEvents: { __typename: string; status?: string } }[]

  beforeAll(async () => {
    const datasetId = await dataset({
      name: 'friedman-explained',
      generator: 'FRIEDMAN1',
      rows: 2500,
      noise: 0.5,
      seed: 3,
    })
    runId = await start({
      datasetId,
      hiddenLayers: [64, 32],
      epochs: 60,
      batchSize: 32,
      learningRate: 0.005,
      seed: 1,
      validationSplit: 0.2,
    })
    const sub = collect<{ runEvents: { __typename: string; status?: string } }>(
      t.ws(),
      `subscription($id: ID!) { runEvents(runId: $id) { __typename ... on RunStatusChanged { status }
        ... on ExplanationReady { runId explanation { methods } } } }`,
      { id: runId },
    )
    const run = await finished(runId)
    expect(run.error).toBeNull()
    expect(run.status).toBe('SUCCEEDED')
    explanation = run.explanation!
    events = await sub.done
  }, 300_000)

  it('streams ExplanationReady before SUCCEEDED', () => {
    const kinds = events.map((e) => e.runEvents.__typename)
    expect(kinds.filter((k) => k === 'ExplanationReady')).toHaveLength(1)
    expect(kinds.at(-2)).toBe('ExplanationReady')
    expect(events.at(-1)!.runEvents).toMatchObject({ __typename: 'RunStatusChanged', status: 'SUCCEEDED' })
  })

  it('stores all six methods with their cost', () => {
    expect(explanation.methods).toEqual([
      'LINEAR_SURROGATE',
      'SURROGATE_NETWORK',
      'PERMUTATION_IMPORTANCE',
      'INTEGRATED_GRADIENTS',
      'SHAPLEY',
      'PARTIAL_DEPENDENCE',
    ])
    expect(explanation.cost.map((c) => c.method).sort()).toEqual([...explanation.methods].sort())
    for (const c of explanation.cost) expect(c.evaluations).toBeGreaterThan(0)
    expect(explanation.computeMs).toBeGreaterThan(0)
    expect(explanation.evaluationRows).toBe(500)
    expect(explanation.partialDependence).toHaveLength(10)
    for (const pd of explanation.partialDependence) expect(pd.grid).toHaveLength(20)
  })

  it.each(['PERMUTATION_IMPORTANCE', 'SHAPLEY'])(
    '%s ranks {x4, x1, x2} > {x3, x5} >> {x6..x10}',
    (method) => {
      const imp = importance(explanation, method)
      const top = ['x1', 'x2', 'x4'].map((f) => imp[f]!)
      const middle = ['x3', 'x5'].map((f) => imp[f]!)
      const noise = ['x6', 'x7', 'x8', 'x9', 'x10'].map((f) => imp[f]!)
      expect(Math.min(...top)).toBeGreaterThan(Math.max(...middle))
      expect(Math.min(...middle)).toBeGreaterThan(3 * Math.max(...noise))
    },
  )

  it('reports a small IG completeness gap and a Shapley efficiency gap at rounding level', async () => {
    const ig = explanation.checks.find((c) => c.method === 'INTEGRATED_GRADIENTS')!
    const shap = explanation.checks.find((c) => c.method === 'SHAPLEY')!
    expect(shap.maxGap).toBeLessThan(1e-6)
    // f(x) - f(x') for Friedman outputs is of the order of the target's sd (about 5).
    expect(ig.meanGap).toBeLessThan(0.25)
    expect(explanation.linearSurrogate!.fidelityR2).toBeGreaterThan(0.5)
    expect(explanation.linearSurrogate!.fidelityR2).toBeLessThan(0.95)
    expect(explanation.surrogateNetwork!.fidelityR2).toBeGreaterThan(0.8)
  })

  it('reports the error each estimate reached beside its cost: standard error, steps, epochs', () => {
    const ig = explanation.checks.find((c) => c.method === 'INTEGRATED_GRADIENTS')!
    const shap = explanation.checks.find((c) => c.method === 'SHAPLEY')!
    // Sampled Shapley: at least 2 rounds of one antithetic pair per background row (20), at most 8.
    expect(shap.maxStdError).toBeGreaterThanOrEqual(0)
    expect(shap.maxSteps).toBeGreaterThanOrEqual(2 * 2 * 20)
    expect(shap.maxSteps).toBeLessThanOrEqual(2 * 8 * 20)
    // IG: the adaptive path starts from 8 panels of one gradient point each.
    expect(ig.maxStdError).toBeNull()
    expect(ig.meanSteps).toBeGreaterThanOrEqual(8)
    expect(ig.maxSteps).toBeGreaterThanOrEqual(ig.meanSteps!)
    expect(explanation.surrogateNetwork!.epochs).toBeGreaterThan(0)
  })

  it('explains one prediction with IG, Shapley and the linear surrogate, each adding up', async () => {
    const row = [0.9, 0.8, 0.1, 0.9, 0.7, 0.5, 0.5, 0.5, 0.5, 0.5]
    const res = await t.gql<{
      explainInstance: {
        prediction: number
        baselinePrediction: number
        attributions: { method: string; feature: string; value: number }[]
        checks: { method: string; maxGap: number }[]
      }
    }>(
      `query($id: ID!, $row: [Float!]!) { explainInstance(runId: $id, row: $row) {
         prediction baselinePrediction attributions { method feature value } checks { method maxGap meanGap } } }`,
      { id: runId, row },
    )
    expect(res.errors).toBeUndefined()
    const e = res.data!.explainInstance
    const sum = (m: string) => e.attributions.filter((a) => a.method === m).reduce((s, a) => s + a.value, 0)
    expect(Math.abs(sum('INTEGRATED_GRADIENTS') - (e.prediction - e.baselinePrediction))).toBeLessThan(0.3)
    expect(e.checks.find((c) => c.method === 'SHAPLEY')!.maxGap).toBeLessThan(1e-6)
    expect(e.attributions.filter((a) => a.method === 'LINEAR_SURROGATE')).toHaveLength(10)
    // The prediction is the model's: the same value predict answers.
    const p = await t.gql<{ predict: number[] }>(
      `query($id: ID!, $rows: [[Float!]!]!) { predict(runId: $id, rows: $rows) }`,
      {
        id: runId,
        rows: [row],
      },
    )
    expect(p.data!.predict[0]).toBeCloseTo(e.prediction, 4)
  })

  it('refuses bad instance input', async () => {
    const q = `query($id: ID!, $row: [Float!]!, $methods: [ExplanationMethod!]) {
      explainInstance(runId: $id, row: $row, methods: $methods) { prediction } }`
    expect(code(await t.gql(q, { id: runId, row: [1, 2] }))).toBe('BAD_USER_INPUT')
    expect(
      code(await t.gql(q, { id: runId, row: Array(10).fill(0.5), methods: ['PARTIAL_DEPENDENCE'] })),
    ).toBe('BAD_USER_INPUT')
    expect(code(await t.gql(q, { id: '00000000-0000-0000-0000-000000000000', row: [1] }))).toBe('NOT_FOUND')
  })
})

describe('choosing methods', () => {
  it('computes only the methods asked for, and none with explain: []', async () => {
    const datasetId = await dataset({ name: 'xor-explained', generator: 'XOR', rows: 300, seed: 2 })
    const some = await start({
      datasetId,
      hiddenLayers: [8],
      epochs: 3,
      explain: ['SHAPLEY', 'SURROGATE_NETWORK'],
    })
    const none = await start({ datasetId, hiddenLayers: [8], epochs: 3, explain: [] })
    const [a, b] = [await finished(some), await finished(none)]
    expect(a.explanation!.methods).toEqual(['SURROGATE_NETWORK', 'SHAPLEY'])
    expect(a.explanation!.linearSurrogate).toBeNull()
    expect(a.explanation!.surrogateNetwork!.agreement).not.toBeNull()
    expect(new Set(a.explanation!.featureImportance.map((f) => f.method))).toEqual(new Set(['SHAPLEY']))
    expect(b.status).toBe('SUCCEEDED')
    expect(b.explanation).toBeNull()
  }, 120_000)
})
