import { randomInt } from 'node:crypto'
import { AppError, badInput, conflict, ErrorCode, notFound } from '../../errors'
import type { RunEventMessage } from '../../events/run-events'
import type { Logger } from '../../logger'
import { isId } from '../common/ids'
import { storedError } from '../common/stored-error'
import { Page, PageArgs } from '../common/page'
import { checkName } from '../dataset/dataset.content'
import type { StartRunArgs } from '../run/run.service'
import { RunService } from '../run/run.service'
import { isTerminal, RunStatus } from '../run/run.status'
import { checkMetricName } from '../run/run.metrics'
import { familyOf } from '../../models/registry'
import { Goal, SweepMethod, SweepStatus } from './sweep.enums'
import {
  DEFAULT_RANDOM_RUN_CAP,
  extremePoints,
  gridPoint,
  gridSize,
  MAX_GRID,
  ParameterSpec,
  parseParameters,
  randomPoint,
} from './sweep.params'
import { SweepRecord, SweepRepository, SweepRunRow } from './sweep.repository'

const DEFAULT_MIN_EPOCHS = 3
const MAX_CONCURRENT = 100

export interface StartSweepArgs {
  experiment: string
  datasetId: string
  method: SweepMethod
  parameters: ParameterSpec[]
  base?: (Omit<StartRunArgs, 'datasetId'> & { datasetId?: string }) | null | undefined
  metric: string
  goal: Goal
  runCap?: number | null | undefined
  maxConcurrent?: number | null | undefined
  seed?: number | null | undefined
  earlyTerminate?: { type: string; minEpochs?: number | null | undefined } | null | undefined
}

/** Fields of the base input a sweep takes over itself. */
const NOT_IN_BASE = ['datasetId', 'experiment', 'idempotencyKey', 'name'] as const

/**
 * Sweeps: validated up front, then driven by the server. The driver's state is the database (the
 * sweep row and its runs), so any API instance can drive it and a restart loses nothing; each run
 * of a sweep has the idempotency key `sweep:<id>:<index>`, so a step repeated after a crash cannot
 * start a run twice.
 */
export class SweepService {
  private timer: NodeJS.Timeout | undefined
  private readonly pending = new Map<string, Promise<void>>()
  private readonly again = new Set<string>()
  /** Whether a sweep stops runs early; fixed at creation, so it is looked up once per sweep. */
  private readonly stopsEarly = new Map<string, Promise<boolean>>()
  private stopped = false

  constructor(
    private readonly repo: SweepRepository,
    private readonly runs: RunService,
    private readonly logger: Logger,
  ) {}

  get(id: string): Promise<SweepRecord | null> {
    return isId(id) ? this.repo.findById(id) : Promise.resolve(null)
  }

  list(page: PageArgs): Promise<Page<SweepRecord>> {
    return this.repo.list(page)
  }

  counts(ids: readonly string[]) {
    return this.repo.counts(ids)
  }

