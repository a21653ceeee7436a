import { familyOf } from '../../src/models/registry'
import { PredictionService } from '../../src/modules/run/prediction.service'
import { selectBackend } from '../../src/training/backend'
import { RunRepository } from '../../src/modules/run/run.repository'
import { collect, GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

let t: TestLab
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '1' })
}, 60_000)
afterAll(async () => {
  await t?.stop()
})

async function ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.gql<T>(query, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!
}

async function generate(input: Record<string, unknown>): Promise<string> {
  const data = await ok<{ generateDataset: { id: string } }>(
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input },
  )
  return data.generateDataset.id
}

async function start(input: Record<string, unknown>): Promise<string> {
  const data = await ok<{ startRun: { id: string } }>(
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    { input },
  )
  return data.startRun.id
}

const startError = async (input: Record<string, unknown>) =>
  t.gql(`mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, { input })

async function finished(id: string): Promise<{ status: string; error: string | null }> {
  return waitFor(
    async () => {
      const { run } = await ok<{ run: { status: string; error: string | null } }>(
        `query($id: ID!) { run(id: $id) { status error } }`,
        { id },
      )
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run : undefined
    },
    { timeoutMs: 240_000, what: `run ${id}` },
  )
}

const VAE_EXPLANATION = `explanation {
  methods evaluationRows
  activeUnits { latent kl variance active }
  latentTraversals { latent rowIndex origin grid outputs }
  latentSensitivity { latent feature value meanAbs }
  generatorSurrogate { feature intercept weights fidelityR2 }
  generatorSurrogateR2
  surrogateNetwork { hiddenLayers fidelityR2 }
  encoderAttribution { latent feature value }
  disentanglement { mig sap dciDisentanglement dciCompleteness dciInformativeness importanceModel
    factors { factor mig sap completeness informativeness } }
  sampleFidelity { ksComplement correlationSimilarity samples features { feature ksComplement } }
  checks { method maxGap meanGap }
  cost { method ms evaluations }
  linearSurrogate { intercept }
  featureImportance { method }
}`

interface VaeExplanation {
  methods: string[]
  evaluationRows: number
  activeUnits: { latent: number; kl: number; variance: number; active: boolean }[]
  latentTraversals: {
    latent: number
    rowIndex: number | null
    origin: number[]
    grid: number[]
    outputs: number[][]
  }[]
  latentSensitivity: { latent: number; feature: string; value: number; meanAbs: number }[]
  generatorSurrogate: { feature: string; intercept: number; weights: number[]; fidelityR2: number }[]
  generatorSurrogateR2: number
  surrogateNetwork: { hiddenLayers: number[]; fidelityR2: number }
  encoderAttribution: { latent: number; feature: string; value: number }[]
  disentanglement: {
    mig: number
    sap: number
    dciInformativeness: number
    importanceModel: string
    factors: { factor: string }[]
  } | null
  sampleFidelity: { ksComplement: number; correlationSimilarity: number | null; samples: number }
  checks: { method: string; maxGap: number; meanGap: number }[]
  cost: { method: string }[]
  linearSurrogate: null
  featureImportance: unknown[]
}

describe('a VAE on LATENT_LINEAR through the API', () => {
  let datasetId: string
  let runId: string
  let events: { runEvents: Record<string, unknown> & { __typename: string } }[]
  let second: string

  beforeAll(async () => {
    datasetId = await generate({
      name: 'latent-linear',
      generator: 'LATENT_LINEAR',
      rows: 800,
      noise: 0.1,
      seed: 4,
      latents: 2,
      features: 6,
    })
    runId = await start({
      datasetId,
      family: 'VAE',
      latentDim: 3,
      hiddenLayers: [64, 32],
      epochs: 15,
      batchSize: 64,
      learningRate: 0.003,
      seed: 3,
      experiment: 'vae-api',
      name: 'latent-linear-vae',
    })
    const sub = collect<{ runEvents: Record<string, unknown> & { __typename: string } }>(
      t.ws(),
      `subscription($id: ID!) { runEvents(runId: $id) { __typename
        ... on EpochCompleted { metric { epoch loss valLoss accuracy values { name value } } }
        ... on RunStatusChanged { status }
        ... on ExplanationReady { explanation { methods } } } }`,
      { id: runId },
    )
    const run = await finished(runId)
    expect(run).toEqual({ status: 'SUCCEEDED', error: null })
    events = await sub.done
  }, 300_000)

  it('shows the family and its settings, with the defaults filled in', async () => {
    const { run } = await ok<{ run: Record<string, unknown> }>(
      `query($id: ID!) { run(id: $id) { family latentDim beta likelihood hiddenLayers backend } }`,
      { id: runId },
    )
    expect(run).toMatchObject({
      family: 'VAE',
      latentDim: 3,
      beta: 1,
      likelihood: 'GAUSSIAN',
      hiddenLayers: [64, 32],
    })
  })

  it('streams every epoch live with its named metrics, then the explanation, then SUCCEEDED', () => {
    const epochs = events.filter((e) => e.runEvents.__typename === 'EpochCompleted')
    expect(epochs).toHaveLength(15)
    const metric = epochs[0]!.runEvents['metric'] as {
      loss: number
      valLoss: number
      accuracy: number | null
      values: { name: string; value: number }[]
    }
    expect(metric.values.map((v) => v.name)).toEqual([
      'loss',
      'reconstruction',
      'kl',
      'valLoss',
      'valReconstruction',
      'valKl',
      'kl_0',
      'kl_1',
      'kl_2',
    ])
    // The fixed fields are the named metrics of the same name.
    expect(metric.loss).toBe(metric.values.find((v) => v.name === 'loss')!.value)
    expect(metric.valLoss).toBe(metric.values.find((v) => v.name === 'valLoss')!.value)
    expect(metric.accuracy).toBeNull()
    const kinds = events.map((e) => e.runEvents.__typename)
    expect(kinds.indexOf('ExplanationReady')).toBeGreaterThan(kinds.lastIndexOf('EpochCompleted'))
    expect(kinds.indexOf('ExplanationReady')).toBeLessThan(kinds.length - 1)
    expect(events.at(-1)!.runEvents['status']).toBe('SUCCEEDED')
  })

  it('keeps the final metrics and any named history', async () => {
    const { run } = await ok<{
      run: {
        summary: { finalLoss: number; metrics: { name: string; value: number }[] }
        history: { epoch: number; values: { name: string; value: number }[] }[]
        kl0: { epoch: number; value: number }[]
        recon: { epoch: number; value: number }[]
      }
    }>(
      `query($id: ID!) { run(id: $id) {
        summary { finalLoss metrics { name value } }
        history { epoch values { name value } }
        kl0: metricHistory(metric: "kl_0") { epoch value }
        recon: metricHistory(metric: "valReconstruction", maxPoints: 4) { epoch value } } }`,
      { id: runId },
    )
    const last = run.history.at(-1)!
    expect(run.summary.metrics).toEqual(last.values)
    expect(run.summary.finalLoss).toBe(last.values[0]!.value)
    expect(run.kl0).toHaveLength(15)
    expect(run.kl0.map((p) => p.value)).toEqual(
      run.history.map((h) => h.values.find((v) => v.name === 'kl_0')!.value),
    )
    expect(run.recon.length).toBeLessThanOrEqual(4)
    const recon = run.history.map((h) => h.values.find((v) => v.name === 'valReconstruction')!.value)
    expect(recon.at(-1)!).toBeLessThan(recon[0]!)
    const typo = await t.gql(`query($id: ID!) { run(id: $id) { metricHistory(metric: "kl_9") { epoch } } }`, {
      id: runId,
    })
    expect(code(typo)).toBe('BAD_USER_INPUT')
    expect(typo.errors![0]!.message).toMatch(/no metric "kl_9"; it has .*kl_2/)
  })

  it('is explained by every method that applies, with checks', async () => {
    const { run } = await ok<{ run: { explanation: VaeExplanation } }>(
      `query($id: ID!) { run(id: $id) { ${VAE_EXPLANATION} } }`,
      { id: runId },
    )
    const e = run.explanation
    expect(e.methods).toEqual([
      'ACTIVE_UNITS',
      'LATENT_TRAVERSAL',
      'LATENT_SENSITIVITY',
      'GENERATOR_SURROGATE',
      'SURROGATE_NETWORK',
      'ENCODER_ATTRIBUTION',
      'DISENTANGLEMENT',
      'SAMPLE_FIDELITY',
    ])
    expect(e.cost.map((c) => c.method).sort()).toEqual([...e.methods].sort())
    expect(e.activeUnits).toHaveLength(3)
    expect(e.activeUnits.filter((u) => u.active).length).toBeGreaterThanOrEqual(1)
    // 4 origins (z = 0 and three held-out rows) x 3 latents, 11 steps of 6 features.
    expect(e.latentTraversals).toHaveLength(12)
    expect(e.latentTraversals[0]!.grid).toHaveLength(11)
    expect(e.latentTraversals[0]!.outputs[0]).toHaveLength(6)
    expect(e.latentTraversals.filter((x) => x.rowIndex === null)).toHaveLength(3)
    expect(e.latentSensitivity).toHaveLength(18)
    expect(e.generatorSurrogate).toHaveLength(6)
    expect(e.generatorSurrogate[0]!.weights).toHaveLength(3)
    expect(e.generatorSurrogateR2).toBeGreaterThan(0.8)
    expect(e.surrogateNetwork.fidelityR2).toBeGreaterThan(0.5)
    expect(e.encoderAttribution).toHaveLength(18)
    expect(e.disentanglement!.factors.map((f) => f.factor)).toEqual(['v1', 'v2'])
    expect(e.disentanglement!.importanceModel.length).toBeGreaterThan(0)
    expect(e.sampleFidelity.ksComplement).toBeGreaterThan(0.5)
    expect(e.checks.map((c) => c.method).sort()).toEqual(['ENCODER_ATTRIBUTION', 'LATENT_SENSITIVITY'])
    expect(e.linearSurrogate).toBeNull()
    expect(e.featureImportance).toEqual([])
  })

  it('answers sample, encode, decode, reconstruct and explainLatent', async () => {
    const data = await ok<{
      a: number[][]
      b: number[][]
      c: number[][]
      zero: number[][]
      codes: { mean: number[]; logVar: number[] }[]
      decoded: number[][]
      recon: number[][]
      why: {
        outputs: number[]
        baselineOutputs: number[]
        attributions: { latent: number; feature: string; value: number }[]
        maxGap: number
        gaps: { feature: string; gap: number }[]
      }
    }>(
      `query($id: ID!) {
        a: sample(runId: $id, n: 5, seed: 1)
        b: sample(runId: $id, n: 5, seed: 1)
        c: sample(runId: $id, n: 5, seed: 2)
        zero: sample(runId: $id, n: 2, seed: 1, temperature: 0)
        codes: encode(runId: $id, rows: [[0, 0, 0, 0, 0, 0], [1, -1, 1, -1, 1, -1]]) { mean logVar }
        decoded: decode(runId: $id, latents: [[0, 0, 0], [1, 0, -1]])
        recon: reconstruct(runId: $id, rows: [[0, 0, 0, 0, 0, 0]])
        why: explainLatent(runId: $id, latent: [1, -0.5, 2]) {
          outputs baselineOutputs maxGap attributions { latent feature value } gaps { feature gap } } }`,
      { id: runId },
    )
    expect(data.a).toHaveLength(5)
    expect(data.a[0]).toHaveLength(6)
    expect(data.b).toEqual(data.a)
    expect(data.c).not.toEqual(data.a)
    expect(data.zero[0]).toEqual(data.decoded[0])
    expect(data.codes).toHaveLength(2)
    expect(data.codes[0]!.mean).toHaveLength(3)
    expect(data.decoded[1]).not.toEqual(data.decoded[0])
    expect(data.recon[0]).toHaveLength(6)
    // Completeness: the attributions of each output add up to its change from the baseline.
    const why = data.why
    expect(why.attributions).toHaveLength(18)
    expect(why.baselineOutputs).toEqual(data.decoded[0])
    const spread = Math.max(...why.outputs.map((o, i) => Math.abs(o - why.baselineOutputs[i]!)))
    expect(why.maxGap).toBeLessThan(0.02 * spread + 1e-4)
    for (const [i, g] of why.gaps.entries()) {
      const sum = why.attributions.filter((a) => a.feature === g.feature).reduce((s, a) => s + a.value, 0)
      expect(Math.abs(sum - (why.outputs[i]! - why.baselineOutputs[i]!))).toBeCloseTo(g.gap, 6)
    }
  })

  it('refuses what does not apply, with BAD_USER_INPUT', async () => {
    const predict = await t.gql(`query($id: ID!) { predict(runId: $id, rows: [[0,0,0,0,0,0]]) }`, {
      id: runId,
    })
    expect(code(predict)).toBe('BAD_USER_INPUT')
    expect(predict.errors![0]!.message).toMatch(/sample, encode, decode, reconstruct/)
    const bad = [
      `decode(runId: $id, latents: [[0, 0]])`,
      `decode(runId: $id, latents: [[1e6, 0, 0]])`,
      `encode(runId: $id, rows: [[0, 0, 0]])`,
      `encode(runId: $id, rows: [[3.5e38, 0, 0, 0, 0, 0]])`,
      `sample(runId: $id, n: 0)`,
      `sample(runId: $id, n: 100000)`,
      `sample(runId: $id, n: 2, temperature: -1)`,
      `explainLatent(runId: $id, latent: [0])`,
    ]
    for (const field of bad) {
      const res = await t.gql(
        `query($id: ID!) { x: ${field} ${field.startsWith('encode') ? '{ mean }' : field.startsWith('explainLatent') ? '{ maxGap }' : ''} }`,
        {
          id: runId,
        },
      )
      expect([field, code(res)]).toEqual([field, 'BAD_USER_INPUT'])
    }
    const missing = await t.gql(`query { sample(runId: "00000000-0000-4000-8000-000000000000", n: 1) }`)
    expect(code(missing)).toBe('NOT_FOUND')
  })

  it('validates VAE runs before queueing anything', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ latentDim: 0 }, /latentDim/],
      [{ latentDim: 65 }, /latentDim/],
      [{ beta: 0 }, /beta/],
      [{ likelihood: 'BERNOULLI' }, /\[0, 1\]/],
      [{ explain: ['SHAPLEY'] }, /SHAPLEY does not apply to VAE/],
    ]
    for (const [extra, message] of cases) {
      const res = await startError({ datasetId, family: 'VAE', ...extra })
      expect(code(res)).toBe('BAD_USER_INPUT')
      expect(res.errors![0]!.message).toMatch(message)
    }
    const mlp = await startError({ datasetId })
    expect(code(mlp)).toBe('BAD_USER_INPUT')
    expect(mlp.errors![0]!.message).toMatch(/UNSUPERVISED/)
    const friedman = await generate({ name: 'friedman-for-vae', generator: 'FRIEDMAN1', rows: 100, seed: 1 })
    const noFactors = await startError({ datasetId: friedman, family: 'VAE', explain: ['DISENTANGLEMENT'] })
    expect(code(noFactors)).toBe('BAD_USER_INPUT')
    const latentOnMlp = await startError({ datasetId: friedman, latentDim: 2 })
    expect(latentOnMlp.errors![0]!.message).toMatch(/latentDim applies to VAE/)
    // A VAE trains on the features of a supervised dataset too (its targets are ignored).
    const onFriedman = await start({
      datasetId: friedman,
      family: 'VAE',
      hiddenLayers: [8],
      epochs: 1,
      explain: [],
    })
    expect(await finished(onFriedman)).toEqual({ status: 'SUCCEEDED', error: null })
    const instance = await t.gql(
      `query($id: ID!) { explainInstance(runId: $id, row: [0,0,0,0,0,0]) { prediction } }`,
      {
        id: runId,
      },
    )
    expect(code(instance)).toBe('BAD_USER_INPUT')
  }, 60_000)

  it('filters and orders runs on the final value of a named metric', async () => {
    second = await start({
      datasetId,
      family: 'VAE',
      latentDim: 2,
      hiddenLayers: [16],
      epochs: 2,
      seed: 9,
      experiment: 'vae-api',
      explain: [],
    })
    await finished(second)
    const { runs } = await ok<{
      runs: { edges: { node: { id: string; summary: { metrics: { name: string; value: number }[] } } }[] }
    }>(
      `query { runs(filter: { experiment: "vae-api", family: [VAE] }, orderBy: [{ metric: "valReconstruction", direction: ASC }]) {
        edges { node { id summary { metrics { name value } } } } } }`,
    )
    const nodes = runs.edges.map((e) => e.node)
    const values = nodes.map((r) => r.summary.metrics.find((m) => m.name === 'valReconstruction')!.value)
    expect(values).toHaveLength(2)
    expect(values).toEqual([...values].sort((a, b) => a - b))
    const desc = await ok<{ runs: { edges: { node: { id: string } }[] } }>(
      `query { runs(filter: { experiment: "vae-api" }, orderBy: [{ metric: "valReconstruction", direction: DESC }]) { edges { node { id } } } }`,
    )
    expect(desc.runs.edges.map((e) => e.node.id)).toEqual(nodes.map((r) => r.id).reverse())
    // Between the two: a bound at a stored value's exact 17 digits is not reliable (docs/architecture.md).
    const between = (values[0]! + values[1]!) / 2
    const filtered = await ok<{ runs: { totalCount: number; edges: { node: { id: string } }[] } }>(
      `query($max: Float!) { runs(filter: { experiment: "vae-api", metric: { name: "valReconstruction", max: $max } }) { totalCount edges { node { id } } } }`,
      { max: between },
    )
    expect(filtered.runs.edges.map((e) => e.node.id)).toEqual([nodes[0]!.id])
    // kl_2 exists only for the 3-latent run.
    const kl2 = await ok<{ runs: { edges: { node: { id: string } }[] } }>(
      `query { runs(filter: { experiment: "vae-api", metric: { name: "kl_2" } }) { edges { node { id } } } }`,
    )
    expect(kl2.runs.edges.map((e) => e.node.id)).toEqual([runId])
    // Paging through a metric ordering: one per page, no repeats, nothing lost.
    const page1 = await ok<{
      runs: { pageInfo: { endCursor: string; hasNextPage: boolean }; edges: { node: { id: string } }[] }
    }>(
      `query { runs(filter: { experiment: "vae-api" }, first: 1, orderBy: [{ metric: "valReconstruction", direction: ASC }]) {
        pageInfo { endCursor hasNextPage } edges { node { id } } } }`,
    )
    expect(page1.runs.pageInfo.hasNextPage).toBe(true)
    const page2 = await ok<{
      runs: { pageInfo: { hasNextPage: boolean }; edges: { node: { id: string } }[] }
    }>(
      `query($after: String!) { runs(filter: { experiment: "vae-api" }, first: 1, after: $after,
        orderBy: [{ metric: "valReconstruction", direction: ASC }]) { pageInfo { hasNextPage } edges { node { id } } } }`,
      { after: page1.runs.pageInfo.endCursor },
    )
    expect([...page1.runs.edges, ...page2.runs.edges].map((e) => e.node.id)).toEqual(nodes.map((r) => r.id))
    expect(page2.runs.pageInfo.hasNextPage).toBe(false)
    for (const orderBy of [
      '[{ metric: "kl", field: NAME, direction: ASC }]',
      '[{ direction: ASC }]',
      '[{ metric: "a\\u0000b", direction: ASC }]',
    ]) {
      const res = await t.gql(`query { runs(orderBy: ${orderBy}) { totalCount } }`)
      expect([orderBy, code(res)]).toEqual([orderBy, 'BAD_USER_INPUT'])
    }
    const tampered = await t.gql(
      `query { runs(after: "${Buffer.from(JSON.stringify({ k: ['metric:kl', 'id'], v: [{ x: 1 }, 'y'] })).toString('base64url')}", orderBy: [{ metric: "kl", direction: ASC }]) { totalCount } }`,
    )
    expect(code(tampered)).toBe('BAD_USER_INPUT')
  }, 120_000)

  it('never disposes a cached model that a call is still using', async () => {
    const disposed: string[] = []
    const service = new PredictionService(
      new RunRepository(t.lab.db),
      async (run, stored) => {
        // This process computes nothing else (the server's queries run on its query threads).
        await selectBackend()
        const model = await familyOf(run.family).load(stored)
        return {
          ...model,
          dispose: () => {
            disposed.push(run.id)
            model.dispose()
          },
        }
      },
      1,
    )
    try {
      // A call on the first model that is still going while the second model's load evicts the first.
      let release: (() => void) | undefined
      const held = service.withGenerator(runId, async (g) => {
        await new Promise<void>((resolve) => (release = resolve))
        return g.decode([[0, 0, 0]])
      })
      await waitFor(async () => (release ? true : undefined), { what: 'the first lease' })
      expect(await service.withGenerator(second, (g) => g.decode([[0, 0]]))).toHaveLength(1)
      expect(disposed).toEqual([])
      release!()
      expect((await held)[0]).toHaveLength(6)
      await waitFor(async () => (disposed.includes(runId) ? true : undefined), { what: 'the evicted model' })
      // The evicted model loads again on its next use.
      expect(await service.withGenerator(runId, (g) => g.decode([[0, 0, 0]]))).toHaveLength(1)
      expect(disposed).toEqual([runId, second])
    } finally {
      service.dispose()
    }
  })

  it('sweeps latentDim and beta, ranking runs by a named metric', async () => {
    const { startSweep } = await ok<{ startSweep: { id: string } }>(
      `mutation($input: SweepInput!) { startSweep(input: $input) { id } }`,
      {
        input: {
          experiment: 'vae-sweep',
          datasetId,
          method: 'GRID',
          metric: 'valReconstruction',
          goal: 'MINIMIZE',
          parameters: [
            { name: 'latentDim', values: [1, 2] },
            { name: 'beta', values: [0.5] },
          ],
          base: { datasetId, family: 'VAE', hiddenLayers: [16], epochs: 3, explain: [] },
        },
      },
    )
    const sweep = await waitFor(
      async () => {
        const { sweep } = await ok<{
          sweep: {
            status: string
            bestRun: {
              id: string
              latentDim: number
              summary: { metrics: { name: string; value: number }[] }
            } | null
            runs: {
              edges: {
                node: {
                  latentDim: number
                  beta: number
                  summary: { metrics: { name: string; value: number }[] }
                }
              }[]
            }
          }
        }>(
          `query($id: ID!) { sweep(id: $id) { status bestRun { id latentDim summary { metrics { name value } } }
            runs { edges { node { latentDim beta summary { metrics { name value } } } } } } }`,
          { id: startSweep.id },
        )
        return sweep.status === 'RUNNING' ? undefined : sweep
      },
      { timeoutMs: 120_000, what: 'the VAE sweep' },
    )
    expect(sweep.status).toBe('FINISHED')
    const sweepRuns = sweep.runs.edges.map((e) => e.node)
    expect(sweepRuns.map((r) => r.latentDim).sort()).toEqual([1, 2])
    expect(sweepRuns.every((r) => r.beta === 0.5)).toBe(true)
    const value = (r: { summary: { metrics: { name: string; value: number }[] } }) =>
      r.summary.metrics.find((m) => m.name === 'valReconstruction')!.value
    expect(value(sweep.bestRun!)).toBe(Math.min(...sweepRuns.map(value)))
    // kl_1 is not reported by a 1-latent run: refused before anything is queued.
    const refused = await t.gql(`mutation($input: SweepInput!) { startSweep(input: $input) { id } }`, {
      input: {
        experiment: 'vae-sweep-bad',
        datasetId,
        method: 'GRID',
        metric: 'kl_1',
        goal: 'MINIMIZE',
        parameters: [{ name: 'latentDim', values: [1, 2] }],
        base: { datasetId, family: 'VAE', epochs: 2 },
      },
    })
    expect(code(refused)).toBe('BAD_USER_INPUT')
  }, 180_000)
})

describe('a VAE on SPRITES', () => {
  it('trains with the BERNOULLI likelihood by default and explains the pixels', async () => {
    const datasetId = await generate({ name: 'sprites', generator: 'SPRITES', rows: 1200, seed: 2 })
    const runId = await start({
      datasetId,
      family: 'VAE',
      latentDim: 4,
      hiddenLayers: [64],
      epochs: 4,
      seed: 1,
    })
    expect(await finished(runId)).toEqual({ status: 'SUCCEEDED', error: null })
    const { run } = await ok<{ run: { likelihood: string; explanation: VaeExplanation } }>(
      `query($id: ID!) { run(id: $id) { likelihood ${VAE_EXPLANATION} } }`,
      { id: runId },
    )
    expect(run.likelihood).toBe('BERNOULLI')
    expect(run.explanation.latentSensitivity).toHaveLength(4 * 256)
    expect(run.explanation.disentanglement!.factors.map((f) => f.factor)).toEqual([
      'shape',
      'scale',
      'posX',
      'posY',
    ])
    const { sample } = await ok<{ sample: number[][] }>(
      `query($id: ID!) { sample(runId: $id, n: 3, seed: 4) }`,
      { id: runId },
    )
    expect(sample).toHaveLength(3)
    expect(sample.flat().every((p) => p >= 0 && p <= 1)).toBe(true)
  }, 240_000)
})
