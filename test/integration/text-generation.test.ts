import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { copyText } from '../../src/modules/dataset/generators'
import { runCli } from '../unit/cli/harness'
import { collect, GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

let t: TestLab
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code
/** A small corpus cap, so the over-size case needs no megabytes. */
const MAX_TEXT_BYTES = 20_000
const MAX_GENERATE_TOKENS = 50

beforeAll(async () => {
  t = await startTestLab({
    LAB_WORKERS: '1',
    LAB_MAX_TEXT_BYTES: String(MAX_TEXT_BYTES),
    LAB_MAX_GENERATE_TOKENS: String(MAX_GENERATE_TOKENS),
  })
}, 60_000)
afterAll(async () => {
  await t?.stop()
})

async function ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.gql<T>(query, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!
}

const DATASET = 'id name version kind task rowCount featureNames vocabulary minCount contentHash'
interface Dataset {
  id: string
  name: string
  version: number
  kind: string
  task: string
  rowCount: number
  featureNames: string[]
  vocabulary: string[] | null
  minCount: number | null
  contentHash: string
}

const importText = (input: Record<string, unknown>) =>
  t.gql<{ importTextDataset: Dataset }>(
    `mutation($input: ImportTextDatasetInput!) { importTextDataset(input: $input) { ${DATASET} } }`,
    { input },
  )
const generateDataset = (input: Record<string, unknown>) =>
  t.gql<{ generateDataset: Dataset }>(
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { ${DATASET} } }`,
    { input },
  )
const startRun = (input: Record<string, unknown>) =>
  t.gql<{
    startRun: { id: string; family: string; architecture: string | null; contextLength: number | null }
  }>(
    `mutation($input: StartRunInput!) { startRun(input: $input) { id family architecture contextLength hiddenLayers } }`,
    { input },
  )

async function finished(id: string) {
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

const GENERATE = `query($runId: ID!, $prompt: String!, $maxTokens: Int, $temperature: Float, $topK: Int, $seed: Int) {
  generate(runId: $runId, prompt: $prompt, maxTokens: $maxTokens, temperature: $temperature, topK: $topK, seed: $seed) {
    text tokens { token probability entropy alternatives { token probability } }
  }
}`
const GENERATION_EVENTS = `subscription($runId: ID!, $prompt: String!, $maxTokens: Int, $temperature: Float, $topK: Int, $seed: Int) {
  generationEvents(runId: $runId, prompt: $prompt, maxTokens: $maxTokens, temperature: $temperature, topK: $topK, seed: $seed) {
    token probability entropy alternatives { token probability }
  }
}`
const TEXT_EXPLANATION = `methods computeMs cost { method ms evaluations }
  distanceProfile { method distances meanAbsAttribution peakDistance peakShare windows meanGap maxGap ms evaluations }
  nextCharacterSurrogates { kind order contextPositions top1Agreement meanKl fittedWindows evaluationWindows
    weightByDistance backoffShare }
  textSamples { prompt text reference temperature seed meanProbability meanEntropy }`
interface TextExplanation {
  methods: string[]
  computeMs: number
  cost: { method: string; ms: number; evaluations: number }[]
  distanceProfile:
    | {
        method: string
        distances: number[]
        meanAbsAttribution: number[]
        peakDistance: number
        peakShare: number
        windows: number
      }[]
    | null
  nextCharacterSurrogates:
    | {
        kind: string
        order: number | null
        contextPositions: number
        top1Agreement: number
        meanKl: number
        weightByDistance: number[] | null
      }[]
    | null
  textSamples:
    | {
        prompt: string
        text: string
        reference: string
        temperature: number
        seed: number
        meanProbability: number
      }[]
    | null
}

interface Token {
  token: string
  probability: number
  entropy: number
  alternatives: { token: string; probability: number }[]
}

describe('text datasets', () => {
  it('imports a corpus as a TEXT dataset, versioned by content', async () => {
    const text = 'the cat sat on the mat. the dog sat on the log.'
    const first = await importText({ name: 'fables', text })
    expect(first.errors).toBeUndefined()
    const d = first.data!.importTextDataset
    expect(d).toMatchObject({ kind: 'TEXT', task: 'UNSUPERVISED', rowCount: text.length, featureNames: [] })
    expect(d.minCount).toBe(1)
    expect(d.vocabulary).toEqual([...new Set(text)].sort())
    const again = (await importText({ name: 'fables', text })).data!.importTextDataset
    expect(again).toMatchObject({ id: d.id, version: 1 })
    const rare = (await importText({ name: 'fables', text, minCount: 3 })).data!.importTextDataset
    expect(rare.version).toBe(2)
    expect(rare.vocabulary).not.toContain('c')
    expect(rare.vocabulary).toContain('t')
    const tables = await ok<{ dataset: { kind: string; vocabulary: null } }>(
      `query($id: ID!) { dataset(id: $id) { kind vocabulary } }`,
      { id: d.id },
    )
    expect(tables.dataset.kind).toBe('TEXT')
  })

  it('refuses empty texts and vocabularies of fewer than 2 characters (BAD_USER_INPUT)', async () => {
    expect(code(await importText({ name: 'empty', text: '' }))).toBe('BAD_USER_INPUT')
    expect(code(await importText({ name: 'one', text: 'aaaaaaaa' }))).toBe('BAD_USER_INPUT')
    expect(code(await importText({ name: 'rare', text: 'aaab', minCount: 2 }))).toBe('BAD_USER_INPUT')
    expect(code(await importText({ name: 'zero', text: 'ab', minCount: 0 }))).toBe('BAD_USER_INPUT')
  })

  it('takes a corpus up to the configured size and refuses a larger one with PAYLOAD_TOO_LARGE', async () => {
    const fits = await importText({ name: 'big', text: copyText(MAX_TEXT_BYTES, 3, 0.2, 1) })
    expect(fits.errors).toBeUndefined()
    expect(fits.data!.importTextDataset.rowCount).toBe(MAX_TEXT_BYTES)
    const over = await importText({ name: 'big', text: copyText(MAX_TEXT_BYTES + 1, 3, 0.2, 1) })
    expect(code(over)).toBe('PAYLOAD_TOO_LARGE')
    expect(code(await generateDataset({ name: 'c', generator: 'COPY_TEXT', rows: MAX_TEXT_BYTES + 1 }))).toBe(
      'PAYLOAD_TOO_LARGE',
    )
  })

  it('generates COPY_TEXT: seeded, lag default 5, and refuses a lag on other generators', async () => {
    const a = (
      await generateDataset({ name: 'copy', generator: 'COPY_TEXT', rows: 3000, noise: 0.1, seed: 3 })
    ).data!.generateDataset
    expect(a).toMatchObject({ kind: 'TEXT', rowCount: 3000 })
    expect(a.vocabulary).toHaveLength(26)
    const same = (
      await generateDataset({ name: 'copy', generator: 'COPY_TEXT', rows: 3000, noise: 0.1, seed: 3, lag: 5 })
    ).data!.generateDataset
    expect(same.id).toBe(a.id)
    const lag3 = (
      await generateDataset({ name: 'copy', generator: 'COPY_TEXT', rows: 3000, noise: 0.1, seed: 3, lag: 3 })
    ).data!.generateDataset
    expect(lag3.contentHash).not.toBe(a.contentHash)
    expect(code(await generateDataset({ name: 'x', generator: 'XOR', rows: 10, lag: 3 }))).toBe(
      'BAD_USER_INPUT',
    )
    expect(code(await generateDataset({ name: 'c', generator: 'COPY_TEXT', rows: 10, lag: 0 }))).toBe(
      'BAD_USER_INPUT',
    )
    expect(code(await generateDataset({ name: 'c', generator: 'COPY_TEXT', rows: 10, noise: 1.5 }))).toBe(
      'BAD_USER_INPUT',
    )
  })
})

describe('lab dataset import --text', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lab-text-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  const lab = (argv: string[]) => runCli(argv, { env: { LAB_URL: t.lab.url }, cwd: dir })

  it('imports a UTF-8 file as a TEXT dataset, with --min-count', async () => {
    await writeFile(path.join(dir, 'corpus.txt'), 'héllo wörld, hello world 😀\n', 'utf8')
    const r = await lab(['dataset', 'import', 'corpus.txt', '--text', '--min-count', '2', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const d = JSON.parse(r.stdout) as Dataset
    expect(d).toMatchObject({ name: 'corpus', kind: 'TEXT', rowCount: 27 })
    // Seen once: é, e (only in "hello"), ö, ',', 😀 and the newline.
    expect(d.vocabulary).toEqual([' ', 'd', 'h', 'l', 'o', 'r', 'w'])
    const listed = await lab(['datasets'])
    expect(listed.stdout).toMatch(/text \(7 chars\)/)
  })

  it('refuses table options with --text, and names the file in server errors', async () => {
    await writeFile(path.join(dir, 'one.txt'), 'aaaa', 'utf8')
    const mixed = await lab(['dataset', 'import', 'one.txt', '--text', '--target', 'y'])
    expect(mixed.code).not.toBe(0)
    expect(mixed.stderr).toMatch(/--text takes no --target/)
    const tiny = await lab(['dataset', 'import', 'one.txt', '--text'])
    expect(tiny.code).not.toBe(0)
    expect(tiny.stderr).toMatch(/one\.txt: .*at least 2/)
  })
})

describe('SEQUENCE runs', () => {
  let textId: string
  let tableId: string
  let mlpRun: string
  let gruRun: string
  let tableRun: string
  let mlpEvents: { runEvents: Record<string, unknown> & { __typename: string } }[]

  beforeAll(async () => {
    textId = (
      await generateDataset({
        name: 'copy3',
        generator: 'COPY_TEXT',
        rows: 6000,
        noise: 0.1,
        seed: 8,
        lag: 3,
      })
    ).data!.generateDataset.id
    tableId = (await generateDataset({ name: 'xor', generator: 'XOR', rows: 200, seed: 1 })).data!
      .generateDataset.id
    const mlp = await startRun({
      datasetId: textId,
      family: 'SEQUENCE',
      architecture: 'WINDOW_MLP',
      contextLength: 8,
      hiddenLayers: [32],
      epochs: 3,
      batchSize: 64,
      learningRate: 0.01,
      seed: 2,
    })
    expect(mlp.errors).toBeUndefined()
    mlpRun = mlp.data!.startRun.id
    expect(mlp.data!.startRun).toMatchObject({
      family: 'SEQUENCE',
      architecture: 'WINDOW_MLP',
      contextLength: 8,
    })
    const events = collect<{ runEvents: Record<string, unknown> & { __typename: string } }>(
      t.ws(),
      `subscription($id: ID!) { runEvents(runId: $id) { __typename
        ... on EpochCompleted { metric { epoch values { name value } } }
        ... on ExplanationReady { explanation { methods } }
        ... on RunStatusChanged { status error } } }`,
      { id: mlpRun },
    )
    const gru = await startRun({
      datasetId: textId,
      family: 'SEQUENCE',
      architecture: 'RNN_GRU',
      contextLength: 4,
      hiddenLayers: [8],
      epochs: 1,
      batchSize: 64,
      seed: 2,
      explain: ['GENERATED_SAMPLES'],
    })
    expect(gru.errors).toBeUndefined()
    gruRun = gru.data!.startRun.id
    const table = await startRun({ datasetId: tableId, hiddenLayers: [4], epochs: 1, explain: [] })
    tableRun = table.data!.startRun.id
    mlpEvents = await events.done
    expect(await finished(gruRun)).toEqual({ status: 'SUCCEEDED', error: null })
    expect(await finished(tableRun)).toMatchObject({ status: 'SUCCEEDED' })
  }, 300_000)

  it('trains a WINDOW_MLP with the named metrics on runEvents, and learns the lag', async () => {
    const epochs = mlpEvents.filter((e) => e.runEvents.__typename === 'EpochCompleted')
    expect(epochs).toHaveLength(3)
    for (const e of epochs) {
      const names = (e.runEvents['metric'] as { values: { name: string }[] }).values.map((v) => v.name)
      expect(names).toEqual(['loss', 'valLoss', 'perplexity', 'valPerplexity', 'accuracy', 'valAccuracy'])
    }
    const last = mlpEvents.at(-1)!.runEvents
    expect(last).toMatchObject({ __typename: 'RunStatusChanged', status: 'SUCCEEDED' })
    const { run } = await ok<{
      run: {
        architecture: string
        contextLength: number
        summary: { metrics: { name: string; value: number }[] }
      }
    }>(`query($id: ID!) { run(id: $id) { architecture contextLength summary { metrics { name value } } } }`, {
      id: mlpRun,
    })
    expect(run).toMatchObject({ architecture: 'WINDOW_MLP', contextLength: 8 })
    const valAccuracy = run.summary.metrics.find((m) => m.name === 'valAccuracy')!.value
    // Chance is 1/26, copying 0.9.
    expect(valAccuracy).toBeGreaterThan(0.5)
  })

  it('explains the generator in the worker: ExplanationReady before SUCCEEDED, stored on the run', async () => {
    const kinds = mlpEvents.map((e) => e.runEvents.__typename)
    const ready = kinds.indexOf('ExplanationReady')
    expect(ready).toBeGreaterThan(kinds.lastIndexOf('EpochCompleted'))
    expect(ready).toBe(kinds.length - 2)
    expect(mlpEvents[ready]!.runEvents['explanation']).toEqual({
      methods: ['DISTANCE_PROFILE', 'NEXT_CHARACTER_SURROGATE', 'GENERATED_SAMPLES'],
    })
    const { run } = await ok<{ run: { explanation: TextExplanation } }>(
      `query($id: ID!) { run(id: $id) { explanation { ${TEXT_EXPLANATION} } } }`,
      { id: mlpRun },
    )
    const x = run.explanation
    expect(x.methods).toEqual(['DISTANCE_PROFILE', 'NEXT_CHARACTER_SURROGATE', 'GENERATED_SAMPLES'])
    expect(x.distanceProfile!.map((p) => p.method)).toEqual([
      'INTEGRATED_GRADIENTS',
      'OCCLUSION',
      'SHAPLEY',
      'LINEAR_SURROGATE',
    ])
    for (const p of x.distanceProfile!) {
      expect(p.distances).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      expect(p.meanAbsAttribution).toHaveLength(8)
      // The corpus copies the character 3 back.
      expect(p.peakDistance).toBe(3)
      expect(p.peakShare).toBeGreaterThan(0.5)
      expect(p.windows).toBeGreaterThan(0)
    }
    const [linear, ...ngrams] = x.nextCharacterSurrogates!
    expect(linear).toMatchObject({ kind: 'SOFTMAX_LINEAR', order: null, contextPositions: 8 })
    expect(linear!.weightByDistance).toHaveLength(8)
    expect(ngrams.map((g) => [g.kind, g.order])).toEqual([
      ['NGRAM', 1],
      ['NGRAM', 2],
      ['NGRAM', 3],
    ])
    // Only a model that reads 3 back can follow the copy: the 3-gram reads 2.
    for (const g of ngrams) expect(g.top1Agreement).toBeLessThan(linear!.top1Agreement)
    expect(linear!.meanKl).toBeGreaterThanOrEqual(0)
    expect(x.textSamples!.map((t) => t.temperature)).toEqual([0, 1, 0, 1, 0, 1])
    for (const t of x.textSamples!) {
      expect(t.prompt).toHaveLength(8)
      expect(t.text).toHaveLength(32)
      expect(t.reference).toHaveLength(32)
      expect(t.meanProbability).toBeGreaterThan(0)
    }
    // Each sample is what `generate` gives for its prompt, temperature and seed (greedy compared: a sampled
    // draw could in principle fall on the other side of a rounding difference of the batched evaluation).
    for (const sample of x.textSamples!.filter((t) => t.temperature === 0)) {
      const { generate } = await ok<{ generate: { text: string } }>(GENERATE, {
        runId: mlpRun,
        prompt: sample.prompt,
        maxTokens: 32,
        temperature: 0,
        seed: sample.seed,
      })
      expect(generate.text).toBe(sample.text)
    }
    expect(x.cost.map((c) => c.method).sort()).toEqual([
      'DISTANCE_PROFILE',
      'GENERATED_SAMPLES',
      'NEXT_CHARACTER_SURROGATE',
    ])
    for (const c of x.cost) expect(c.evaluations).toBeGreaterThan(0)
    console.log(`SEQUENCE explanation: ${x.computeMs.toFixed(0)} ms`, JSON.stringify(x.cost))

    // Only what was asked for: the GRU run asked for samples alone.
    const gru = await ok<{ run: { explanation: TextExplanation } }>(
      `query($id: ID!) { run(id: $id) { explanation { ${TEXT_EXPLANATION} } } }`,
      { id: gruRun },
    )
    expect(gru.run.explanation).toMatchObject({
      methods: ['GENERATED_SAMPLES'],
      distanceProfile: null,
      nextCharacterSurrogates: null,
    })
    expect(gru.run.explanation.textSamples).toHaveLength(6)
    expect(gru.run.explanation.cost.map((c) => c.method)).toEqual(['GENERATED_SAMPLES'])
  })

  it('shows the RNN_GRU run with its architecture and defaults', async () => {
    const { run } = await ok<{
      run: { architecture: string; contextLength: number; hiddenLayers: number[] }
    }>(`query($id: ID!) { run(id: $id) { architecture contextLength hiddenLayers } }`, { id: gruRun })
    expect(run).toEqual({ architecture: 'RNN_GRU', contextLength: 4, hiddenLayers: [8] })
    const defaults = await startRun({ datasetId: textId, family: 'SEQUENCE', epochs: 1 })
    expect(defaults.data!.startRun).toMatchObject({
      architecture: 'WINDOW_MLP',
      contextLength: 32,
      hiddenLayers: [128],
    })
    await ok(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: defaults.data!.startRun.id })
  })

  it('generates: the query and the stream give the same tokens for the same seed', async () => {
    const variables = { runId: mlpRun, prompt: 'abcabcab', maxTokens: 20, temperature: 0.8, seed: 11 }
    const { generate } = await ok<{ generate: { text: string; tokens: Token[] } }>(GENERATE, variables)
    expect(generate.tokens).toHaveLength(20)
    expect(generate.text).toBe(generate.tokens.map((tk) => tk.token).join(''))
    for (const tk of generate.tokens) {
      expect(tk.alternatives).toHaveLength(5)
      expect(tk.probability).toBeGreaterThan(0)
      expect(tk.entropy).toBeGreaterThanOrEqual(0)
      const ps = tk.alternatives.map((a) => a.probability)
      expect([...ps].sort((a, b) => b - a)).toEqual(ps)
    }
    const again = await ok<{ generate: { text: string } }>(GENERATE, variables)
    expect(again.generate.text).toBe(generate.text)
    const streamed = await collect<{ generationEvents: Token }>(t.ws(), GENERATION_EVENTS, variables).done
    expect(streamed.map((s) => s.generationEvents)).toEqual(generate.tokens)
    // Greedy follows the top alternative, and on a lag-3 copy text it continues the period.
    const greedy = await ok<{ generate: { text: string; tokens: Token[] } }>(GENERATE, {
      ...variables,
      temperature: 0,
    })
    for (const tk of greedy.generate.tokens) expect(tk.token).toBe(tk.alternatives[0]!.token)
    expect(greedy.generate.text.startsWith('cab')).toBe(true)
    const top1 = await ok<{ generate: { text: string } }>(GENERATE, { ...variables, topK: 1, seed: 99 })
    expect(top1.generate.text).toBe(greedy.generate.text)
    const gru = await ok<{ generate: { tokens: Token[] } }>(GENERATE, { ...variables, runId: gruRun })
    expect(gru.generate.tokens).toHaveLength(20)
  })

  it('refuses bad generation requests with BAD_USER_INPUT, on the query and the stream', async () => {
    const bad = [
      { prompt: '' },
      { prompt: 'ab!' },
      { prompt: 'ABC' },
      { prompt: 'abc', maxTokens: MAX_GENERATE_TOKENS + 1 },
      { prompt: 'abc', maxTokens: 0 },
      { prompt: 'abc', temperature: -1 },
      { prompt: 'abc', topK: 0 },
      { prompt: 'abc', topK: 28 },
    ]
    for (const args of bad) {
      const res = await t.gql(GENERATE, { runId: mlpRun, ...args })
      expect([args, code(res)]).toEqual([args, 'BAD_USER_INPUT'])
    }
    const stream = collect(t.ws(), GENERATION_EVENTS, { runId: mlpRun, prompt: 'xyz!' })
    await expect(stream.done).rejects.toThrow(/BAD_USER_INPUT/)
    // A table model has no text capability.
    expect(code(await t.gql(GENERATE, { runId: tableRun, prompt: 'abc' }))).toBe('BAD_USER_INPUT')
  })

  it('sweeps architecture and contextLength of SEQUENCE runs', async () => {
    const { startSweep } = await ok<{ startSweep: { id: string } }>(
      `mutation($input: SweepInput!) { startSweep(input: $input) { id } }`,
      {
        input: {
          datasetId: textId,
          experiment: 'text-sweep',
          method: 'GRID',
          metric: 'valPerplexity',
          goal: 'MINIMIZE',
          maxConcurrent: 1,
          parameters: [
            { name: 'architecture', values: ['WINDOW_MLP', 'RNN_GRU'] },
            { name: 'contextLength', values: [2, 4] },
          ],
          base: {
            datasetId: textId,
            family: 'SEQUENCE',
            hiddenLayers: [4],
            epochs: 1,
            batchSize: 256,
            seed: 1,
            // The sweep is what is tested here; explanations have their own test above.
            explain: [],
          },
        },
      },
    )
    const sweep = await waitFor(
      async () => {
        const { sweep } = await ok<{
          sweep: {
            status: string
            bestRun: { id: string } | null
            runs: { edges: { node: { status: string; architecture: string; contextLength: number } }[] }
          }
        }>(
          `query($id: ID!) { sweep(id: $id) { status bestRun { id }
            runs(first: 10) { edges { node { status architecture contextLength } } } } }`,
          { id: startSweep.id },
        )
        return sweep.status === 'RUNNING' ? undefined : sweep
      },
      { timeoutMs: 240_000, what: 'the sweep' },
    )
    expect(sweep.status).toBe('FINISHED')
    expect(sweep.bestRun).not.toBeNull()
    const points = sweep.runs.edges
      .map(({ node: r }) => `${r.status} ${r.architecture} ${r.contextLength}`)
      .sort()
    expect(points).toEqual([
      'SUCCEEDED RNN_GRU 2',
      'SUCCEEDED RNN_GRU 4',
      'SUCCEEDED WINDOW_MLP 2',
      'SUCCEEDED WINDOW_MLP 4',
    ])
    const bad = await t.gql(`mutation($input: SweepInput!) { startSweep(input: $input) { id } }`, {
      input: {
        datasetId: textId,
        experiment: 'text-sweep',
        method: 'GRID',
        metric: 'valLoss',
        goal: 'MINIMIZE',
        parameters: [{ name: 'architecture', values: ['LSTM'] }],
        base: { datasetId: textId, family: 'SEQUENCE' },
      },
    })
    expect(code(bad)).toBe('BAD_USER_INPUT')
  }, 300_000)

  it('refuses SEQUENCE on tables, other families on TEXT, and foreign hyperparameters (BAD_USER_INPUT)', async () => {
    const cases: Record<string, unknown>[] = [
      { datasetId: tableId, family: 'SEQUENCE' },
      { datasetId: textId },
      { datasetId: textId, family: 'MLP' },
      { datasetId: textId, family: 'VAE' },
      { datasetId: textId, family: 'SEQUENCE', latentDim: 2 },
      { datasetId: tableId, family: 'MLP', architecture: 'RNN_GRU' },
      { datasetId: tableId, family: 'VAE', contextLength: 8 },
      { datasetId: textId, family: 'SEQUENCE', contextLength: 0 },
      { datasetId: textId, family: 'SEQUENCE', contextLength: 257 },
      { datasetId: textId, family: 'SEQUENCE', architecture: 'RNN_GRU', hiddenLayers: [] },
      { datasetId: textId, family: 'SEQUENCE', explain: ['PERMUTATION_IMPORTANCE'] },
      { datasetId: tableId, family: 'MLP', explain: ['DISTANCE_PROFILE'] },
      { datasetId: tableId, family: 'VAE', explain: ['GENERATED_SAMPLES'] },
      // 256 x 27 one-hot inputs into 4096 units: about 28 million weights, above LAB_MAX_MODEL_PARAMETERS.
      { datasetId: textId, family: 'SEQUENCE', contextLength: 256, hiddenLayers: [4096] },
      // About 4,000 training targets in batches of 1, x 256 recurrent steps x 3 epochs: about 3 million
      // steps, above LAB_MAX_TRAINING_STEPS (2,000,000).
      {
        datasetId: textId,
        family: 'SEQUENCE',
        architecture: 'RNN_GRU',
        contextLength: 256,
        batchSize: 1,
        epochs: 3,
      },
    ]
    for (const input of cases) {
      const res = await startRun(input)
      expect([input, code(res)]).toEqual([input, 'BAD_USER_INPUT'])
    }
    // The same step count is fine for a WINDOW_MLP (one step per batch): queued, then cancelled.
    const window = await startRun({
      datasetId: textId,
      family: 'SEQUENCE',
      contextLength: 256,
      batchSize: 1,
      epochs: 2,
    })
    expect(window.errors).toBeUndefined()
    await ok(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id: window.data!.startRun.id })
  })
})