  async start(args: StartSweepArgs): Promise<SweepRecord> {
    const experiment = checkName(args.experiment, 'experiment')
    checkMetricName(args.metric)
    const parameters = parseParameters(args.parameters, args.method)
    const size = args.method === SweepMethod.GRID ? gridSize(parameters) : Infinity
    if (args.method === SweepMethod.GRID && size > MAX_GRID)
      throw badInput(`the grid has ${size} points; at most ${MAX_GRID}`, { field: 'parameters' })
    if (args.runCap != null && (!Number.isInteger(args.runCap) || args.runCap < 1)) {
      throw badInput('runCap must be a positive integer', { field: 'runCap' })
    }
    const runCap = Math.min(
      args.runCap ?? (args.method === SweepMethod.GRID ? size : DEFAULT_RANDOM_RUN_CAP),
      size,
    )
    const maxConcurrent = args.maxConcurrent ?? 1
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1 || maxConcurrent > MAX_CONCURRENT) {
      throw badInput(`maxConcurrent must be between 1 and ${MAX_CONCURRENT}`, { field: 'maxConcurrent' })
    }
    let earlyTerminate: { minEpochs: number } | null = null
    if (args.earlyTerminate) {
      const minEpochs = args.earlyTerminate.minEpochs ?? DEFAULT_MIN_EPOCHS
      if (!Number.isInteger(minEpochs) || minEpochs < 1) {
        throw badInput('earlyTerminate.minEpochs must be a positive integer', { field: 'earlyTerminate' })
      }
      earlyTerminate = { minEpochs }
    }
    const base: Record<string, unknown> = { ...(args.base ?? {}) }
    for (const key of NOT_IN_BASE) delete base[key]
    for (const key of Object.keys(base)) if (base[key] == null) delete base[key]
    // Every run the sweep can start must be a valid run: check them all now, queue nothing if not.
    for (const point of extremePoints(parameters, args.method)) {
      try {
        const run = await this.runs.prepare({
          ...base,
          ...point,
          datasetId: args.datasetId,
          experiment,
        } as StartRunArgs)
        // The metric must be one every run reports: a VAE's kl_5 needs latentDim > 5 at every point.
        const names = familyOf(run.family).metricNames(run)
        if (!names.includes(args.metric)) {
          throw badInput(
            `metric ${args.metric} is not reported by ${run.family} runs like these; they report ${names.join(', ')}`,
            {
              field: 'metric',
            },
          )
        }
      } catch (err) {
        if (err instanceof AppError && err.code === ErrorCode.BAD_USER_INPUT) {
          const shown = JSON.stringify(point)
          throw badInput(
            `parameters ${shown.length > 200 ? `${shown.slice(0, 200)}...` : shown}: ${err.message}`,
            { ...err.details },
          )
        }
        throw err
      }
    }
    const sweep = await this.repo.create({
      experiment,
      datasetId: args.datasetId,
      method: args.method,
      config: { parameters, base, earlyTerminate },
      metric: args.metric,
      goal: args.goal,
      runCap,
      maxConcurrent,
      seed: args.seed ?? randomInt(0, 2 ** 31 - 1),
    })
    await this.kick(sweep.id)
    return (await this.repo.findById(sweep.id)) ?? sweep
  }

  async cancel(id: string): Promise<SweepRecord> {
    const sweep = await this.get(id)
    if (!sweep) throw notFound('sweep', id)
    if (sweep.status === SweepStatus.CANCELLED) return sweep
    if (sweep.status !== SweepStatus.RUNNING) throw conflict(`sweep ${id} has already ${sweep.status}`)
    // Waits for a driving step in progress, so none starts a run after the cancel.
    await this.repo.withLock(
      id,
      async () => {
        for (const run of await this.repo.runs(id)) {
          if (!isTerminal(run.status as RunStatus)) {
            await this.runs.cancel(run.id, 'its sweep was cancelled').catch(() => {})
          }
        }
        await this.repo.end(id, SweepStatus.CANCELLED, { bestRunId: await this.best(sweep) })
      },
      { wait: true },
    )
    return (await this.repo.findById(id))!
  }

  /** Drives every RUNNING sweep now and then (and at start-up: sweeps survive API restarts). */
  startDriving(intervalMs: number): void {
    void this.catchUp()
    this.timer = setInterval(() => void this.catchUp(), intervalMs)
    this.timer.unref()
  }

  /** One step of every RUNNING sweep (after a restart, a missed event, or a reconnect of the listener). */
  private async catchUp(): Promise<void> {
    for (const id of await this.repo.findRunningIds().catch(() => [])) await this.kick(id)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await Promise.all(this.pending.values())
  }

  /**
   * A run of a sweep changed: a status change may free a slot or end the sweep, and a new epoch
   * matters only to a sweep that stops runs early - other sweeps skip that step on the hot path.
   */
  onRunEvent(m: RunEventMessage | { type: 'resync' }): void {
    // Events were lost while the listener was away: step every running sweep now, not at the next pass.
    if (m.type === 'resync') {
      void this.catchUp()
      return
    }
    if ((m.type !== 'status' && m.type !== 'epoch') || !m.sweepId) return
    const sweepId = m.sweepId
    if (m.type === 'status') {
      void this.kick(sweepId)
      return
    }
    let known = this.stopsEarly.get(sweepId)
    if (!known) {
      known = this.repo.findById(sweepId).then((s) => s?.config.earlyTerminate != null)
      known.catch(() => this.stopsEarly.delete(sweepId))
      this.stopsEarly.set(sweepId, known)
    }
    void known
      .then(async (yes) => {
        if (yes) await this.kick(sweepId)
      })
      .catch(() => {})
  }

  /**
   * Runs a driving step for a sweep; steps of one sweep never overlap within a process, and a kick
   * that arrives during a step runs another one after it (the step may have read the runs too early).
   */
  kick(sweepId: string): Promise<void> {
    const running = this.pending.get(sweepId)
    if (running) {
      this.again.add(sweepId)
      return running
    }
    const step = (async () => {
      do {
        this.again.delete(sweepId)
        await this.step(sweepId).catch((err: unknown) =>
          this.logger.error({ err, sweepId }, 'sweep step failed'),
        )
      } while (this.again.has(sweepId) && !this.stopped)
    })().finally(() => this.pending.delete(sweepId))
    this.pending.set(sweepId, step)
    return step
  }

  private async step(sweepId: string): Promise<void> {
    if (this.stopped) return
    await this.repo.withLock(sweepId, async () => {
      const sweep = await this.repo.findById(sweepId)
      if (!sweep || sweep.status !== SweepStatus.RUNNING) return
      const runs = await this.repo.runs(sweepId)
      await this.stopLosers(sweep, runs)
      const active = runs.filter((r) => !isTerminal(r.status as RunStatus))
      let started = runs.length
      let going = active.length
      while (going < sweep.maxConcurrent && started < sweep.runCap) {
        const index = started
        const point =
          sweep.method === SweepMethod.GRID
            ? gridPoint(sweep.config.parameters, index)
            : randomPoint(sweep.config.parameters, sweep.seed, index)
        try {
          await this.runs.start({
            ...(sweep.config.base as Partial<StartRunArgs>),
            ...point,
            datasetId: sweep.datasetId,
            experiment: sweep.experiment,
            name: `sweep-${sweep.id.slice(0, 8)}-${index + 1}`,
            idempotencyKey: `sweep:${sweep.id}:${index}`,
            sweepId: sweep.id,
          } as StartRunArgs)
        } catch (err) {
          const message = storedError(err, this.logger, { sweepId })
          await this.repo.end(sweepId, SweepStatus.FAILED, {
            error: `could not start run ${index + 1}: ${message}`,
          })
          return
        }
        started++
        going++
      }
      if (going === 0 && started >= sweep.runCap) {
        await this.repo.end(sweepId, SweepStatus.FINISHED, { bestRunId: await this.best(sweep) })
      }
    })
  }

  /**
   * Median stopping rule: a running run whose metric at its latest epoch k (k >= minEpochs) is worse
   * than the median, at epoch k, of the sweep's completed runs is cancelled.
   */
  private async stopLosers(sweep: SweepRecord, runs: SweepRunRow[]): Promise<void> {
    const rule = sweep.config.earlyTerminate
    if (!rule) return
    const completed = runs.filter((r) => r.status === RunStatus.SUCCEEDED)
    for (const run of runs) {
      if (run.status !== RunStatus.RUNNING || run.lastEpoch < rule.minEpochs) continue
      const k = run.lastEpoch
      const peers = completed.filter((c) => c.lastEpoch >= k).map((c) => c.id)
      if (peers.length === 0) continue
      const values = await this.repo.metricAt([...peers, run.id], k, sweep.metric)
      const mine = values.get(run.id)
      const others = peers.map((id) => values.get(id)).filter((v): v is number => v !== undefined)
      if (mine === undefined || others.length === 0) continue
      const median = medianOf(others)
      const worse = sweep.goal === Goal.MINIMIZE ? mine > median : mine < median
      if (!worse) continue
      const reason =
        `stopped early: ${sweep.metric} ${mine.toPrecision(4)} at epoch ${k} is worse than the median ` +
        `${median.toPrecision(4)} of ${others.length} completed run(s)`
      this.logger.info({ sweepId: sweep.id, runId: run.id }, reason)
      await this.runs.cancel(run.id, reason).catch(() => {})
    }
  }

  /** The SUCCEEDED run with the best final metric. */
  private async best(sweep: SweepRecord): Promise<string | null> {
    let best: { id: string; value: number } | null = null
    for (const run of await this.repo.runs(sweep.id)) {
      const value = run.finalMetrics[sweep.metric]
      if (run.status !== RunStatus.SUCCEEDED || value == null) continue
      const better =
        sweep.goal === Goal.MINIMIZE ? value < (best?.value ?? Infinity) : value > (best?.value ?? -Infinity)
      if (better) best = { id: run.id, value }
    }
    return best?.id ?? null
  }
}

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}
