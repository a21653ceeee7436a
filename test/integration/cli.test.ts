import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'
import { ExitCode } from '../../src/cli/main'
import { runCli } from '../unit/cli/harness'

/**
 * `lab` against the real server: the CLI runs in-process (run(argv, io)) with captured output, talking
 * HTTP and graphql-ws to a server on port 0 that trains with one worker.
 */

const ROOT = path.resolve(__dirname, '../..')
/** The sweep tests need the sweep API; they run once schema.graphql has it. */
const SWEEP_API = readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8').includes('startSweep')
const sweepIt = SWEEP_API ? it : it.skip
const ESC = '\u001b'

let t: TestLab
let dir: string
let datasetId: string
let env: Record<string, string>

const lab = (argv: string[], opts: Parameters<typeof runCli>[1] = {}) =>
  runCli(argv, { env, cwd: dir, ...opts })

/** y = 2a - b + 0.5c plus a little deterministic wiggle: something a tiny network learns in a few epochs. */
function csv(rows: number): string {
  const lines = ['a,b,c,y']
  for (let i = 0; i < rows; i++) {
    const a = Math.sin(i * 0.37)
    const b = Math.cos(i * 0.11)
    const c = ((i * 7) % 13) / 13
    lines.push([a, b, c, 2 * a - b + 0.5 * c + 0.05 * Math.sin(i)].map((v) => v.toFixed(5)).join(','))
  }
  return lines.join('\n') + '\n'
}

async function startRun(input: Record<string, unknown>): Promise<string> {
  const res = await t.gql<{ startRun: { id: string } }>(
    'mutation($input: StartRunInput!) { startRun(input: $input) { id } }',
    { input: { datasetId, hiddenLayers: [4], batchSize: 16, explain: [], ...input } },
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.startRun.id
}

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' })
  env = { LAB_URL: t.lab.url }
  dir = await mkdtemp(path.join(tmpdir(), 'lab-cli-it-'))
  await writeFile(path.join(dir, 'houses.csv'), csv(200))
}, 60_000)

