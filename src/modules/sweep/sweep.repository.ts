import type { Db } from '../../db/client'
import { notFound } from '../../errors'
import { mapConstraints } from '../common/db-errors'
import { boundError } from '../common/stored-error'
import { ensureExperiment } from '../experiment/experiment.repository'
import { notify } from '../run/run.repository'
import { isTerminal, RunStatus } from '../run/run.status'
import type { Prisma } from '../../generated/prisma/client'
import { keysetWhere, Page, pageOf, PageArgs } from '../common/page'
import { Goal, SweepMethod, SweepStatus } from './sweep.enums'
import type { Parameter } from './sweep.params'

/** What a sweep keeps in its `config` column. */
export interface SweepConfig {
  parameters: Parameter[]
  /** The validated base StartRunInput (without datasetId and experiment). */
  base: Record<string, unknown>
  earlyTerminate: { minEpochs: number } | null
}

export interface SweepRecord {
  id: string
  status: SweepStatus
  method: SweepMethod
  experimentId: string
  experiment: string
  datasetId: string
  config: SweepConfig
  metric: string
  goal: Goal
  runCap: number
  maxConcurrent: number
  seed: number
  bestRunId: string | null
  error: string | null
  createdAt: Date
  finishedAt: Date | null
}

const SELECT = {
  id: true,
  status: true,
  method: true,
  experimentId: true,
  experiment: { select: { name: true } },
  datasetId: true,
  config: true,
  metric: true,
  goal: true,
  runCap: true,
  maxConcurrent: true,
  seed: true,
  bestRunId: true,
  error: true,
  createdAt: true,
  finishedAt: true,
} satisfies Prisma.SweepSelect

type Row = Prisma.SweepGetPayload<{ select: typeof SELECT }>

const toRecord = (r: Row): SweepRecord => ({
  ...r,
  status: r.status as SweepStatus,
  method: r.method as SweepMethod,
  goal: r.goal as Goal,
  experiment: r.experiment.name,
  config: r.config as unknown as SweepConfig,
  runCap: r.runCap ?? 0,
})

export interface SweepRunRow {
  id: string
  status: string
  lastEpoch: number
  finalLoss: number | null
  finalValLoss: number | null
  finalAccuracy: number | null
  finalValAccuracy: number | null
  /** Every named metric of the run's last epoch. */
  finalMetrics: Record<string, number>
}

export class SweepRepository {
  constructor(private readonly db: Db) {}

  async create(data: {
    experiment: string
    datasetId: string
    method: SweepMethod
    config: SweepConfig
    metric: string
    goal: Goal
    runCap: number
    maxConcurrent: number
    seed: number
  }): Promise<SweepRecord> {
    const { experiment, config, ...rest } = data
    const row = await mapConstraints(
      () =>
        this.db.$transaction(async (tx) => {
          const exp = await ensureExperiment(tx, experiment)
          return tx.sweep.create({
            data: { ...rest, experimentId: exp.id, config: config as unknown as Prisma.InputJsonValue },
            select: SELECT,
          })
        }),
      // The dataset was deleted after the sweep's runs were checked.
      { foreignKey: () => notFound('dataset', data.datasetId) },
    )
    return toRecord(row)
  }

  async findById(id: string): Promise<SweepRecord | null> {
    const row = await this.db.sweep.findUnique({ where: { id }, select: SELECT })
    return row && toRecord(row)
  }

  async findRunningIds(): Promise<string[]> {
    const rows = await this.db.sweep.findMany({
      where: { status: SweepStatus.RUNNING },
      select: { id: true },
    })
    return rows.map((r) => r.id)
  }

  async list(page: PageArgs): Promise<Page<SweepRecord>> {
    const [rows, totalCount] = await Promise.all([
      this.db.sweep.findMany({
        where: keysetWhere(page.after),
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.first + 1,
        select: SELECT,
      }),
      this.db.sweep.count(),
    ])
    return pageOf(rows, page.first, totalCount, toRecord)
  }

  async runs(sweepId: string): Promise<SweepRunRow[]> {
    const rows = await this.db.run.findMany({
      where: { sweepId },
      orderBy: { createdAt: 'asc' },
      select: {
        id: true,
        status: true,
        lastEpoch: true,
        finalLoss: true,
        finalValLoss: true,
        finalAccuracy: true,
        finalValAccuracy: true,
        finalMetrics: true,
      },
    })
    return rows.map((r) => ({ ...r, finalMetrics: (r.finalMetrics ?? {}) as Record<string, number> }))
  }

  async counts(sweepIds: readonly string[]): Promise<Map<string, { runs: number; finished: number }>> {
    const rows = await this.db.run.groupBy({
      by: ['sweepId', 'status'],
      where: { sweepId: { in: [...sweepIds] } },
      _count: { _all: true },
    })
    const out = new Map<string, { runs: number; finished: number }>()
    for (const r of rows) {
      const c = out.get(r.sweepId!) ?? { runs: 0, finished: 0 }
      c.runs += r._count._all
      if (isTerminal(r.status as RunStatus)) c.finished += r._count._all
      out.set(r.sweepId!, c)
    }
    return out
  }

  /** The metric of each given run at one epoch. */
  async metricAt(runIds: string[], epoch: number, metric: string): Promise<Map<string, number>> {
    if (runIds.length === 0) return new Map()
    const rows = await this.db.epochMetric.findMany({
      where: { runId: { in: runIds }, epoch },
      select: { runId: true, values: true },
    })
    const out = new Map<string, number>()
    for (const r of rows) {
      const found = (r.values as { name: string; value: number }[]).find((v) => v.name === metric)
      if (found) out.set(r.runId, found.value)
    }
    return out
  }

  /**
   * Runs `work` while holding this sweep's lock (transaction-scoped advisory lock), so one API
   * instance drives a sweep at a time. Without `wait`, returns undefined when another holds it.
   */
  async withLock<T>(
    sweepId: string,
    work: () => Promise<T>,
    opts: { wait?: boolean } = {},
  ): Promise<T | undefined> {
    return this.db.$transaction(
      async (tx) => {
        if (opts.wait) {
          await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('sweep:' || ${sweepId}))`
        } else {
          const [row] = await tx.$queryRaw<{ locked: boolean }[]>`
            SELECT pg_try_advisory_xact_lock(hashtext('sweep:' || ${sweepId})) AS locked`
          if (!row?.locked) return undefined
        }
        return work()
      },
      { timeout: 120_000, maxWait: 10_000 },
    )
  }

  /** Ends a RUNNING sweep and announces it. */
  async end(
    id: string,
    status: SweepStatus,
    data: { bestRunId?: string | null; error?: string | null } = {},
  ): Promise<SweepRecord | null> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.sweep.updateMany({
        where: { id, status: SweepStatus.RUNNING },
        data: {
          ...data,
          ...(data.error != null ? { error: boundError(data.error) } : {}),
          status,
          finishedAt: new Date(),
        },
      })
      if (count === 0) return null
      const row = await tx.sweep.findUniqueOrThrow({ where: { id }, select: SELECT })
      await notify(tx, { type: 'sweep', sweepId: id, experimentId: row.experimentId, status })
      return toRecord(row)
    })
  }
}
