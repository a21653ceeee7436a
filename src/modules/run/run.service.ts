import { randomInt, randomUUID } from 'node:crypto'
import { badInput, conflict, notFound } from '../../errors'
import { isId } from '../common/ids'
import { pageSize } from '../common/page'
import type { RunFilter, RunOrder } from './run.filter'
import { runWhere, sortKeys } from './run.query'
import { COLUMN_METRICS, DEFAULT_MAX_POINTS, MAX_POINTS } from './downsample'
import { checkName, FLOAT32_MAX } from '../dataset/dataset.content'
import { Likelihood, ModelFamily, SequenceArchitecture } from '../../models/family.enums'
import { FAMILY_FIELDS } from '../../models/family'
import { DatasetKind } from '../dataset/dataset.enums'
import { familyOf } from '../../models/registry'
import { checkMetricName } from './run.metrics'
import { DatasetService } from '../dataset/dataset.service'
import { Enqueue, NewRun, RunRecord, RunRepository } from './run.repository'
import { Activation, DEFAULTS, LIMITS, Optimizer } from './run.spec'
import { isTerminal, RunStatus } from './run.status'

export interface StartRunArgs {
  datasetId: string
  experiment?: string | null | undefined
  name?: string | null | undefined
  hiddenLayers?: number[] | null | undefined
  activation?: Activation | null | undefined
  epochs?: number | null | undefined
  batchSize?: number | null | undefined
  learningRate?: number | null | undefined
  optimizer?: Optimizer | null | undefined
  validationSplit?: number | null | undefined
  seed?: number | null | undefined
  tags?: string[] | null | undefined
  idempotencyKey?: string | null | undefined
  explain?: string[] | null | undefined
  sweepId?: string | undefined
  family?: ModelFamily | null | undefined
  latentDim?: number | null | undefined
  beta?: number | null | undefined
  likelihood?: Likelihood | null | undefined
  architecture?: SequenceArchitecture | null | undefined
  contextLength?: number | null | undefined
}

/** Compute caps checked before a run is queued (LAB_MAX_MODEL_PARAMETERS, LAB_MAX_TRAINING_STEPS). */
export interface RunLimits {
  maxModelParameters: number
  maxTrainingSteps: number
  /** Runs one API key may have QUEUED at once (auth on). */
  maxQueuedRunsPerKey?: number
}

/** Runs: validation, queueing, cancellation. Training itself happens in worker processes. */
export class RunService {
  constructor(
    private readonly repo: RunRepository,
    private readonly datasets: DatasetService,
    private readonly enqueue: Enqueue,
    private readonly limits: RunLimits,
  ) {}

  async get(id: string): Promise<RunRecord | null> {
    return isId(id) ? this.repo.findById(id) : null
  }

  async require(id: string): Promise<RunRecord> {
    const run = await this.get(id)
    if (!run) throw notFound('run', id)
    return run
  }

  /** Filtered, ordered, paged runs; `scope` narrows to one experiment or sweep. */
  search(args: {
    filter?: RunFilter | null | undefined
    orderBy?: RunOrder[] | null | undefined
    first?: number | null | undefined
    after?: string | null | undefined
    scope?: { experimentId?: string; sweepId?: string }
  }) {
    const first = pageSize(args.first)
    const where = { AND: [runWhere(args.filter), { ...args.scope }] }
    return this.repo.query(where, sortKeys(args.orderBy), args.after ?? undefined, first)
  }

  /** One metric of a run's history, at most `maxPoints` points (see downsample.ts). */
  async metricHistory(
    run: Pick<RunRecord, 'id' | 'family' | 'finalMetrics' | 'latentDim' | 'validationSplit'>,
    metric: string,
    maxPoints: number | null | undefined,
  ) {
    checkMetricName(metric)
    const limit = maxPoints ?? DEFAULT_MAX_POINTS
    if (!Number.isInteger(limit) || limit < 4 || limit > MAX_POINTS) {
      throw badInput(`maxPoints must be between 4 and ${MAX_POINTS}`, { field: 'maxPoints' })
    }
    // Any name the run stores (or its family reports); a typo is an error, not an empty chart.
    const known = new Set([
      ...COLUMN_METRICS,
      ...Object.keys(run.finalMetrics),
      ...familyOf(run.family).metricNames(run),
    ])
    if (!known.has(metric)) {
      throw badInput(`run ${run.id} has no metric "${metric}"; it has ${[...known].join(', ')}`, {
        field: 'metric',
      })
    }
    return this.repo.metricHistory(run.id, metric, limit)
  }