afterAll(async () => {
  await t?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('lab dataset import / lab datasets', () => {
  it('imports a CSV named after the file, then finds the same version again', async () => {
    const r = await lab(['dataset', 'import', 'houses.csv', '--target', 'y', '--json'])
    expect(r).toMatchObject({ code: ExitCode.OK, stderr: '' })
    const dataset = JSON.parse(r.stdout) as { id: string; name: string; version: number; rowCount: number }
    expect(dataset).toMatchObject({ name: 'houses', version: 1, rowCount: 200 })
    datasetId = dataset.id

    const again = await lab(['dataset', 'import', 'houses.csv', '--target', 'y'])
    expect(again.code).toBe(ExitCode.OK)
    expect(again.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+VERSION\s+ROWS$/)
    expect(again.stdout.split('\n')[1]).toMatch(new RegExp(`^${datasetId}\\s+houses\\s+1\\s+200$`))

    const list = await lab(['datasets', '--json'])
    expect(list.code).toBe(ExitCode.OK)
    expect((JSON.parse(list.stdout) as { datasets: { id: string }[] }).datasets.map((d) => d.id)).toContain(
      datasetId,
    )
  })

  it('imports an unsupervised CSV with factor columns, and lists it', async () => {
    await writeFile(path.join(dir, 'shapes.csv'), 'p1,kind,p2,size\n0.5,0,1,3\n0,1,0.25,2\n1,2,0,1\n')
    const r = await lab([
      'dataset',
      'import',
      'shapes.csv',
      '--task',
      'unsupervised',
      '--factor',
      'size',
      '--factor',
      'kind',
      '--json',
    ])
    expect(r).toMatchObject({ code: ExitCode.OK, stderr: '' })
    const dataset = JSON.parse(r.stdout) as {
      id: string
      task: string
      targetName: string | null
      featureNames: string[]
      factorNames: string[]
    }
    expect(dataset).toMatchObject({
      task: 'UNSUPERVISED',
      targetName: null,
      featureNames: ['p1', 'p2'],
      factorNames: ['size', 'kind'],
    })

    const list = await lab(['datasets'])
    expect(list.code).toBe(ExitCode.OK)
    const lines = list.stdout.split('\n')
    expect(lines[0]).toMatch(/^ID\s+NAME\s+VERSION\s+TASK\s+ROWS\s+FEATURES\s+TARGET\s+FACTORS\s+CREATED$/)
    const line = lines.find((l) => l.startsWith(dataset.id))
    expect(line).toMatch(/\s+shapes\s+1\s+unsupervised\s+3\s+2\s+-\s+size,kind\s+\d{4}-/)
    const houses = lines.find((l) => l.startsWith(datasetId))
    expect(houses).toMatch(/\s+houses\s+1\s+regression\s+200\s+3\s+y\s+-\s+/)

    const withTarget = await lab([
      'dataset',
      'import',
      'shapes.csv',
      '--task',
      'unsupervised',
      '--target',
      'size',
    ])
    expect(withTarget.code).toBe(ExitCode.USAGE)
    expect(withTarget.stderr).toMatch(/--task unsupervised takes no --target/)
  })

  it('passes the server’s BAD_USER_INPUT on with exit 2', async () => {
    const r = await lab(['dataset', 'import', 'houses.csv', '--target', 'price'])
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toMatch(
      /^error: houses\.csv: targetColumn "price" is not a column .*\[BAD_USER_INPUT\]\n$/,
    )
  })
})

describe('lab runs / lab watch', () => {
  let runId: string

  it('lists a run started through the API, filtered by experiment and tag', async () => {
    runId = await startRun({ epochs: 3, experiment: 'cli-runs', tags: ['cli'], name: 'cli-run' })
    const r = await lab(['runs', '--experiment', 'cli-runs', '--tag', 'cli', '--json'])
    expect(r.code).toBe(ExitCode.OK)
    const { totalCount, runs } = JSON.parse(r.stdout) as {
      totalCount: number
      runs: { id: string; name: string }[]
    }
    expect(totalCount).toBe(1)
    expect(runs).toEqual([
      expect.objectContaining({ id: runId, name: 'cli-run', experiment: { name: 'cli-runs' } }),
    ])

    const none = await lab(['runs', '--experiment', 'cli-runs', '--status', 'failed', '--json'])
    expect(JSON.parse(none.stdout)).toEqual({ totalCount: 0, runs: [] })
  })

  it('watches the run to SUCCEEDED: every epoch as a JSON line, exit 0', async () => {
    const r = await lab(['watch', runId, '--json'])
    expect(r).toMatchObject({ code: ExitCode.OK, stderr: '' })
    const events = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { __typename: string; metric?: { epoch: number }; status?: string })
    expect(events.filter((e) => e.__typename === 'EpochCompleted').map((e) => e.metric!.epoch)).toEqual([
      1, 2, 3,
    ])
    expect(events.at(-1)).toMatchObject({ __typename: 'RunStatusChanged', status: 'SUCCEEDED' })
  })

  it('replays a finished run as plain lines, and shows it in the runs table with its losses', async () => {
    const r = await lab(['watch', runId])
    expect(r.code).toBe(ExitCode.OK)
    const lines = r.stdout.trim().split('\n')
    expect(lines.filter((l) => /^epoch \d\/3 loss \S+ val_loss \S+$/.test(l))).toHaveLength(3)
    expect(lines.at(-1)).toBe('run cli-run SUCCEEDED')

    const table = await lab(['runs', '--experiment', 'cli-runs'])
    const [header, row] = table.stdout.split('\n')
    expect(header).toMatch(/^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+EPOCHS\s+LOSS\s+VAL LOSS\s+CREATED\s+FAMILY$/)
    expect(row).toMatch(
      new RegExp(
        `^${runId}\\s+cli-run\\s+cli-runs\\s+SUCCEEDED\\s+3/3\\s+[\\d.e+-]+\\s+[\\d.e+-]+\\s+\\d{4}-\\S+ \\S+\\s+MLP$`,
      ),
    )
  })

  it('exits 3 for a cancelled run', async () => {
    const id = await startRun({ epochs: 5000, experiment: 'cli-runs', name: 'cancelled' })
    await t.gql('mutation($id: ID!) { cancelRun(id: $id) { id } }', { id })
    const r = await lab(['watch', id])
    expect(r.code).toBe(ExitCode.CANCELLED)
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^run cancelled CANCELLED/)
  })

  it('draws a chart on a terminal', async () => {
    const r = await lab(['watch', runId], { isTTY: true, columns: 60 })
    expect(r.code).toBe(ExitCode.OK)
    expect(r.stdout).toContain('█ loss')
    expect(r.stdout).toContain('░ val loss')
    // Redrawn in place: the cursor goes back up before each new frame.
    expect(r.stdout).toMatch(new RegExp(`${ESC}\\[\\d+F${ESC}\\[J`))
  })
})

