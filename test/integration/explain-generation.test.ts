import { randomUUID } from 'node:crypto'
import { TOKEN_METHODS } from '../../src/explain/token-attribution'
import { generationEvaluations } from '../../src/models/sequence/explain-generation'
import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

const LAG = 4
const CONTEXT = 12
/** Longer than contextLength, so every step has 12 positions and Shapley samples permutations (above 10). */
const PROMPT = 'qwertyuiopas'
const STEPS = 20
const MAX_GENERATE_TOKENS = 30
/** Exactly what the default explanation (all methods, 20 characters after PROMPT) may need. */
const BUDGET = generationEvaluations(CONTEXT, PROMPT.length, STEPS, TOKEN_METHODS)

let t: TestLab
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code

async function ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await t.gql<T>(query, variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!
}

const EXPLAIN = `query($runId: ID!, $prompt: String!, $target: String, $maxTokens: Int,
    $methods: [TokenAttributionMethod!], $seed: Int, $temperature: Float) {
  explainGeneration(runId: $runId, prompt: $prompt, target: $target, maxTokens: $maxTokens, methods: $methods,
      seed: $seed, temperature: $temperature) {
    sourceTokens targetTokens baseline contextStarts
    stepScores { probability entropy }
    attributions { method target source value }
    checks { method maxGap meanGap maxStdError minFidelityR2 meanFidelityR2 maxSteps }
    costs { method ms evaluations }
  }
}`
interface Explanation {
  sourceTokens: string[]
  targetTokens: string[]
  baseline: string
  contextStarts: number[]
  stepScores: { probability: number; entropy: number }[]
  attributions: { method: string; target: number; source: number; value: number }[]
  checks: {
    method: string
    maxGap: number
    meanGap: number
    maxStdError: number | null
    minFidelityR2: number | null
    meanFidelityR2: number | null
    maxSteps: number | null
  }[]
  costs: { method: string; ms: number; evaluations: number }[]
}
const explain = (variables: Record<string, unknown>) =>
  t.gql<{ explainGeneration: Explanation }>(EXPLAIN, { runId: textRun, prompt: PROMPT, ...variables })
const explained = async (variables: Record<string, unknown>) => {
  const res = await explain(variables)
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.explainGeneration
}

const GENERATE = `query($runId: ID!, $prompt: String!, $maxTokens: Int, $temperature: Float) {
  generate(runId: $runId, prompt: $prompt, maxTokens: $maxTokens, temperature: $temperature) {
    text tokens { token probability entropy }
  }
}`

async function finished(id: string): Promise<string> {
  return waitFor(
    async () => {
      const { run } = await ok<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, {
        id,
      })
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status) ? run.status : undefined
    },
    { timeoutMs: 90_000, what: `run ${id}` },
  )
}

let textRun: string
let tableRun: string

beforeAll(async () => {
  t = await startTestLab({
    LAB_WORKERS: '1',
    LAB_MAX_GENERATE_TOKENS: String(MAX_GENERATE_TOKENS),
    LAB_MAX_EXPLAIN_EVALUATIONS: String(BUDGET),
  })
  const generate = (input: Record<string, unknown>) =>
    ok<{ generateDataset: { id: string } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      { input },
    )
  const startRun = (input: Record<string, unknown>) =>
    ok<{ startRun: { id: string } }>(`mutation($input: StartRunInput!) { startRun(input: $input) { id } }`, {
      input,
    })
  const text = await generate({
    name: 'copy4',
    generator: 'COPY_TEXT',
    rows: 4000,
    noise: 0.05,
    seed: 4,
    lag: LAG,
  })
  const table = await generate({ name: 'xor', generator: 'XOR', rows: 100, seed: 1 })
  textRun = (
    await startRun({
      datasetId: text.generateDataset.id,
      family: 'SEQUENCE',
      architecture: 'WINDOW_MLP',
      contextLength: CONTEXT,
      hiddenLayers: [32],
      epochs: 3,
      batchSize: 64,
      learningRate: 0.01,
      seed: 3,
    })
  ).startRun.id
  tableRun = (
    await startRun({ datasetId: table.generateDataset.id, hiddenLayers: [4], epochs: 1, explain: [] })
  ).startRun.id
  expect(await finished(textRun)).toBe('SUCCEEDED')
  expect(await finished(tableRun)).toBe('SUCCEEDED')
}, 120_000)
afterAll(async () => {
  await t?.stop()
})

