import { MultiBar, Presets, SingleBar } from 'cli-progress'
import type { SweepEvent, SweepEventRun } from './api'
import { metricValue } from './sweep-config'
import { formatNumber, formatSetting } from './table'

/** How a sweep's progress is shown while it runs; `stop` is called once, whatever happened. */
export interface SweepProgress {
  event(event: SweepEvent): void
  stop(): void
}

/** What the renderers need to know of the sweep. */
export interface SweepLabels {
  /** The swept parameters (StartRunInput names), shown per run. */
  parameters: string[]
  metric: string
}

/** `learningRate=0.01 hiddenLayers=[4]` for the swept parameters of a run. */
export function describeParameters(run: SweepEventRun, parameters: string[]): string {
  const settings = run as unknown as Record<string, unknown>
  return parameters.map((p) => `${p}=${formatSetting(settings[p])}`).join(' ')
}

/**
 * One line per event, for logs and pipes: what a terminal would animate, written so it can be read
 * (and grepped) afterwards.
 */
export class LineProgress implements SweepProgress {
  private readonly names = new Map<string, string>()

  constructor(
    private readonly write: (line: string) => void,
    private readonly labels: SweepLabels,
  ) {}

  event(event: SweepEvent): void {
    switch (event.__typename) {
      case 'SweepRunStarted':
        this.names.set(event.run.id, event.run.name)
        this.write(`run ${event.run.name} started: ${describeParameters(event.run, this.labels.parameters)}`)
        return
      case 'RunProgress': {
        const val = event.valLoss === null ? '' : ` val_loss ${formatNumber(event.valLoss)}`
        this.write(
          `run ${this.name(event.runId)} epoch ${event.epoch}/${event.epochs} loss ${formatNumber(event.loss)}${val}`,
        )
        return
      }
      case 'SweepRunFinished': {
        this.names.set(event.run.id, event.run.name)
        const value = metricValue(event.run.summary, this.labels.metric)
        this.write(`run ${event.run.name} ${event.run.status}: ${this.labels.metric} ${formatNumber(value)}`)
        return
      }
      case 'SweepStatusChanged': {
        const best = event.bestRun ? `, best run ${event.bestRun.name}` : ''
        this.write(`sweep ${event.sweepId} ${event.status}${best}`)
        return
      }
    }
  }

  stop(): void {}

  private name(runId: string): string {
    return this.names.get(runId) ?? runId
  }
}

/** A progress bar per running run (epoch/epochs, loss, val loss); finished runs become a line above. */
export class BarProgress implements SweepProgress {
  private readonly bars = new Map<string, SingleBar>()
  private readonly names = new Map<string, string>()
  private readonly multibar: MultiBar
  private stopped = false

  constructor(
    stream: NodeJS.WritableStream,
    private readonly labels: SweepLabels,
  ) {
    this.multibar = new MultiBar(
      {
        stream,
        format: '{name} |{bar}| {value}/{total} epochs  loss {loss}  val {valLoss}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
      },
      Presets.shades_classic,
    )
  }

  event(event: SweepEvent): void {
    switch (event.__typename) {
      case 'SweepRunStarted':
        this.names.set(event.run.id, event.run.name)
        this.bar(event.run.id, event.run.epochs)
        this.multibar.log(`run ${event.run.name}: ${describeParameters(event.run, this.labels.parameters)}\n`)
        return
      case 'RunProgress':
        this.bar(event.runId, event.epochs).update(event.epoch, {
          loss: formatNumber(event.loss),
          valLoss: formatNumber(event.valLoss),
        })
        return
      case 'SweepRunFinished': {
        const bar = this.bars.get(event.run.id)
        if (bar) {
          this.multibar.remove(bar)
          this.bars.delete(event.run.id)
        }
        const value = metricValue(event.run.summary, this.labels.metric)
        this.multibar.log(
          `run ${event.run.name} ${event.run.status}: ${this.labels.metric} ${formatNumber(value)}\n`,
        )
        return
      }
      case 'SweepStatusChanged':
        return
    }
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.multibar.stop()
  }

  private bar(runId: string, epochs: number): SingleBar {
    let bar = this.bars.get(runId)
    if (bar === undefined) {
      const name = (this.names.get(runId) ?? runId).slice(0, 24).padEnd(24)
      bar = this.multibar.create(epochs, 0, { name, loss: '-', valLoss: '-' })
      this.bars.set(runId, bar)
    } else if (bar.getTotal() !== epochs) bar.setTotal(epochs)
    return bar
  }
}