  /**
   * Validates everything, then creates the QUEUED run and its job together; nothing is queued on bad input.
   * `apiKeyId` (the key asking) is recorded and held to LAB_MAX_QUEUED_RUNS_PER_KEY.
   */
  async start(args: StartRunArgs, apiKeyId: string | null = null): Promise<RunRecord> {
    const idempotencyKey = args.idempotencyKey?.trim() || null
    if (idempotencyKey !== null && idempotencyKey.length > 200) {
      throw badInput('idempotencyKey is longer than 200 characters', { field: 'idempotencyKey' })
    }
    if (idempotencyKey) {
      const seen = await this.repo.findByIdempotencyKey(idempotencyKey)
      if (seen) return seen
    }
    const spec = { ...(await this.prepare(args, idempotencyKey)), apiKeyId }
    const { run } = await this.repo.create(
      spec,
      this.enqueue,
      this.limits.maxQueuedRunsPerKey !== undefined
        ? { maxQueuedPerKey: this.limits.maxQueuedRunsPerKey }
        : {},
    )
    return run
  }

  /**
   * Validates a request and fills in the defaults, writing nothing (sweeps check every combination
   * with it before starting any run).
   */
  async prepare(args: StartRunArgs, idempotencyKey: string | null = null): Promise<NewRun> {
    if (!isId(args.datasetId))
      throw badInput(`dataset ${JSON.stringify(args.datasetId)} does not exist`, { field: 'datasetId' })
    const dataset = await this.datasets.get(args.datasetId)
    if (!dataset)
      throw badInput(`dataset ${JSON.stringify(args.datasetId)} does not exist`, { field: 'datasetId' })

    const familyName = args.family ?? ModelFamily.MLP
    if (!Object.values(ModelFamily).includes(familyName)) {
      throw badInput(`unknown family ${String(familyName)}`, { field: 'family' })
    }
    const family = familyOf(familyName)
    if (dataset.kind !== family.datasetKind) {
      throw badInput(
        `a ${familyName} run trains on a ${family.datasetKind} dataset; dataset ${dataset.id} is ${dataset.kind}` +
          (dataset.kind === DatasetKind.TEXT ? ' (train family: SEQUENCE on it)' : ''),
        { field: 'family' },
      )
    }
    const hiddenLayers = args.hiddenLayers ?? family.defaultHiddenLayers?.(args) ?? [...DEFAULTS.hiddenLayers]
    if (hiddenLayers.length > LIMITS.maxLayers) {
      throw badInput(`hiddenLayers has ${hiddenLayers.length} layers; at most ${LIMITS.maxLayers}`, {
        field: 'hiddenLayers',
      })
    }
    hiddenLayers.forEach((units, i) => {
      if (!Number.isInteger(units) || units < LIMITS.minUnits || units > LIMITS.maxUnits) {
        throw badInput(
          `hiddenLayers[${i}] is ${units}; each layer needs ${LIMITS.minUnits} to ${LIMITS.maxUnits} units`,
          {
            field: 'hiddenLayers',
          },
        )
      }
    })
    const epochs = args.epochs ?? DEFAULTS.epochs
    if (!Number.isInteger(epochs) || epochs < LIMITS.minEpochs || epochs > LIMITS.maxEpochs) {
      throw badInput(`epochs is ${epochs}; it must be between ${LIMITS.minEpochs} and ${LIMITS.maxEpochs}`, {
        field: 'epochs',
      })
    }
    const validationSplit = args.validationSplit ?? DEFAULTS.validationSplit
    if (!Number.isFinite(validationSplit) || validationSplit < 0 || validationSplit >= 0.9) {
      throw badInput(`validationSplit is ${validationSplit}; it must be in [0, 0.9)`, {
        field: 'validationSplit',
      })
    }
    const trainRows = dataset.rowCount - Math.floor(dataset.rowCount * validationSplit)
    if (trainRows < 1)
      throw badInput('no training rows remain after the validation split', { field: 'validationSplit' })
    const batchSize = args.batchSize ?? Math.min(DEFAULTS.batchSize, dataset.rowCount)
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > dataset.rowCount) {
      throw badInput(
        `batchSize is ${batchSize}; it must be between 1 and the dataset's ${dataset.rowCount} rows`,
        {
          field: 'batchSize',
        },
      )
    }
    const learningRate = args.learningRate ?? DEFAULTS.learningRate
    // Training runs in float32: a larger rate would be Infinity there.
    if (!Number.isFinite(learningRate) || learningRate <= 0 || learningRate > FLOAT32_MAX) {
      throw badInput(`learningRate is ${learningRate}; it must be positive and a float32 number`, {
        field: 'learningRate',
      })
    }
    const tags = [...new Set((args.tags ?? []).map((t) => t.trim()))]
    if (tags.length > LIMITS.maxTags || tags.some((t) => t.length === 0 || t.length > LIMITS.maxTagLength)) {
      throw badInput(`tags must be 1 to ${LIMITS.maxTagLength} characters each, at most ${LIMITS.maxTags}`, {
        field: 'tags',
      })
    }
    const seed = args.seed ?? randomInt(0, 2 ** 31 - 1)
    // The column is int4; a sweep's JSON values can hold any number.
    if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed > 2 ** 31 - 1) {
      throw badInput(`seed is ${seed}; it must be a 32-bit integer`, { field: 'seed' })
    }
    const experiment = checkName(args.experiment ?? DEFAULTS.experiment, 'experiment')
    const id = randomUUID()
    const name = args.name == null ? `run-${id.slice(0, 8)}` : checkName(args.name, 'name')
    const shape = {
      task: dataset.task,
      // A TEXT dataset's input is one one-hot character: its vocabulary and the unknown symbol.
      featureCount: dataset.vocabulary ? dataset.vocabulary.length + 1 : dataset.featureNames.length,
      rowCount: dataset.rowCount,
      factorNames: dataset.factorNames,
      imageShape: dataset.imageShape,
      featureStats: dataset.featureStats,
    }
    const own = family.prepare(args, shape)
    for (const field of FAMILY_FIELDS) {
      if (args[field] != null && !(field in own)) {
        throw badInput(`${field} does not apply to ${familyName} runs`, { field })
      }
    }
    const familyFields = {
      latentDim: own.latentDim ?? null,
      beta: own.beta ?? null,
      likelihood: own.likelihood ?? null,
      architecture: own.architecture ?? null,
      contextLength: own.contextLength ?? null,
    }
    // One oversized run can exhaust a trainer's memory or hold it for days: refused before it is queued.
    const parameters = family.parameterCount({ hiddenLayers, ...familyFields }, shape.featureCount)
    if (parameters > this.limits.maxModelParameters) {
      throw badInput(
        `this network has ${parameters} parameters on ${shape.featureCount} features; at most ` +
          `${this.limits.maxModelParameters} are allowed (use fewer or narrower hiddenLayers)`,
        { field: 'hiddenLayers', parameters, limit: this.limits.maxModelParameters },
      )
    }
    const work = family.trainingWork?.({ validationSplit, seed, ...familyFields }, shape) ?? {
      examples: trainRows,
      stepsPerBatch: 1,
    }
    const steps = epochs * Math.ceil(work.examples / batchSize) * work.stepsPerBatch
    if (steps > this.limits.maxTrainingSteps) {
      const perBatch = work.stepsPerBatch > 1 ? ` of ${work.stepsPerBatch} recurrent steps each` : ''
      throw badInput(
        `${epochs} epochs of ${work.examples} ${dataset.kind === DatasetKind.TEXT ? 'characters' : 'rows'} in ` +
          `batches of ${batchSize}${perBatch} are ${steps} training steps; at most ` +
          `${this.limits.maxTrainingSteps} are allowed (fewer epochs or a larger batchSize)`,
        { field: 'epochs', steps, limit: this.limits.maxTrainingSteps },
      )
    }
    const applicable = family.explanationMethods(shape)
    const explainMethods = [...new Set(args.explain ?? applicable)]
    const unsupported = explainMethods.filter((m) => !(applicable as string[]).includes(m))
    if (unsupported.length > 0) {
      throw badInput(
        `${unsupported.join(', ')} ${unsupported.length > 1 ? 'do' : 'does'} not apply to ${familyName} runs on this ` +
          `dataset; these do: ${applicable.join(', ')}`,
        { field: 'explain' },
      )
    }

    return {
      id,
      name,
      experiment,
      datasetId: dataset.id,
      sweepId: args.sweepId,
      family: familyName,
      ...familyFields,
      hiddenLayers,
      activation: args.activation ?? DEFAULTS.activation,
      epochs,
      batchSize,
      learningRate,
      optimizer: args.optimizer ?? DEFAULTS.optimizer,
      validationSplit,
      seed,
      tags,
      explainMethods,
      idempotencyKey,
    }
  }

  /** QUEUED: cancelled at once. RUNNING: the worker stops at the end of the current epoch. */
  async cancel(id: string, reason?: string): Promise<RunRecord> {
    const run = await this.require(id)
    if (run.status === RunStatus.CANCELLED) return run
    if (isTerminal(run.status)) throw conflict(`run ${id} has already ${run.status}`, { status: run.status })
    const updated = await this.repo.requestCancel(id, reason)
    if (!updated) throw notFound('run', id)
    if (isTerminal(updated.status) && updated.status !== RunStatus.CANCELLED) {
      throw conflict(`run ${id} has already ${updated.status}`, { status: updated.status })
    }
    return updated
  }
}
