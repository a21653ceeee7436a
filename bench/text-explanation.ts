/**
 * The SEQUENCE family's global explanation against its training, through the platform (GraphQL -> queue ->
 * trainer process -> PostgreSQL), on COPY_TEXT: each explanation method's cost as the worker recorded it, as a
 * share of the same run's training time (the sum of its epoch times). Issue #12's target: at most 0.5.
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/text-explanation.js [--quick] [--backend wasm|cpu|tensorflow] [--only small,defaults,gru,gru-reference]`.
 */
import { selectBackend } from '../src/training/backend'
import {
  Cleanups,
  cpuSplitLine,
  fmt,
  gql,
  heading,
  loadLine,
  machineLine,
  parseBenchArgs,
  printTable,
  procCpuMs,
  requireCompiled,
  trainerCpuWhenTrained,
  runMain,
  startInProcessServer,
  startRun,
  waitForRuns,
} from './support'

interface Case {
  /** For --only. */
  key: string
  name: string
  rows: number
  /** COPY_TEXT's lag. */
  lag: number
  input: Record<string, unknown>
}

/**
 * The integration test's small run, the family's defaults on a longer text, a tiny GRU, and the GRU of the
 * text generator issue's benchmark (bench/sequence.ts: its corpus, lag 5, and its run).
 */
const CASES: Case[] = [
  {
    key: 'small',
    name: 'small: WINDOW_MLP [32], context 8, 6,000 chars, 3 epochs',
    rows: 6000,
    lag: 3,
    input: { architecture: 'WINDOW_MLP', contextLength: 8, hiddenLayers: [32], epochs: 3, batchSize: 64 },
  },
  {
    key: 'defaults',
    name: 'defaults: WINDOW_MLP [128], context 32, 20,000 chars, 5 epochs',
    rows: 20_000,
    lag: 3,
    input: { epochs: 5 },
  },
  {
    key: 'gru',
    name: 'RNN_GRU [32], context 16, 6,000 chars, 2 epochs',
    rows: 6000,
    lag: 3,
    input: { architecture: 'RNN_GRU', contextLength: 16, hiddenLayers: [32], epochs: 2, batchSize: 64 },
  },
  {
    key: 'gru-reference',
    name: 'sequence.ts reference: RNN_GRU [64], context 32, 6,000 chars (lag 5), 2 epochs, batch 128, lr 0.01',
    rows: 6000,
    lag: 5,
    input: {
      architecture: 'RNN_GRU',
      contextLength: 32,
      epochs: 2,
      batchSize: 128,
      learningRate: 0.01,
      validationSplit: 0.2,
    },
  },
]

async function main(cleanups: Cleanups): Promise<void> {
  requireCompiled()
  const args = parseBenchArgs()
  const backend = await selectBackend(args.backend)
  console.log(machineLine())
  console.log(loadLine())
  const server = await startInProcessServer(cleanups, { LAB_WORKERS: '1', LAB_TF_BACKEND: backend })
  const trainer = server.lab.app.pool?.pids()[0]
  if (trainer === undefined) throw new Error('no trainer process')
  const chosen = args.only.length > 0 ? CASES.filter((c) => args.only.includes(c.key)) : CASES
  for (const c of args.quick ? chosen.slice(0, 1) : chosen) {
    const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
      server.url,
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      {
        input: { name: 'bench-copy', generator: 'COPY_TEXT', rows: c.rows, lag: c.lag, noise: 0.1, seed: 1 },
      },
    )
    const cpuStart = procCpuMs(trainer)
    const id = await startRun(server.url, {
      datasetId: generateDataset.id,
      family: 'SEQUENCE',
      seed: 1,
      ...c.input,
    })
    const cpuTrained = await trainerCpuWhenTrained(server.url, id, Number(c.input['epochs']), trainer)
    const [summary] = await waitForRuns(server.url, [id], { intervalMs: 50, timeoutMs: 1_800_000 })
    const cpuEnd = procCpuMs(trainer)
    const epochMs = summary!.history.reduce((s, h) => s + h.durationMs, 0)
    const { run } = await gql<{
      run: {
        explanation: {
          computeMs: number
          cost: { method: string; ms: number; evaluations: number }[]
          distanceProfile: { method: string; ms: number; evaluations: number }[] | null
        }
      }
    }>(
      server.url,
      `query($id: ID!) { run(id: $id) { explanation { computeMs cost { method ms evaluations }
      distanceProfile { method ms evaluations } } } }`,
      {
        id,
      },
    )
    heading(`${c.name}, ${backend}: training ${fmt(epochMs)} ms (sum of epoch times)`)
    const share = (ms: number) => (ms / epochMs).toFixed(2)
    printTable([
      ...run.explanation.cost.flatMap((x) => [
        { method: x.method, ms: fmt(x.ms), evaluations: fmt(x.evaluations), 'x training': share(x.ms) },
        // The profile's share of each token attribution method.
        ...(x.method === 'DISTANCE_PROFILE' ? (run.explanation.distanceProfile ?? []) : []).map((p) => ({
          method: `  ${p.method}`,
          ms: fmt(p.ms),
          evaluations: fmt(p.evaluations),
          'x training': share(p.ms),
        })),
      ]),
      {
        method: 'all (explanation)',
        ms: fmt(run.explanation.computeMs),
        evaluations: '',
        'x training': share(run.explanation.computeMs),
      },
    ])
    const met = run.explanation.computeMs / epochMs <= 0.5
    console.log(`target explanation <= 0.5x training: ${met ? 'met' : 'NOT met'}`)
    console.log(cpuSplitLine(cpuTrained - cpuStart, cpuEnd - cpuTrained))
    console.log(loadLine())
  }
}

runMain(main)