describe('lab sweep', () => {
  const grid = (extra: string[] = []) =>
    [
      'method: grid',
      'metric: {name: val_loss, goal: minimize}',
      'max_concurrent: 1',
      'parameters:',
      '  learning_rate: {values: [0.05, 0.005]}',
      '  hidden_layers: {value: [4]}',
      'base:',
      '  epochs: 2',
      '  batch_size: 16',
      '  explain: []',
      ...extra,
    ].join('\n') + '\n'

  sweepIt('runs a 2-point grid to the end and prints { sweep, runs } ranked by the metric', async () => {
    await writeFile(path.join(dir, 'grid.yaml'), grid())
    const r = await lab(['sweep', 'grid.yaml', '--dataset', datasetId, '--experiment', 'cli-sweep', '--json'])
    expect(r.code).toBe(ExitCode.OK)
    const { sweep, runs } = JSON.parse(r.stdout) as {
      sweep: { id: string; status: string; metric: string; runCount: number }
      runs: { learningRate: number; status: string; hiddenLayers: number[]; metricValue: number | null }[]
    }
    expect(sweep).toMatchObject({ status: 'FINISHED', metric: 'valLoss', runCount: 2 })
    expect(runs.map((run) => run.learningRate).sort()).toEqual([0.005, 0.05])
    expect(runs.every((run) => run.status === 'SUCCEEDED' && run.hiddenLayers[0] === 4)).toBe(true)
    expect(runs[0]!.metricValue!).toBeLessThanOrEqual(runs[1]!.metricValue!)
    // Without a terminal, progress is one line per event on stderr.
    expect(r.stderr).toMatch(
      new RegExp(`^sweep ${sweep.id} started: grid over learningRate, 2 runs, 1 at a time`, 'm'),
    )
    expect(r.stderr).toMatch(/^run \S+ started: learningRate=0\.05$/m)
    expect(r.stderr).toMatch(/^run \S+ epoch 2\/2 loss \S+ val_loss \S+$/m)
    expect(r.stderr).toMatch(/^run \S+ SUCCEEDED: valLoss \S+$/m)
  })

  sweepIt(
    'on Ctrl-C leaves the sweep running and says how to cancel it (exit 130); lab sweep cancel does',
    async () => {
      await writeFile(path.join(dir, 'long.yaml'), grid().replace('epochs: 2', 'epochs: 2000'))
      const controller = new AbortController()
      const r = await lab(['sweep', 'long.yaml', '--dataset', datasetId, '--experiment', 'cli-sweep-long'], {
        signal: controller.signal,
        onStderr: (text) => {
          if (/^run \S+ epoch/m.test(text)) controller.abort()
        },
      })
      expect(r.code).toBe(ExitCode.INTERRUPTED)
      const id = /^sweep (\S+) started/m.exec(r.stderr)?.[1]
      expect(id).toBeDefined()
      expect(r.stderr).toContain(`sweep ${id} keeps running on the server`)
      expect(r.stderr).toContain(`lab sweep cancel ${id}`)
      const status = async () =>
        (await t.gql<{ sweep: { status: string } }>('query($id: ID!) { sweep(id: $id) { status } }', { id }))
          .data!.sweep.status
      expect(await status()).toBe('RUNNING')

      const cancel = await lab(['sweep', 'cancel', id!])
      expect(cancel).toMatchObject({ code: ExitCode.OK, stdout: `sweep ${id} CANCELLED\n` })
      await waitFor(async () => (await status()) === 'CANCELLED', { what: 'the sweep to be cancelled' })
    },
  )

  it('refuses a bad file before the server sees it (exit 2)', async () => {
    await writeFile(path.join(dir, 'bad.yaml'), grid(['  hidden_layer: [4]']))
    const r = await lab(['sweep', 'bad.yaml', '--dataset', datasetId, '--experiment', 'x'])
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toBe(
      'error: bad.yaml:11:3: base.hidden_layer: unknown run setting hidden_layer (did you mean hidden_layers?)\n',
    )
  })
})

