/**
 * Checkpoints through the family seam, as the trainer uses them: a run trained N epochs straight against the
 * same run stopped at N/2, its checkpoint stored (JSON and bytes, as the database holds it) and restored into
 * freshly built networks and optimizer, then trained to N.
 */
import { CheckpointError } from '../../../src/models/common/checkpoint'
import type { OptimizerName } from '../../../src/models/common/spec'
import type { Checkpoint, EpochReport, RunSpec, TrainedRun } from '../../../src/models/family'
import { Likelihood, ModelFamily, SequenceArchitecture } from '../../../src/models/family.enums'
import { familyOf } from '../../../src/models/registry'
import type { DatasetContent } from '../../../src/modules/dataset/dataset.content'
import { DatasetGenerator } from '../../../src/modules/dataset/dataset.enums'
import { copyText, generate } from '../../../src/modules/dataset/generators'
import { buildTextContent } from '../../../src/modules/dataset/text'
import { selectBackend } from '../../../src/training/backend'

const EPOCHS = 6

function contentOf(kind: DatasetGenerator, rows: number, seed: number): DatasetContent {
  const g = generate(kind, rows, 0.1, seed, {})
  const m = g.featureNames.length
  const features = new Float64Array(rows * m)
  g.rows.forEach((r, i) => features.set(r, i * m))
  return {
    task: g.task,
    featureNames: g.featureNames,
    targetName: g.targets ? 'y' : null,
    rowCount: rows,
    features,
    targets: g.targets ? Float64Array.from(g.targets) : new Float64Array(0),
    factorNames: [],
    factors: new Float64Array(0),
    imageShape: null,
  }
}

const CASES = [
  {
    family: ModelFamily.MLP,
    content: contentOf(DatasetGenerator.FRIEDMAN1, 300, 2),
    extra: { latentDim: null, beta: null, likelihood: null, architecture: null, contextLength: null },
  },
  {
    family: ModelFamily.VAE,
    content: contentOf(DatasetGenerator.LATENT_LINEAR, 300, 3),
    extra: {
      latentDim: 2,
      beta: 1,
      likelihood: Likelihood.GAUSSIAN,
      architecture: null,
      contextLength: null,
    },
  },
  {
    family: ModelFamily.SEQUENCE,
    content: buildTextContent(copyText(1500, 3, 0.1, 4), 1, { maxTextBytes: 1e6 }),
    extra: {
      latentDim: null,
      beta: null,
      likelihood: null,
      architecture: SequenceArchitecture.WINDOW_MLP,
      contextLength: 6,
    },
  },
]

function specOf(c: (typeof CASES)[number], optimizer: OptimizerName, over: Partial<RunSpec> = {}): RunSpec {
  return {
    family: c.family,
    hiddenLayers: [16, 8],
    activation: 'RELU',
    epochs: EPOCHS,
    batchSize: 32,
    learningRate: 0.01,
    optimizer,
    validationSplit: 0.2,
    seed: 5,
    ...c.extra,
    ...over,
  }
}

/** A checkpoint as it comes back from PostgreSQL: JSON columns re-parsed, bytes in a fresh Buffer. */
const throughStore = (c: Checkpoint): Checkpoint => ({
  epoch: c.epoch,
  meta: JSON.parse(JSON.stringify(c.meta)) as Record<string, unknown>,
  weightSpecs: JSON.parse(JSON.stringify(c.weightSpecs)) as unknown,
  weights: Buffer.from(c.weights),
})

const values = (history: EpochReport[]) => history.map((r) => ({ epoch: r.epoch, metrics: r.metrics }))

interface Trained {
  reports: EpochReport[]
  result: TrainedRun
}

async function trainWith(
  c: (typeof CASES)[number],
  spec: RunSpec,
  opts: { resume?: Checkpoint; stopAt?: number; signal?: AbortSignal } = {},
): Promise<Trained & { taken?: Checkpoint }> {
  const reports: EpochReport[] = []
  let taken: Checkpoint | undefined
  const result = await familyOf(c.family).train({
    content: c.content,
    spec,
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    hooks: {
      onEpoch: async (report, checkpoint) => {
        reports.push(report)
        if (report.epoch !== opts.stopAt) return undefined
        taken = await checkpoint()
        return 'stop'
      },
    },
  })
  return { reports, result, ...(taken ? { taken } : {}) }
}

beforeAll(async () => {
  // The backend training uses by default here; "exactly" holds on any one backend.
  expect(['wasm', 'cpu']).toContain(await selectBackend('wasm'))
})

