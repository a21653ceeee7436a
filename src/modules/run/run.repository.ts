import type { Db } from '../../db/client'
import { RUN_EVENTS_CHANNEL, EpochMetricValue, RunEventMessage } from '../../events/run-events'
import { Prisma } from '../../generated/prisma/client'
import type { Checkpoint, EpochReport, StoredModel } from '../../models/family'
import { Likelihood, ModelFamily, SequenceArchitecture } from '../../models/family.enums'
import type { Point } from './downsample'
import { Page, pageOf } from '../common/page'
import { ensureExperiment } from '../experiment/experiment.repository'
import { Activation, Optimizer } from './run.spec'
import { AppError, badInput, conflict, ErrorCode, notFound } from '../../errors'
import { TRAIN_QUEUE } from '../../training/jobs'
import { isUniqueViolation, mapConstraints } from '../common/db-errors'
import { boundError } from '../common/stored-error'
import {
  afterCursor,
  compareBy,
  decodeRunCursor,
  encodeRunCursor,
  ordersByMetric,
  runOrderBy,
  SortKey,
  sortValue,
} from './run.query'

/** Most runs an ordering by a named metric sorts (in memory; see RunRepository.queryByMetric). */
export const MAX_METRIC_SORTED = 20_000
import { allowedFrom, isTerminal, RunStatus } from './run.status'

export interface RunRecord {
  id: string
  name: string
  status: RunStatus
  experimentId: string
  datasetId: string
  sweepId: string | null
  family: ModelFamily
  hiddenLayers: number[]
  activation: Activation
  epochs: number
  batchSize: number
  learningRate: number
  optimizer: Optimizer
  validationSplit: number
  seed: number
  latentDim: number | null
  beta: number | null
  likelihood: Likelihood | null
  architecture: SequenceArchitecture | null
  contextLength: number | null
  tags: string[]
  explainMethods: string[]
  idempotencyKey: string | null
  backend: string | null
  error: string | null
  attempt: number
  lastEpoch: number
  cancelRequested: boolean
  finalLoss: number | null
  finalValLoss: number | null
  bestValLoss: number | null
  bestEpoch: number | null
  finalAccuracy: number | null
  finalValAccuracy: number | null
  /** Every named metric of the last stored epoch. */
  finalMetrics: Record<string, number>
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

/** A run to create: its spec as validated by RunService.prepare. */
export type NewRun = Pick<
  RunRecord,
  | 'id'
  | 'name'
  | 'datasetId'
  | 'family'
  | 'hiddenLayers'
  | 'activation'
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'optimizer'
  | 'validationSplit'
  | 'seed'
  | 'latentDim'
  | 'beta'
  | 'likelihood'
  | 'architecture'
  | 'contextLength'
  | 'tags'
  | 'explainMethods'
  | 'idempotencyKey'
> & {
  /** Experiment name, created on first use. */
  experiment: string
  sweepId?: string | undefined
  /** The API key that asked for the run (null with auth off and for sweep runs). */
  apiKeyId?: string | null | undefined
}

/** An explanation as the trainer hands it over for storage. */
export interface NewExplanation {
  methods: string[]
  result: unknown
  computeMs: number
  cost: unknown
}

export type { StoredModel } from '../../models/family'

/** Executes SQL inside the caller's transaction: how a job is enqueued atomically with its run. */
export type TxSql = { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> }
export type Enqueue = (runId: string, sql: TxSql) => Promise<void>

type Tx = Prisma.TransactionClient

const RUN_SELECT = {
  id: true,
  name: true,
  status: true,
  experimentId: true,
  datasetId: true,
  sweepId: true,
  family: true,
  hiddenLayers: true,
  activation: true,
  epochs: true,
  batchSize: true,
  learningRate: true,
  optimizer: true,
  validationSplit: true,
  seed: true,
  latentDim: true,
  beta: true,
  likelihood: true,
  architecture: true,
  contextLength: true,
  tags: true,
  explainMethods: true,
  idempotencyKey: true,
  backend: true,
  error: true,
  attempt: true,
  lastEpoch: true,
  cancelRequested: true,
  finalLoss: true,
  finalValLoss: true,
  bestValLoss: true,
  bestEpoch: true,
  finalAccuracy: true,
  finalValAccuracy: true,
  finalMetrics: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
} satisfies Prisma.RunSelect

type RunRow = Prisma.RunGetPayload<{ select: typeof RUN_SELECT }>

/** The summary columns of a run with no epochs. */
const EMPTY_SUMMARY = {
  lastEpoch: 0,
  finalLoss: null,
  finalValLoss: null,
  bestValLoss: null,
  bestEpoch: null,
  finalAccuracy: null,
  finalValAccuracy: null,
  finalMetrics: {},
} satisfies Prisma.RunUpdateManyMutationInput

const toRecord = (row: RunRow): RunRecord => ({
  ...row,
  status: row.status as RunStatus,
  family: row.family as ModelFamily,
  likelihood: row.likelihood as Likelihood | null,
  architecture: row.architecture as SequenceArchitecture | null,
  activation: row.activation as Activation,
  optimizer: row.optimizer as Optimizer,
  finalMetrics: (row.finalMetrics ?? {}) as Record<string, number>,
})

/** An epoch report as stored and announced: the fixed columns, filled from the named metrics. */
export function toEpochValue(report: EpochReport): EpochMetricValue {
  const named = new Map(report.metrics.map((m) => [m.name, m.value]))
  const loss = named.get('loss')
  if (loss === undefined) throw new Error(`epoch ${report.epoch} reports no loss`)
  return {
    epoch: report.epoch,
    loss,
    valLoss: named.get('valLoss') ?? null,
    accuracy: named.get('accuracy') ?? null,
    valAccuracy: named.get('valAccuracy') ?? null,
    durationMs: report.durationMs,
    values: report.metrics.map((m) => ({ name: m.name, value: m.value })),
  }
}

const EPOCH_SELECT = {
  epoch: true,
  loss: true,
  valLoss: true,
  accuracy: true,
  valAccuracy: true,
  durationMs: true,
  values: true,
} satisfies Prisma.EpochMetricSelect

const toEpochMetricValue = (
  row: Prisma.EpochMetricGetPayload<{ select: typeof EPOCH_SELECT }>,
): EpochMetricValue => ({
  ...row,
  values: row.values as EpochMetricValue['values'],
})

const txSql = (tx: Tx): TxSql => ({
  executeSql: async (text, values) => ({ rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values) }),
})