describe('lab sweep over a VAE', () => {
  interface Ranked {
    id: string
    name: string
    status: string
    family: string
    latentDim: number | null
    beta: number | null
    metricValue: number | null
  }
  let ranked: Ranked[] = []

  sweepIt(
    'sweeps latent_dim x beta on a LATENT_LINEAR dataset to FINISHED, ranked by val_reconstruction',
    async () => {
      const generated = await t.gql<{ generateDataset: { id: string; task: string } }>(
        'mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id task } }',
        {
          input: {
            name: 'cli-latent',
            generator: 'LATENT_LINEAR',
            rows: 300,
            latents: 2,
            noise: 0.1,
            seed: 3,
          },
        },
      )
      expect(generated.errors).toBeUndefined()
      expect(generated.data!.generateDataset.task).toBe('UNSUPERVISED')
      await writeFile(
        path.join(dir, 'vae.yaml'),
        [
          'method: grid',
          'metric: {name: val_reconstruction, goal: minimize}',
          `dataset: ${generated.data!.generateDataset.id}`,
          'experiment: cli-vae-sweep',
          'parameters:',
          '  latent_dim: {values: [1, 2]}',
          '  beta: {values: [0.5]}',
          'base:',
          '  family: vae',
          '  hidden_layers: [16]',
          '  epochs: 3',
          '  batch_size: 32',
          '  seed: 11',
          '  explain: []',
        ].join('\n') + '\n',
      )
      const r = await lab(['sweep', 'vae.yaml', '--json'])
      expect(r.stderr).not.toMatch(/^error/m)
      expect(r.code).toBe(ExitCode.OK)
      const { sweep, runs } = JSON.parse(r.stdout) as {
        sweep: { id: string; status: string; metric: string; goal: string; runCount: number }
        runs: Ranked[]
      }
      expect(sweep).toMatchObject({
        status: 'FINISHED',
        metric: 'valReconstruction',
        goal: 'MINIMIZE',
        runCount: 2,
      })
      expect(runs.map((run) => run.latentDim).sort()).toEqual([1, 2])
      expect(
        runs.every((run) => run.status === 'SUCCEEDED' && run.family === 'VAE' && run.beta === 0.5),
      ).toBe(true)

      // The ranking, checked against the runs' final named metrics as the API reports them.
      const fetched = await t.gql<{
        sweep: {
          runs: { edges: { node: { id: string; summary: { metrics: { name: string; value: number }[] } } }[] }
        }
      }>(
        'query($id: ID!) { sweep(id: $id) { runs(first: 10) { edges { node { id summary { metrics { name value } } } } } } }',
        {
          id: sweep.id,
        },
      )
      const valReconstruction = new Map(
        fetched.data!.sweep.runs.edges.map(({ node }) => [
          node.id,
          node.summary.metrics.find((m) => m.name === 'valReconstruction')?.value,
        ]),
      )
      expect(valReconstruction.size).toBe(2)
      const best = [...valReconstruction.entries()].sort((a, b) => a[1]! - b[1]!).map(([id]) => id)
      expect(runs.map((run) => run.id)).toEqual(best)
      for (const run of runs) expect(run.metricValue).toBe(valReconstruction.get(run.id))
      expect(runs[0]!.metricValue!).toBeLessThanOrEqual(runs[1]!.metricValue!)

      expect(r.stderr).toMatch(
        new RegExp(`^sweep ${sweep.id} started: grid over latentDim, beta, 2 runs`, 'm'),
      )
      expect(r.stderr).toMatch(/^run \S+ started: latentDim=1 beta=0\.5$/m)
      expect(r.stderr).toMatch(/^run \S+ SUCCEEDED: valReconstruction \d\S*$/m)
      ranked = runs
    },
  )

  sweepIt('prints every named metric of a VAE epoch in lab watch lines, and VAE in lab runs', async () => {
    const run = ranked.find((r) => r.latentDim === 2)
    expect(run).toBeDefined()
    const w = await lab(['watch', run!.id])
    expect(w.code).toBe(ExitCode.OK)
    const epochs = w.stdout.split('\n').filter((line) => line.startsWith('epoch '))
    expect(epochs).toHaveLength(3)
    for (const line of epochs) {
      expect(line).toMatch(
        /^epoch \d\/3 loss \S+ reconstruction \S+ kl \S+ val_loss \S+ val_reconstruction \S+ val_kl \S+ kl_0 \S+ kl_1 \S+$/,
      )
    }
    const json = await lab(['watch', run!.id, '--json'])
    const first = JSON.parse(json.stdout.split('\n')[0]!) as { metric: { values: { name: string }[] } }
    expect(first.metric.values.map((v) => v.name)).toEqual([
      'loss',
      'reconstruction',
      'kl',
      'valLoss',
      'valReconstruction',
      'valKl',
      'kl_0',
      'kl_1',
    ])

    const table = await lab(['runs', '--experiment', 'cli-vae-sweep', '--sort', 'name'])
    expect(table.code).toBe(ExitCode.OK)
    const rows = table.stdout.trim().split('\n')
    expect(rows[0]).toMatch(/\sFAMILY$/)
    expect(rows.slice(1)).toHaveLength(2)
    for (const row of rows.slice(1)) expect(row).toMatch(/\sSUCCEEDED\s+3\/3\s.*\sVAE$/)
  })
})

