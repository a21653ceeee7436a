import { EpochMetric, isTerminalRun, RUN, RUN_EVENTS, RunEvent, RunStatus } from '../api'
import { renderChart } from '../chart'
import type { Context } from '../context'
import { ExitCode, InterruptedError, ServerError } from '../errors'
import { toSnakeCase } from '../sweep-config'
import { formatNumber } from '../table'

/** Rows of plot area when the terminal is tall enough. */
const CHART_HEIGHT = 12
/** Lines around the plot: title, x axis, x labels, legend. */
const CHART_CHROME = 4
/** At most one frame per this many ms: replaying a long run should not redraw thousands of times. */
const FRAME_MS = 100

/** The exit code a run's final status means to a script. */
export function exitCodeFor(status: RunStatus): ExitCode {
  switch (status) {
    case 'SUCCEEDED':
      return ExitCode.OK
    case 'FAILED':
      return ExitCode.FAILED
    case 'CANCELLED':
      return ExitCode.CANCELLED
    case 'QUEUED':
    case 'RUNNING':
      // The server completed the stream before the run ended: not an answer a script can act on.
      return ExitCode.SERVER
  }
}

/**
 * One epoch as a plain line: `epoch 3/20` and every named metric of the epoch in the family's order
 * (`loss 1.2 reconstruction 0.9 kl 0.3 val_loss ...`); loss and val loss alone when the epoch has no
 * named values.
 */
export function epochLine(m: EpochMetric, epochs: number): string {
  const values =
    m.values.length > 0
      ? m.values
      : [
          { name: 'loss', value: m.loss },
          ...(m.valLoss === null ? [] : [{ name: 'valLoss', value: m.valLoss }]),
        ]
  const metrics = values.map((v) => `${toSnakeCase(v.name)} ${formatNumber(v.value)}`).join(' ')
  return `epoch ${m.epoch}/${epochs} ${metrics}`
}

/**
 * `lab watch RUN_ID`: follows a run to its end. On a terminal, a chart of loss and val loss redrawn per
 * epoch; otherwise one line per event (`--json`: the API's events as JSON lines). The exit code says how
 * the run ended.
 */
export async function watchRun(ctx: Context, runId: string, opts: { json?: boolean }): Promise<ExitCode> {
  const { run } = await ctx.client.request(RUN, { id: runId })
  if (run === null) throw new ServerError('NOT_FOUND', `run ${JSON.stringify(runId)} was not found`)
  const draw = ctx.io.isTTY && !opts.json
  const losses: (number | null)[] = []
  const valLosses: (number | null)[] = []
  let status: RunStatus = run.status
  let error: string | null = run.error
  let lastEpoch = 0
  /** The run went back to the queue: its next epoch may be a continuation or a fresh epoch 1. */
  let requeued = false
  let drawnLines = 0
  let lastFrame = 0
  let pendingFrame: NodeJS.Timeout | undefined

  const redraw = () => {
    clearTimeout(pendingFrame)
    pendingFrame = undefined
    lastFrame = Date.now()
    const width = Math.max(30, (ctx.io.columns ?? 80) - 1)
    const height = Math.max(4, Math.min(CHART_HEIGHT, (ctx.io.rows ?? 24) - CHART_CHROME - 2))
    const title = `${run.name} (${run.id})  ${status}  epoch ${lastEpoch}/${run.epochs}`
    const lines = [
      title,
      ...renderChart(
        [
          { label: 'loss', values: losses, glyph: '█' },
          { label: 'val loss', values: valLosses, glyph: '░' },
        ],
        { width, height },
      ),
    ]
    // Back to the first line drawn last time, clear to the end of the screen, draw again.
    const rewind = drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : ''
    ctx.io.stdout.write(rewind + lines.join('\n') + '\n')
    drawnLines = lines.length
  }
  const frame = () => {
    const wait = lastFrame + FRAME_MS - Date.now()
    if (wait <= 0) redraw()
    else pendingFrame ??= setTimeout(redraw, wait)
  }

  const onEvent = (event: RunEvent) => {
    if (opts.json) ctx.out(JSON.stringify(event))
    switch (event.__typename) {
      case 'EpochCompleted': {
        const m = event.metric
        // A retry without a checkpoint starts its history again from epoch 1 (one with a checkpoint goes on).
        if (requeued && m.epoch === 1 && lastEpoch > 0) {
          lastEpoch = 0
          losses.length = 0
          valLosses.length = 0
        }
        requeued = false
        // A reconnect replays from the start; keep each epoch once.
        if (m.epoch <= lastEpoch) return
        lastEpoch = m.epoch
        losses[m.epoch - 1] = m.loss
        valLosses[m.epoch - 1] = m.valLoss
        if (draw) frame()
        else if (!opts.json) ctx.out(epochLine(m, run.epochs))
        return
      }
      case 'RunStatusChanged':
        if (event.status === 'QUEUED') requeued = true
        status = event.status
        error = event.error
        if (draw) frame()
        else if (!opts.json && !isTerminalRun(event.status)) ctx.out(`status ${event.status}`)
        return
      case 'ExplanationReady':
        if (!opts.json && !draw) ctx.out('explanation ready')
        return
    }
  }

  if (draw) redraw()
  const subscription = ctx.client.subscribe(RUN_EVENTS, { runId: run.id }, (data) => onEvent(data.runEvents))
  try {
    await subscription.done
  } catch (err) {
    clearTimeout(pendingFrame)
    if (err instanceof InterruptedError) {
      ctx.err(`stopped watching; run ${run.id} goes on on the server`)
    }
    throw err
  }
  if (!isTerminalRun(status)) {
    // The stream ended without a final status: ask for it.
    const again = (await ctx.client.request(RUN, { id: run.id })).run
    if (again) {
      status = again.status
      error = again.error
    }
  }
  // The last frame shows the final status and every epoch.
  if (draw) redraw()
  if (!opts.json) ctx.out(`run ${run.name} ${status}${error ? `: ${error}` : ''}`)
  return exitCodeFor(status)
}