/** The distance back (len(prompt) + target - source) of each step's largest |attribution|, per method. */
function topDistances(e: Explanation): Map<string, number[]> {
  return new Map(
    TOKEN_METHODS.map((method) => [
      method,
      e.targetTokens.map((_, step) => {
        const rows = e.attributions.filter((a) => a.method === method && a.target === step)
        const top = rows.reduce((best, a) => (Math.abs(a.value) > Math.abs(best.value) ? a : best))
        return e.sourceTokens.length + step - top.source
      }),
    ]),
  )
}

describe('explainGeneration', () => {
  let greedy: Explanation

  beforeAll(async () => {
    greedy = await explained({})
  }, 60_000)

  it('explains 20 greedy characters by default, each attributed to its context window', () => {
    expect(greedy.sourceTokens).toEqual([...PROMPT])
    expect(greedy.targetTokens).toHaveLength(STEPS)
    expect(greedy.baseline).toBe('ZERO')
    expect(greedy.contextStarts).toEqual(Array.from({ length: STEPS }, (_, s) => PROMPT.length + s - CONTEXT))
    for (const method of TOKEN_METHODS) {
      expect(greedy.attributions.filter((a) => a.method === method)).toHaveLength(STEPS * CONTEXT)
    }
    for (const a of greedy.attributions) {
      expect(a.source).toBeGreaterThanOrEqual(greedy.contextStarts[a.target]!)
      expect(a.source).toBeLessThan(PROMPT.length + a.target)
    }
    expect(greedy.costs.map((c) => c.method)).toEqual(TOKEN_METHODS)
    for (const c of greedy.costs) {
      expect(c.evaluations).toBeGreaterThan(0)
      expect(c.ms).toBeGreaterThanOrEqual(0)
    }
  })

  it(`puts every method's largest attribution at distance ${LAG} for at least 90% of the characters`, async () => {
    // Prompts the model never saw (no period of 4 in them): it must find the character LAG back.
    const others = await Promise.all(['mnbvcxzlkjhg', 'thequickbrow'].map((prompt) => explained({ prompt })))
    for (const method of TOKEN_METHODS) {
      const distances = [greedy, ...others].flatMap((e) => topDistances(e).get(method)!)
      const atLag = distances.filter((d) => d === LAG).length
      expect([method, atLag / distances.length >= 0.9, distances]).toEqual([method, true, distances])
    }
  })

  it('reports the checks of every method: small IG gaps, the Shapley standard error, the surrogate fidelity', () => {
    const check = (method: string) => greedy.checks.find((c) => c.method === method)!
    expect(greedy.checks.map((c) => c.method)).toEqual(TOKEN_METHODS)
    // The scale of what is attributed: the largest |log p(y_t | context) - log p(y_t | baseline)| (IG's sums).
    const totals = greedy.targetTokens.map((_, step) =>
      greedy.attributions
        .filter((a) => a.method === 'INTEGRATED_GRADIENTS' && a.target === step)
        .reduce((sum, a) => sum + a.value, 0),
    )
    const scale = Math.max(1, ...totals.map(Math.abs))
    const ig = check('INTEGRATED_GRADIENTS')
    expect(ig.maxGap).toBeLessThan(0.05 * scale)
    expect(ig.meanGap).toBeLessThanOrEqual(ig.maxGap)
    expect(ig.maxSteps).toBeGreaterThanOrEqual(16)
    const shapley = check('SHAPLEY')
    // 12 positions: sampled permutations, efficient by construction, with a positive standard error.
    expect(shapley.maxSteps).toBe(32)
    expect(shapley.maxStdError).toBeGreaterThan(0)
    expect(shapley.maxGap).toBeLessThan(1e-6 * scale)
    const surrogate = check('LINEAR_SURROGATE')
    expect(surrogate.minFidelityR2).not.toBeNull()
    expect(surrogate.meanFidelityR2).toBeGreaterThan(0.5)
    expect(surrogate.minFidelityR2!).toBeLessThanOrEqual(surrogate.meanFidelityR2!)
    const occlusion = check('OCCLUSION')
    expect([occlusion.maxStdError, occlusion.minFidelityR2, occlusion.maxSteps]).toEqual([null, null, null])
  })

  it("scores the same characters as generate's greedy text, and teacher-forces a target", async () => {
    const { generate } = await ok<{
      generate: { text: string; tokens: { token: string; probability: number; entropy: number }[] }
    }>(GENERATE, { runId: textRun, prompt: PROMPT, maxTokens: STEPS, temperature: 0 })
    expect(greedy.targetTokens.join('')).toBe(generate.text)
    const scores = (tokens: { probability: number; entropy: number }[]) =>
      tokens.map((s) => [expect.closeTo(s.probability, 6), expect.closeTo(s.entropy, 6)])
    expect(greedy.stepScores.map((s) => [s.probability, s.entropy])).toEqual(scores(generate.tokens))
    const forced = await explained({ target: generate.text, methods: ['OCCLUSION'] })
    expect(forced.targetTokens).toEqual([...generate.text])
    expect(forced.stepScores.map((s) => [s.probability, s.entropy])).toEqual(scores(generate.tokens))
    expect(forced.attributions.filter((a) => a.method === 'OCCLUSION')).toEqual(
      greedy.attributions
        .filter((a) => a.method === 'OCCLUSION')
        .map((a) => ({ ...a, value: expect.closeTo(a.value, 6) })),
    )
    // A target the model would not write: explained as given, each character unlikely.
    const odd = await explained({ target: 'zzzz', methods: ['OCCLUSION', 'SHAPLEY'] })
    expect(odd.targetTokens).toEqual(['z', 'z', 'z', 'z'])
    expect(odd.checks.map((c) => c.method)).toEqual(['OCCLUSION', 'SHAPLEY'])
    expect(Math.min(...odd.stepScores.map((s) => s.probability))).toBeLessThan(0.5)
  })

  it('is deterministic: the same request gives the same explanation; seed and temperature sample', async () => {
    const strip = (e: Explanation) => ({
      ...e,
      costs: e.costs.map(({ method, evaluations }) => ({ method, evaluations })),
    })
    const again = await explained({ methods: ['SHAPLEY', 'LINEAR_SURROGATE'] })
    const subset = {
      ...greedy,
      attributions: greedy.attributions.filter(
        (a) => a.method === 'SHAPLEY' || a.method === 'LINEAR_SURROGATE',
      ),
      checks: greedy.checks.filter((c) => c.method === 'SHAPLEY' || c.method === 'LINEAR_SURROGATE'),
      costs: greedy.costs.filter((c) => c.method === 'SHAPLEY' || c.method === 'LINEAR_SURROGATE'),
    }
    expect(strip(again)).toEqual(strip(subset))
    const reseeded = await explained({ methods: ['SHAPLEY'], seed: 1 })
    expect(reseeded.targetTokens).toEqual(greedy.targetTokens)
    expect(reseeded.attributions).not.toEqual(subset.attributions.filter((a) => a.method === 'SHAPLEY'))
    const sampled = await explained({ methods: ['OCCLUSION'], temperature: 5, seed: 2, maxTokens: 10 })
    expect(sampled.targetTokens).toHaveLength(10)
    expect(sampled.targetTokens.join('')).not.toBe(greedy.targetTokens.slice(0, 10).join(''))
  })

  it('refuses bad requests with stable codes', async () => {
    expect(code(await explain({ runId: randomUUID() }))).toBe('NOT_FOUND')
    expect(code(await explain({ runId: tableRun, prompt: 'abc' }))).toBe('BAD_USER_INPUT')
    const bad: Record<string, unknown>[] = [
      { prompt: '' },
      { prompt: 'abc!' },
      { prompt: 'ABC' },
      { prompt: 'ab\u0000c' },
      { target: '' },
      { target: 'ab1' },
      { target: 'a'.repeat(MAX_GENERATE_TOKENS + 1) },
      { target: 'abc', maxTokens: 3 },
      { maxTokens: MAX_GENERATE_TOKENS + 1 },
      { maxTokens: 0 },
      { methods: [] },
      { methods: ['OCCLUSION', 'OCCLUSION'] },
      { temperature: -1 },
      { temperature: 11 },
      // One character more than the budget (LAB_MAX_EXPLAIN_EVALUATIONS) allows.
      { maxTokens: STEPS + 1 },
      { target: 'a'.repeat(STEPS + 1) },
    ]
    for (const args of bad) {
      const res = await explain(args)
      expect([args, code(res)]).toEqual([args, 'BAD_USER_INPUT'])
    }
    const over = await explain({ maxTokens: STEPS + 1 })
    expect(over.errors![0]!.message).toMatch(/LAB_MAX_EXPLAIN_EVALUATIONS/)
    expect(over.errors![0]!.extensions).toMatchObject({ budget: BUDGET, field: 'maxTokens' })
  })
})