describe.each(CASES)('$family checkpoints', (c) => {
  it.each(['ADAM', 'RMSPROP', 'SGD'] as const)(
    'with %s: N/2 epochs, checkpoint, restore, N/2 more = N straight (metrics and weights bit-identical)',
    async (optimizer) => {
      const spec = specOf(c, optimizer)
      const straight = await trainWith(c, spec)
      const half = await trainWith(c, spec, { stopAt: EPOCHS / 2 })
      try {
        expect(half.result.cancelled).toBe(true)
        expect(half.taken?.epoch).toBe(EPOCHS / 2)
        const resumed = await trainWith(c, spec, { resume: throughStore(half.taken!) })
        try {
          expect(resumed.reports.map((r) => r.epoch)).toEqual([4, 5, 6])
          expect(resumed.result.history.map((r) => r.epoch)).toEqual([4, 5, 6])
          const strip = (rs: EpochReport[]) => values(rs).map(({ epoch, metrics }) => ({ epoch, metrics }))
          expect(strip(half.reports)).toEqual(strip(straight.reports.slice(0, 3)))
          expect(strip(resumed.reports)).toEqual(strip(straight.reports.slice(3)))
          expect(
            Buffer.from(resumed.result.model.weights).equals(Buffer.from(straight.result.model.weights)),
          ).toBe(true)
          // And the state after the last epoch is the same too (what an explanation resumes from).
          const [a, b] = await Promise.all([straight.result.checkpoint(), resumed.result.checkpoint()])
          expect(a?.epoch).toBe(EPOCHS)
          expect(b?.epoch).toBe(EPOCHS)
          expect(Buffer.from(b!.weights).equals(Buffer.from(a!.weights))).toBe(true)
        } finally {
          resumed.result.dispose()
        }
      } finally {
        straight.result.dispose()
        half.result.dispose()
      }
    },
    120_000,
  )

  it('after an abort inside an epoch, checkpoint() is the last completed epoch and resumes exactly', async () => {
    const spec = specOf(c, 'ADAM', { epochs: 4 })
    const straight = await trainWith(c, spec)
    const controller = new AbortController()
    const reports: EpochReport[] = []
    const stopped = await familyOf(c.family).train({
      content: c.content,
      spec,
      signal: controller.signal,
      hooks: {
        onEpoch: (report) => {
          reports.push(report)
          // Aborts while epoch 3 runs (at its first yield), or at its start at the latest.
          if (report.epoch === 2) setImmediate(() => controller.abort())
        },
      },
    })
    try {
      expect(stopped.cancelled).toBe(true)
      expect(reports.map((r) => r.epoch)).toEqual([1, 2])
      const checkpoint = await stopped.checkpoint()
      expect(checkpoint?.epoch).toBe(2)
      const resumed = await trainWith(c, spec, { resume: throughStore(checkpoint!) })
      try {
        expect(values(resumed.reports).map((r) => r.metrics)).toEqual(
          values(straight.reports.slice(2)).map((r) => r.metrics),
        )
        expect(
          Buffer.from(resumed.result.model.weights).equals(Buffer.from(straight.result.model.weights)),
        ).toBe(true)
      } finally {
        resumed.result.dispose()
      }
    } finally {
      straight.result.dispose()
      stopped.dispose()
    }
  }, 120_000)

  it('resuming from the last epoch trains nothing and gives the finished model back', async () => {
    const spec = specOf(c, 'ADAM', { epochs: 2 })
    const straight = await trainWith(c, spec, { stopAt: 2 })
    try {
      const resumed = await trainWith(c, spec, { resume: throughStore(straight.taken!) })
      try {
        expect(resumed.reports).toEqual([])
        expect(resumed.result.cancelled).toBe(false)
        expect(await resumed.result.checkpoint()).toBeNull()
        expect(
          Buffer.from(resumed.result.model.weights).equals(Buffer.from(straight.result.model.weights)),
        ).toBe(true)
      } finally {
        resumed.result.dispose()
      }
    } finally {
      straight.result.dispose()
    }
  }, 60_000)

  it('refuses checkpoints that do not fit, before any epoch', async () => {
    const spec = specOf(c, 'ADAM')
    const half = await trainWith(c, spec, { stopAt: 2 })
    half.result.dispose()
    const good = throughStore(half.taken!)
    const other = CASES.find((x) => x.family !== c.family)!
    const foreign = await trainWith(other, specOf(other, 'ADAM'), { stopAt: 1 })
    foreign.result.dispose()
    const bad: [string, Checkpoint, RunSpec][] = [
      ['truncated bytes', { ...good, weights: good.weights.subarray(0, good.weights.byteLength - 4) }, spec],
      ['another format', { ...good, meta: { ...good.meta, format: 99 } }, spec],
      ['another optimizer', good, specOf(c, 'RMSPROP')],
      ['other layer sizes', good, specOf(c, 'ADAM', { hiddenLayers: [16, 9] })],
      ['past the last epoch', good, specOf(c, 'ADAM', { epochs: 1 })],
      ['another family', throughStore(foreign.taken!), spec],
      ['a manifest that is not a list', { ...good, weightSpecs: { name: 'x' } }, spec],
    ]
    for (const [why, checkpoint, s] of bad) {
      const reports: EpochReport[] = []
      const attempt = familyOf(c.family).train({
        content: c.content,
        spec: s,
        resume: checkpoint,
        hooks: { onEpoch: (r) => void reports.push(r) },
      })
      await expect(attempt).rejects.toBeInstanceOf(CheckpointError)
      expect({ why, reports }).toEqual({ why, reports: [] })
    }
  }, 120_000)
})