describe('the lab executable', () => {
  const bin = path.join(ROOT, 'bin', 'lab.js')
  const compiled = path.join(ROOT, 'dist', 'src', 'cli', 'main.js')

  it('is a node script that runs the compiled CLI, or says to build it', () => {
    const source = readFileSync(bin, 'utf8')
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true)
    expect(source).toContain("'dist', 'src', 'cli', 'main.js'")
    expect(source).toContain('npm run build')
  })

  // CI runs `npm run build` before the tests; a checkout that has not built skips what needs dist/.
  const builtIt = existsSync(compiled) ? it : it.skip
  builtIt('answers --help and talks to the server, without loading type-graphql or Prisma', async () => {
    // Asynchronously: the server under test lives in this process and must keep answering.
    const node = (args: string[]) =>
      promisify(execFile)(process.execPath, args, { encoding: 'utf8', timeout: 20_000 })
    const help = await node([bin, '--help'])
    expect(help.stdout).toMatch(/^Usage: lab /)

    const list = await node([bin, '--url', t.lab.url, 'datasets', '--json'])
    expect(list.stderr).toBe('')
    expect((JSON.parse(list.stdout) as { totalCount: number }).totalCount).toBeGreaterThan(0)

    const loaded = await node([
      '-e',
      `require(${JSON.stringify(compiled)}); ` +
        'console.log(Object.keys(require.cache).filter((f) => /type-graphql|@prisma|[\\\\/]prisma[\\\\/]/.test(f)).length)',
    ])
    expect(loaded.stdout.trim()).toBe('0')
  })
})