export async function notify(tx: Tx, message: RunEventMessage): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${RUN_EVENTS_CHANNEL}, ${JSON.stringify(message)})`
}

export interface TransitionOptions {
  /** Only move when the run is on this attempt: a stale worker's writes are refused. */
  attempt?: number
  /** Narrows the statuses moved from (always within what the state machine allows). */
  from?: RunStatus[]
  error?: string | null
  data?: Prisma.RunUpdateManyMutationInput
}

/**
 * Runs, their epochs and trained models. Every status change goes through {@link transition}, which
 * moves only from the statuses the state machine allows and announces the change in the same
 * transaction.
 */
export class RunRepository {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<RunRecord | null> {
    const row = await this.db.run.findUnique({ where: { id }, select: RUN_SELECT })
    return row && toRecord(row)
  }

  async findByIdempotencyKey(key: string): Promise<RunRecord | null> {
    const row = await this.db.run.findUnique({ where: { idempotencyKey: key }, select: RUN_SELECT })
    return row && toRecord(row)
  }

  /** A filtered, ordered page (keyset on the sort values, so pages hold still while runs are added). */
  async query(
    where: Prisma.RunWhereInput,
    keys: SortKey[],
    after: string | undefined,
    first: number,
  ): Promise<Page<RunRecord> & { cursorOf(run: RunRecord): string }> {
    const cursorOf = (run: RunRecord) => encodeRunCursor(run as unknown as Record<string, unknown>, keys)
    if (ordersByMetric(keys)) {
      return { ...(await this.queryByMetric(where, keys, after, first)), cursorOf }
    }
    const position = after === undefined ? {} : afterCursor(keys, decodeRunCursor(after, keys))
    const [rows, totalCount] = await Promise.all([
      this.db.run.findMany({
        where: { AND: [where, position] },
        orderBy: runOrderBy(keys),
        take: first + 1,
        select: RUN_SELECT,
      }),
      this.db.run.count({ where }),
    ])
    return { ...pageOf(rows, first, totalCount, toRecord), cursorOf }
  }

  /**
   * A page ordered by named metrics. Prisma cannot order by a JSON path, so the sort values of every matching
   * run are read (a narrow select, at most MAX_METRIC_SORTED rows) and ordered here, with the same keyset
   * cursor semantics as the SQL path; then the page's runs are read whole.
   */
  private async queryByMetric(
    where: Prisma.RunWhereInput,
    keys: SortKey[],
    after: string | undefined,
    first: number,
  ): Promise<Page<RunRecord>> {
    const select: Prisma.RunSelect = { id: true, finalMetrics: true }
    for (const k of keys) if (k.column !== 'metric') select[k.column] = true
    const candidates = (await this.db.run.findMany({ where, select, take: MAX_METRIC_SORTED + 1 })) as Record<
      string,
      unknown
    >[]
    if (candidates.length > MAX_METRIC_SORTED) {
      throw badInput(
        `ordering by a metric sorts at most ${MAX_METRIC_SORTED} runs; narrow the filter (experiment, sweepId, ...)`,
        { field: 'orderBy' },
      )
    }
    const compare = compareBy(keys)
    const keyed = candidates.map((row) => ({
      id: row['id'] as string,
      values: keys.map((k) => sortValue(row, k)),
    }))
    keyed.sort((a, b) => compare(a.values, b.values))
    const cursor = after === undefined ? undefined : decodeRunCursor(after, keys)
    const start = cursor === undefined ? 0 : keyed.findIndex((r) => compare(r.values, cursor) > 0)
    const slice = start < 0 ? [] : keyed.slice(start, start + first + 1)
    const rows = await this.db.run.findMany({
      where: { id: { in: slice.map((r) => r.id) } },
      select: RUN_SELECT,
    })
    const byId = new Map(rows.map((r) => [r.id, r]))
    const ordered = slice.map((r) => byId.get(r.id)).filter((r): r is RunRow => r !== undefined)
    return pageOf(ordered, first, candidates.length, toRecord)
  }

  /**
   * Creates a QUEUED run and its job in one transaction (or returns the run an idempotency key made). With
   * `maxQueuedPerKey`, a run of a key that already has that many QUEUED is refused with TOO_MANY_QUEUED_RUNS
   * (counted under a per-key lock, so concurrent requests cannot overshoot).
   */
  async create(
    spec: NewRun,
    enqueue: Enqueue,
    opts: { maxQueuedPerKey?: number } = {},
  ): Promise<{ run: RunRecord; created: boolean }> {
    try {
      return await this.insert(spec, enqueue, opts)
    } catch (err) {
      // Two requests with one new key raced; the loser returns the winner's run.
      if (spec.idempotencyKey && isUniqueViolation(err)) {
        const seen = await this.findByIdempotencyKey(spec.idempotencyKey)
        if (seen) return { run: seen, created: false }
        throw conflict('another request with this idempotencyKey is being handled; retry', {
          field: 'idempotencyKey',
        })
      }
      throw err
    }
  }

  private insert(
    spec: NewRun,
    enqueue: Enqueue,
    opts: { maxQueuedPerKey?: number },
  ): Promise<{ run: RunRecord; created: boolean }> {
    return mapConstraints(
      () =>
        this.db.$transaction(async (tx) => {
          if (spec.idempotencyKey) {
            const seen = await tx.run.findUnique({
              where: { idempotencyKey: spec.idempotencyKey },
              select: RUN_SELECT,
            })
            if (seen) return { run: toRecord(seen), created: false }
          }
          if (spec.apiKeyId && opts.maxQueuedPerKey !== undefined) {
            await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('api-key-runs:' || ${spec.apiKeyId}))`
            const queued = await tx.run.count({
              where: { apiKeyId: spec.apiKeyId, status: RunStatus.QUEUED },
            })
            if (queued >= opts.maxQueuedPerKey) {
              throw new AppError(
                ErrorCode.TOO_MANY_QUEUED_RUNS,
                `this key already has ${queued} runs queued, the most allowed (LAB_MAX_QUEUED_RUNS_PER_KEY); ` +
                  'wait for some to start or cancel them',
                { limit: opts.maxQueuedPerKey },
              )
            }
          }
          const experiment = await ensureExperiment(tx, spec.experiment)
          const { experiment: _name, ...fields } = spec
          const row = await tx.run.create({
            data: { ...fields, experimentId: experiment.id, status: RunStatus.QUEUED },
            select: RUN_SELECT,
          })
          await enqueue(row.id, txSql(tx))
          await notify(tx, {
            type: 'created',
            runId: row.id,
            experimentId: row.experimentId,
            sweepId: row.sweepId,
          })
          return { run: toRecord(row), created: true }
        }),
      {
        // The dataset was deleted between the service's check and this insert.
        foreignKey: () => notFound('dataset', spec.datasetId),
        // Left unmapped for an idempotency key: create() answers with the run that won.
        ...(spec.idempotencyKey ? {} : { unique: () => conflict(`run ${spec.id} exists already`) }),
      },
    )
  }

  /**
   * Moves a run to `to` if the state machine allows it from the current status (and the attempt
   * matches, when given). Returns the updated run, or null when the move was not allowed.
   */
  async transition(
    id: string,
    to: RunStatus,
    opts: TransitionOptions = {},
    tx?: Tx,
  ): Promise<RunRecord | null> {
    const work = async (t: Tx) => {
      // Every lifecycle time comes from the database's clock: trainers and API hosts may disagree with it.
      const [{ now }] = await t.$queryRaw<[{ now: Date }]>`SELECT now() AS now`
      const { count } = await t.run.updateMany({
        where: {
          id,
          status: { in: allowedFrom(to).filter((s) => !opts.from || opts.from.includes(s)) },
          ...(opts.attempt !== undefined ? { attempt: opts.attempt } : {}),
        },
        data: {
          ...opts.data,
          status: to,
          ...(opts.error !== undefined ? { error: boundError(opts.error) } : {}),
          ...(to === RunStatus.RUNNING ? { startedAt: now, heartbeatAt: now } : {}),
          ...(to === RunStatus.SUCCEEDED || to === RunStatus.FAILED || to === RunStatus.CANCELLED
            ? { finishedAt: now }
            : {}),
        },
      })
      if (count === 0) return null
      // An ended run is never resumed: its checkpoint goes with the same transaction.
      if (isTerminal(to)) await t.runCheckpoint.deleteMany({ where: { runId: id } })
      const row = await t.run.findUniqueOrThrow({ where: { id }, select: RUN_SELECT })
      await notify(t, {
        type: 'status',
        runId: id,
        experimentId: row.experimentId,
        sweepId: row.sweepId,
        status: to,
        error: row.error,
      })
      return toRecord(row)
    }
    return tx ? work(tx) : this.db.$transaction(work)
  }

  /** QUEUED runs are cancelled at once; RUNNING ones are flagged and stop at the next epoch boundary. */
  async requestCancel(id: string, reason = 'cancelled by request'): Promise<RunRecord | null> {
    return this.db.$transaction(async (tx) => {
      const cancelled = await this.transition(
        id,
        RunStatus.CANCELLED,
        { from: [RunStatus.QUEUED], error: reason, data: { cancelRequested: true } },
        tx,
      )
      if (cancelled) {
        // Its job would only be picked up to be skipped: remove it, so workers do not chew through dead jobs.
        await tx.$executeRaw`
          DELETE FROM pgboss.job
          WHERE name = ${TRAIN_QUEUE} AND data->>'runId' = ${id} AND state IN ('created', 'retry')`
        return cancelled
      }
      await tx.run.updateMany({
        where: { id, status: RunStatus.RUNNING },
        data: { cancelRequested: true, error: boundError(reason) },
      })
      const row = await tx.run.findUnique({ where: { id }, select: RUN_SELECT })
      return row && toRecord(row)
    })
  }

  // ---- what the trainer writes ------------------------------------------------------------------

  /** Takes a QUEUED run for this worker: a new attempt number fences off any older attempt. */
  async claim(id: string, workerId: string, backend: string): Promise<RunRecord | null> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.run.updateMany({
        where: { id, status: RunStatus.QUEUED },
        data: { attempt: { increment: 1 } },
      })
      if (count === 0) return null
      const { attempt } = await tx.run.findUniqueOrThrow({ where: { id }, select: { attempt: true } })
      return this.transition(id, RunStatus.RUNNING, { attempt, data: { workerId, backend, error: null } }, tx)
    })
  }

  /**
   * Stores one epoch and the run's summary, then announces it. Refused (returns 'stale') when the run
   * is no longer RUNNING on this attempt. Returns whether a cancel was requested.
   *
   * One statement, so one round trip and its own transaction: the trainer records an epoch while the next one
   * trains, and an interactive transaction (BEGIN, four statements, COMMIT) would need the trainer's event
   * loop between each of them. The NOTIFY is sent at commit, with the stored row, exactly as before.
   */
  async recordEpoch(
    id: string,
    attempt: number,
    report: EpochReport,
  ): Promise<'stale' | { cancelRequested: boolean }> {
    const m = toEpochValue(report)
    const finalMetrics = JSON.stringify(Object.fromEntries(m.values.map((v) => [v.name, v.value])))
    const rows = await this.db.$queryRaw<{ cancelRequested: boolean }[]>`
      WITH run AS (
        UPDATE "Run" SET
          "lastEpoch" = ${m.epoch},
          "finalLoss" = ${m.loss}::float8,
          "finalValLoss" = ${m.valLoss}::float8,
          "finalAccuracy" = ${m.accuracy}::float8,
          "finalValAccuracy" = ${m.valAccuracy}::float8,
          "finalMetrics" = ${finalMetrics}::jsonb,
          "bestEpoch" = CASE WHEN ${m.valLoss}::float8 IS NOT NULL AND ("bestValLoss" IS NULL OR ${m.valLoss}::float8 < "bestValLoss")
                             THEN ${m.epoch} ELSE "bestEpoch" END,
          "bestValLoss" = CASE WHEN ${m.valLoss}::float8 IS NOT NULL AND ("bestValLoss" IS NULL OR ${m.valLoss}::float8 < "bestValLoss")
                               THEN ${m.valLoss}::float8 ELSE "bestValLoss" END,
          "heartbeatAt" = now()
        WHERE id = ${id}::uuid AND attempt = ${attempt} AND status = 'RUNNING'
        RETURNING "cancelRequested", "experimentId", "sweepId"
      ), stored AS (
        INSERT INTO "EpochMetric" ("runId", epoch, loss, "valLoss", accuracy, "valAccuracy", "durationMs", "values")
        SELECT ${id}::uuid, ${m.epoch}, ${m.loss}::float8, ${m.valLoss}::float8, ${m.accuracy}::float8,
               ${m.valAccuracy}::float8, ${m.durationMs}::float8, ${JSON.stringify(m.values)}::jsonb
        FROM run
        RETURNING epoch
      )
      -- json (not jsonb) keeps the metric's text as JSON.stringify wrote it: the same numbers reach subscribers.
      SELECT run."cancelRequested",
             pg_notify(${RUN_EVENTS_CHANNEL}, json_build_object(
               'type', 'epoch', 'runId', ${id}::uuid, 'experimentId', run."experimentId",
               'sweepId', run."sweepId", 'metric', ${JSON.stringify(m)}::json)::text) IS NULL AS "notified"
      FROM run, stored`
    const row = rows[0]
    return row ? { cancelRequested: row.cancelRequested } : 'stale'
  }

  async heartbeat(id: string, attempt: number): Promise<boolean> {
    const count = await this.db.$executeRaw`
      UPDATE "Run" SET "heartbeatAt" = now()
      WHERE id = ${id}::uuid AND attempt = ${attempt} AND status = 'RUNNING'`
    return count > 0
  }

  /**
   * Runs of an experiment a live table may have missed news of since `since`: every unfinished run, and those
   * created or finished since then (newest first, at most 500).
   */
  async changedInExperiment(experimentId: string, since: Date): Promise<RunRecord[]> {
    const rows = await this.db.run.findMany({
      where: {
        experimentId,
        OR: [
          { status: { in: [RunStatus.QUEUED, RunStatus.RUNNING] } },
          { createdAt: { gte: since } },
          { finishedAt: { gte: since } },
        ],
      },
      orderBy: { createdAt: 'asc' },
      take: 500,
      select: RUN_SELECT,
    })
    return rows.map(toRecord)
  }

  /** Whether a cancel was asked for (the trainer polls it while it explains, where no epoch reports it). */
  async isCancelRequested(id: string): Promise<boolean> {
    const row = await this.db.run.findUnique({ where: { id }, select: { cancelRequested: true } })
    return row?.cancelRequested ?? false
  }

  /** Ends a run the worker finished: the model (when any) and the final status in one transaction. */
  async finish(
    id: string,
    attempt: number,
    to: RunStatus.SUCCEEDED | RunStatus.FAILED | RunStatus.CANCELLED,
    result: { error?: string | null; model?: StoredModel; explanation?: NewExplanation },
  ): Promise<RunRecord | null> {
    return this.db.$transaction(
      async (tx) => {
        // The row lock orders this against the supervisor and cancelRun: a run they moved on gets nothing.
        const [current] = await tx.$queryRaw<{ cancelRequested: boolean }[]>`
          SELECT "cancelRequested" FROM "Run"
          WHERE id = ${id}::uuid AND attempt = ${attempt} AND status = 'RUNNING' FOR UPDATE`
        if (!current) return null
        if (to === RunStatus.SUCCEEDED && current.cancelRequested) {
          // A cancel that arrived after the last epoch (during the explanation) still cancels.
          return this.transition(id, RunStatus.CANCELLED, { attempt }, tx)
        }
        if (result.model) {
          const m = result.model
          const data = {
            topology: m.topology as Prisma.InputJsonValue,
            weightSpecs: m.weightSpecs as Prisma.InputJsonValue,
            weights: new Uint8Array(m.weights),
            normalization: m.normalization as Prisma.InputJsonValue,
            parameterCount: m.parameterCount,
          }
          await tx.trainedModel.upsert({ where: { runId: id }, create: { runId: id, ...data }, update: data })
        }
        if (result.explanation) {
          const e = result.explanation
          const data = {
            methods: e.methods,
            result: e.result as Prisma.InputJsonValue,
            computeMs: e.computeMs,
            cost: e.cost as Prisma.InputJsonValue,
          }
          await tx.explanation.upsert({ where: { runId: id }, create: { runId: id, ...data }, update: data })
          const { experimentId, sweepId } = await tx.run.findUniqueOrThrow({
            where: { id },
            select: { experimentId: true, sweepId: true },
          })
          // Announced before the status change, so subscribers have the explanation before SUCCEEDED.
          await notify(tx, { type: 'explanation', runId: id, experimentId, sweepId })
        }
        // A cancelled run keeps the reason given when the cancel was requested.
        return this.transition(
          id,
          to,
          { attempt, ...(result.error !== undefined ? { error: result.error } : {}) },
          tx,
        )
      },
      { timeout: 60_000 },
    )
  }

  /**
   * A run whose worker is gone (or handed it back): back to QUEUED for another attempt, with a new job, while
   * retries remain, else FAILED with the reason. With a checkpoint the history stays (the next attempt continues
   * from the checkpoint); without one it is removed, and the next attempt starts from epoch 1.
   */
  async abandon(
    id: string,
    attempt: number,
    reason: string,
    maxRetries: number,
    enqueue: Enqueue,
  ): Promise<RunRecord | null> {
    return this.db.$transaction(async (tx) => {
      if (attempt <= maxRetries) {
        const resumable = (await tx.runCheckpoint.count({ where: { runId: id } })) > 0
        const requeued = await this.transition(
          id,
          RunStatus.QUEUED,
          {
            attempt,
            error: `retrying: ${reason}`,
            data: { workerId: null, heartbeatAt: null, ...(resumable ? {} : EMPTY_SUMMARY) },
          },
          tx,
        )
        if (requeued) {
          if (!resumable) await this.dropHistory(tx, requeued)
          await enqueue(id, txSql(tx))
          return requeued
        }
      }
      return this.transition(id, RunStatus.FAILED, { attempt, error: reason }, tx)
    })
  }

  /**
   * Clears a RUNNING run's history for an attempt that cannot resume (its checkpoint is unusable): epochs,
   * summary and checkpoint go, and subscribers are told the next epoch is 1. False when the attempt is stale.
   */
  async rewind(id: string, attempt: number): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.run.updateMany({
        where: { id, attempt, status: RunStatus.RUNNING },
        data: EMPTY_SUMMARY,
      })
      if (count === 0) return false
      await tx.runCheckpoint.deleteMany({ where: { runId: id } })
      await this.dropHistory(tx, await tx.run.findUniqueOrThrow({ where: { id }, select: RUN_SELECT }))
      return true
    })
  }

  private async dropHistory(tx: Tx, run: Pick<RunRow, 'id' | 'experimentId' | 'sweepId'>): Promise<void> {
    await tx.epochMetric.deleteMany({ where: { runId: run.id } })
    await notify(tx, { type: 'rewound', runId: run.id, experimentId: run.experimentId, sweepId: run.sweepId })
  }

  /**
   * Stores (replaces) the run's checkpoint. Refused (false) unless the run is RUNNING on this attempt and has
   * stored the checkpoint's epoch: a checkpoint is never ahead of the history it continues.
   */
  async saveCheckpoint(
    id: string,
    attempt: number,
    family: ModelFamily,
    checkpoint: Checkpoint,
  ): Promise<boolean> {
    const meta = JSON.stringify(checkpoint.meta)
    const specs = JSON.stringify(checkpoint.weightSpecs)
    const weights = new Uint8Array(checkpoint.weights)
    const count = await this.db.$executeRaw`
      INSERT INTO "RunCheckpoint" ("runId", family, epoch, attempt, meta, "weightSpecs", weights, "createdAt")
      SELECT id, ${family}::"ModelFamily", ${checkpoint.epoch}, ${attempt}, ${meta}::jsonb, ${specs}::jsonb,
             ${weights}, now()
      FROM "Run"
      WHERE id = ${id}::uuid AND attempt = ${attempt} AND status = 'RUNNING' AND "lastEpoch" >= ${checkpoint.epoch}
      ON CONFLICT ("runId") DO UPDATE SET
        family = EXCLUDED.family, epoch = EXCLUDED.epoch, attempt = EXCLUDED.attempt, meta = EXCLUDED.meta,
        "weightSpecs" = EXCLUDED."weightSpecs", weights = EXCLUDED.weights, "createdAt" = EXCLUDED."createdAt"`
    return count > 0
  }

  /** The run's checkpoint and the family that wrote it, if it has one. */
  async findCheckpoint(id: string): Promise<{ family: ModelFamily; checkpoint: Checkpoint } | null> {
    const row = await this.db.runCheckpoint.findUnique({ where: { runId: id } })
    if (!row) return null
    return {
      family: row.family as ModelFamily,
      checkpoint: {
        epoch: row.epoch,
        meta: (row.meta ?? {}) as Record<string, unknown>,
        weightSpecs: row.weightSpecs,
        weights: row.weights,
      },
    }
  }

  /**
   * RUNNING runs whose heartbeat is older than `olderThanMs`, counting the database server's own start as a
   * sign of life: after a restart, trainers need a moment to reconnect and beat again.
   */
  async findStale(olderThanMs: number): Promise<{ id: string; attempt: number; heartbeatAt: Date | null }[]> {
    // Compared on the database's clock, the clock heartbeats are written with.
    return this.db.$queryRaw<{ id: string; attempt: number; heartbeatAt: Date | null }[]>`
      SELECT id::text AS id, attempt, "heartbeatAt" FROM "Run"
      WHERE status = 'RUNNING' AND "heartbeatAt" < now() - make_interval(secs => ${olderThanMs / 1000})
        AND pg_postmaster_start_time() < now() - make_interval(secs => ${olderThanMs / 1000})`
  }

  /**
   * One metric's series (epochs without it skipped) reduced in the database to at most `maxPoints` points by
   * the rule of `downsample` (downsample.ts), which is its specification (a test holds the two equal): the
   * first and last points, then per bucket of the points between them its first minimum and first maximum,
   * in epoch order. Only the reduced points leave the database.
   *
   * It reads the series' blocks (MetricBlock: 16 epochs each, kept by triggers on EpochMetric), not its
   * epochs: a block that lies inside one bucket gives its stored first minimum and maximum; only the blocks
   * a bucket boundary cuts (at most one per bucket) and the two holding the first and last points are
   * unnested. Point i (from 0) of n; the inner points 1..n-2 fall in bucket floor((i * B - 1) / (n - 2)), the
   * integer form of downsample's bucket bounds 1 + floor(b * inner / B); the first and last points, and every
   * point of a series of at most maxPoints, are groups of their own (-1 - i). Epochs grow with i, so a
   * group's first minimum is its least [value, epoch] and its first maximum its greatest [value, -epoch].
   */
  async metricHistory(runId: string, metric: string, maxPoints: number): Promise<Point[]> {
    if (maxPoints < 4) throw new RangeError('maxPoints must be at least 4')
    const buckets = Math.floor((maxPoints - 2) / 2)
    const group = (i: Prisma.Sql) =>
      Prisma.sql`CASE WHEN n <= ${maxPoints} OR ${i} = 0 OR ${i} = n - 1 THEN -1 - ${i}
        ELSE (${i} * ${buckets} - 1) / (n - 2) END`
    // A block is whole when it lies in one bucket and holds neither the first nor the last point.
    return this.db.$queryRaw<Point[]>`
      WITH b AS MATERIALIZED (
        SELECT *, ${group(Prisma.sql`s`)} AS g0,
               ${group(Prisma.sql`s`)} = ${group(Prisma.sql`(s + count - 1)`)} AND s > 0 AND s + count < n AS whole
        FROM (
          SELECT count, epochs, "values", "minValue", "minEpoch", "maxValue", "maxEpoch",
                 (sum(count) OVER (ORDER BY block) - count)::bigint AS s,
                 (sum(count) OVER ())::bigint AS n
          FROM "MetricBlock" WHERE "runId" = ${runId}::uuid AND metric = ${metric}
        ) numbered
      ), whole AS (
        SELECT g0 AS g, ARRAY["minValue", "minEpoch"] AS lo, ARRAY["maxValue", -"maxEpoch"] AS hi
        FROM b WHERE whole
      ), cut AS (
        SELECT ${group(Prisma.sql`(s + o - 1)`)} AS g, ARRAY[v, e] AS lo, ARRAY[v, -e] AS hi
        FROM b CROSS JOIN LATERAL unnest(epochs, "values") WITH ORDINALITY AS p(e, v, o)
        WHERE NOT whole
      ), g AS (
        SELECT min(lo) AS lo, max(hi) AS hi FROM (SELECT * FROM whole UNION ALL SELECT * FROM cut) parts GROUP BY g
      )
      SELECT DISTINCT x[1]::int AS epoch, x[2] AS value
      FROM g CROSS JOIN LATERAL (VALUES (ARRAY[lo[2], lo[1]]), (ARRAY[-hi[2], hi[1]])) v(x)
      ORDER BY epoch`
  }

  /** QUEUED runs older than `olderThanMs` without a live job in pg-boss's `queue` (their job was lost). */
  async findQueuedWithoutJob(queue: string, olderThanMs: number): Promise<string[]> {
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT r.id::text AS id FROM "Run" r
      WHERE r.status = 'QUEUED' AND r."createdAt" < now() - make_interval(secs => ${olderThanMs / 1000})
        AND NOT EXISTS (
          SELECT 1 FROM pgboss.job j
          WHERE j.name = ${queue} AND j.data->>'runId' = r.id::text
            AND j.state IN ('created', 'retry', 'active'))`
    return rows.map((r) => r.id)
  }

  /** Gives a run a new job (in a transaction of its own, as `create` does in its). */
  async enqueueAgain(id: string, enqueue: Enqueue): Promise<void> {
    await this.db.$transaction((tx) => enqueue(id, txSql(tx)))
  }

  async history(runId: string, afterEpoch = 0): Promise<EpochMetricValue[]> {
    const rows = await this.db.epochMetric.findMany({
      where: { runId, epoch: { gt: afterEpoch } },
      orderBy: { epoch: 'asc' },
      select: EPOCH_SELECT,
    })
    return rows.map(toEpochMetricValue)
  }

  async histories(runIds: readonly string[]): Promise<Map<string, EpochMetricValue[]>> {
    const rows = await this.db.epochMetric.findMany({
      where: { runId: { in: [...runIds] } },
      orderBy: [{ runId: 'asc' }, { epoch: 'asc' }],
      select: { runId: true, ...EPOCH_SELECT },
    })
    const out = new Map<string, EpochMetricValue[]>()
    for (const { runId, ...m } of rows) {
      let list = out.get(runId)
      if (!list) out.set(runId, (list = []))
      list.push(toEpochMetricValue(m))
    }
    return out
  }

  /** Who holds a run (the trainer checks, after an outage cut its claim short, whether the claim committed). */
  async ownerOf(id: string): Promise<{ status: RunStatus; attempt: number; workerId: string | null } | null> {
    const row = await this.db.run.findUnique({
      where: { id },
      select: { status: true, attempt: true, workerId: true },
    })
    return row && { ...row, status: row.status as RunStatus }
  }

  async findModel(runId: string): Promise<StoredModel | null> {
    const row = await this.db.trainedModel.findUnique({ where: { runId } })
    return row && { ...row, weights: row.weights }
  }
}
