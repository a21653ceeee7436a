import {
  CANCEL_SWEEP,
  isTerminalSweep,
  RunView,
  START_SWEEP,
  SWEEP,
  SWEEP_EVENTS,
  SWEEP_RUNS,
  SweepStatus,
  SweepView,
} from '../api'
import type { LabClient } from '../client'
import { Context, readInputFile, tableWidth } from '../context'
import { ExitCode, InterruptedError, ServerError } from '../errors'
import { collectPages } from '../paging'
import { gridSize, metricValue, parseSweepConfig, toSweepInput } from '../sweep-config'
import { BarProgress, LineProgress, SweepProgress } from '../sweep-progress'
import { formatNumber, formatSetting, formatTable } from '../table'

/**
 * How often the sweep's status is also polled. Events are the fast path; polling makes sure a terminal
 * status is noticed even if its event was missed (a reconnect, or a sweep that ended before the
 * subscription started).
 */
export const POLL_INTERVAL_MS = 2_000

/** The exit code a sweep's final status means to a script. */
export function sweepExitCode(status: SweepStatus): ExitCode {
  switch (status) {
    case 'FINISHED':
      return ExitCode.OK
    case 'FAILED':
      return ExitCode.FAILED
    case 'CANCELLED':
      return ExitCode.CANCELLED
    case 'RUNNING':
      return ExitCode.SERVER
  }
}

/** A run in the final report, with the value the sweep ranks it by. */
export type RankedRun = RunView & { metricValue: number | null }

/** Runs best first by the sweep's metric and goal; runs without a value last. */
export function rankRuns(runs: RunView[], metric: string, goal: SweepView['goal']): RankedRun[] {
  const sign = goal === 'MAXIMIZE' ? -1 : 1
  return runs
    .map((run) => ({ ...run, metricValue: metricValue(run.summary, metric) }))
    .sort((a, b) => {
      if (a.metricValue === null) return b.metricValue === null ? 0 : 1
      if (b.metricValue === null) return -1
      return sign * (a.metricValue - b.metricValue)
    })
}

/** The final table: run, status, the swept parameters, the metric. */
export function sweepTable(
  runs: RankedRun[],
  parameters: string[],
  metric: string,
  opts: { maxWidth?: number } = {},
) {
  return formatTable(
    [
      { header: 'RUN', shrink: true },
      { header: 'STATUS' },
      ...parameters.map((p) => ({ header: p, align: 'right' as const })),
      { header: metric, align: 'right' },
    ],
    runs.map((run) => {
      const settings = run as unknown as Record<string, unknown>
      return [
        run.name,
        run.status,
        ...parameters.map((p) => formatSetting(settings[p])),
        formatNumber(run.metricValue),
      ]
    }),
    opts,
  )
}

/** `lab sweep sweep.yaml`: starts a sweep, shows it running, prints its runs ranked. */
export async function runSweep(
  ctx: Context,
  file: string,
  opts: { dataset?: string; experiment?: string; json?: boolean },
): Promise<ExitCode> {
  const text = await readInputFile(ctx, file)
  const config = parseSweepConfig(text, file)
  const input = toSweepInput(config, file, { dataset: opts.dataset, experiment: opts.experiment })
  const parameters = input.parameters.map((p) => p.name)

  const sweep = (await ctx.client.request(START_SWEEP, { input })).startSweep
  const planned = sweep.runCap ?? (input.method === 'GRID' ? gridSize(input.parameters) : undefined)
  ctx.err(
    `sweep ${sweep.id} started: ${sweep.method.toLowerCase()} over ${parameters.join(', ')}` +
      `${planned === undefined ? '' : `, ${planned} runs`}, ${sweep.maxConcurrent} at a time`,
  )

  const labels = { parameters, metric: sweep.metric }
  const progress: SweepProgress =
    ctx.io.isTTY && !opts.json ? new BarProgress(ctx.io.stderr, labels) : new LineProgress(ctx.err, labels)
  let status: SweepStatus
  try {
    status = await follow(ctx.client, sweep.id, progress)
  } catch (err) {
    if (err instanceof InterruptedError) {
      progress.stop()
      ctx.err(
        `\nsweep ${sweep.id} keeps running on the server.\n` + `cancel it with: lab sweep cancel ${sweep.id}`,
      )
    }
    throw err
  } finally {
    progress.stop()
  }

  const final = await ctx.client.request(SWEEP, { id: sweep.id })
  const view = final.sweep ?? { ...sweep, status }
  const { items } = await collectPages(async (first, after) => {
    const page = (await ctx.client.request(SWEEP_RUNS, { id: sweep.id, first, after })).sweep
    if (page === null) throw new ServerError('NOT_FOUND', `sweep ${sweep.id} was not found`)
    return page.runs
  }, Infinity)
  const runs = rankRuns(items, view.metric, view.goal)
  if (opts.json) ctx.out(JSON.stringify({ sweep: view, runs }, null, 2))
  else {
    ctx.out(sweepTable(runs, parameters, view.metric, tableWidth(ctx.io)))
    const best = view.bestRun ? `; best run ${view.bestRun.name}` : ''
    const why = view.error ? ` (${view.error})` : ''
    ctx.err(
      `sweep ${view.id} ${view.status}${why}: ${view.finishedCount}/${view.runCount} runs finished${best}`,
    )
  }
  return sweepExitCode(view.status)
}

/**
 * Feeds the sweep's events to `progress` until the sweep ends, and returns its final status: from the
 * terminal SweepStatusChanged, or from polling if that event never arrives.
 */
async function follow(client: LabClient, sweepId: string, progress: SweepProgress): Promise<SweepStatus> {
  let status: SweepStatus | undefined
  const subscription = client.subscribe(SWEEP_EVENTS, { sweepId }, (data) => {
    const event = data.sweepEvents
    if (event.__typename === 'SweepStatusChanged') status = event.status
    progress.event(event)
  })
  let timer: NodeJS.Timeout | undefined
  let stopPolling = false
  const polled = new Promise<SweepStatus>((resolve, reject) => {
    const poll = async () => {
      if (stopPolling) return
      try {
        const { sweep } = await client.request(SWEEP, { id: sweepId })
        if (sweep && isTerminalSweep(sweep.status)) return resolve(sweep.status)
      } catch (err) {
        // Polling is the fallback: a failed poll is tried again; the subscription reports a lost server.
        if (err instanceof InterruptedError) return reject(err)
      }
      if (!stopPolling) timer = setTimeout(() => void poll(), POLL_INTERVAL_MS)
    }
    timer = setTimeout(() => void poll(), POLL_INTERVAL_MS)
  })
  try {
    const first = await Promise.race([subscription.done.then(() => undefined), polled])
    if (first !== undefined) return first
    if (status !== undefined && isTerminalSweep(status)) return status
    // The stream completed without a terminal status: wait for one by polling.
    return await polled
  } finally {
    stopPolling = true
    clearTimeout(timer)
    subscription.unsubscribe()
    // The loser of the race may still reject (e.g. interrupted); it has nothing left to say.
    polled.catch(() => {})
    subscription.done.catch(() => {})
  }
}

/** `lab sweep cancel ID`. */
export async function cancelSweep(ctx: Context, id: string, opts: { json?: boolean }): Promise<ExitCode> {
  const sweep = (await ctx.client.request(CANCEL_SWEEP, { id })).cancelSweep
  if (opts.json) ctx.out(JSON.stringify(sweep, null, 2))
  else ctx.out(`sweep ${sweep.id} ${sweep.status}`)
  return ExitCode.OK
}
