/**
 * A trainer's side of checkpoints, for one claimed run: where the attempt starts (a stored checkpoint, or epoch 1),
 * which reported epochs are replays of epochs stored already, and when to take a checkpoint. Generic: the family
 * makes and reads the checkpoint; this only stores it.
 */
import type { Logger } from '../logger'
import type { Checkpoint, EpochReport } from '../models/family'
import { RunRecord, RunRepository, toEpochValue } from '../modules/run/run.repository'
import type { EpochMetricValue } from '../events/run-events'

export interface CheckpointPolicy {
  /** Every this many epochs; 0 turns checkpoints off. */
  everyEpochs: number
  /** No sooner than this after the previous checkpoint (or the attempt's start). */
  minIntervalMs: number
}

/** The run was taken from this attempt (a newer attempt owns it). */
export class StaleAttempt extends Error {}

export class RunCheckpoints {
  /** Epochs up to this one are stored already: when trained again they are replayed, not recorded. */
  private recordedThrough: number
  /** Epoch of the newest checkpoint stored (or resumed from) by this attempt. */
  private checkpointEpoch = 0
  private lastAt = performance.now()
  /** The stored values of the epochs to be replayed, to notice a replay that comes out differently. */
  private stored = new Map<number, EpochMetricValue>()
  private warnedDivergence = false

  constructor(
    private readonly runs: RunRepository,
    private readonly run: RunRecord,
    private readonly policy: CheckpointPolicy,
    private readonly log: Logger,
  ) {
    this.recordedThrough = run.lastEpoch
  }

  /**
   * The checkpoint this attempt continues from, or undefined to start at epoch 1. A run with stored epochs but no
   * checkpoint that fits is rewound first (epochs, summary and checkpoint cleared).
   */
  async resumePoint(): Promise<Checkpoint | undefined> {
    const found = this.policy.everyEpochs > 0 ? await this.runs.findCheckpoint(this.run.id) : null
    const usable =
      found && found.family === this.run.family && found.checkpoint.epoch <= this.run.lastEpoch ? found : null
    if (!usable) {
      if (found)
        this.log.warn({ epoch: found.checkpoint.epoch }, 'checkpoint does not fit this run; starting over')
      if (this.run.lastEpoch > 0 || found) await this.rewind()
      return undefined
    }
    const { checkpoint } = usable
    for (const m of await this.runs.history(this.run.id, checkpoint.epoch)) this.stored.set(m.epoch, m)
    this.checkpointEpoch = checkpoint.epoch
    this.log.info(
      { fromEpoch: checkpoint.epoch, replaying: this.recordedThrough - checkpoint.epoch },
      'resuming from checkpoint',
    )
    return checkpoint
  }

  /** Starts the attempt over at epoch 1 (the family refused the checkpoint). */
  async rewind(): Promise<void> {
    if (!(await this.runs.rewind(this.run.id, this.run.attempt))) throw new StaleAttempt()
    this.recordedThrough = 0
    this.checkpointEpoch = 0
    this.stored.clear()
  }

  /** Whether this epoch was stored (and announced) by an earlier attempt. */
  isReplay(epoch: number): boolean {
    return epoch <= this.recordedThrough
  }

  /**
   * A replayed epoch: the attempt must still own the run (its heartbeat says so), and the stored values stay
   * as they were accepted - a replay on another backend may differ in the last digits, which is logged once.
   */
  async replayed(report: EpochReport): Promise<void> {
    if (!(await this.runs.heartbeat(this.run.id, this.run.attempt))) throw new StaleAttempt()
    const stored = this.stored.get(report.epoch)
    const replay = toEpochValue(report)
    const same =
      stored !== undefined &&
      stored.values.length === replay.values.length &&
      stored.values.every((v, i) => v.name === replay.values[i]!.name && v.value === replay.values[i]!.value)
    if (!same && !this.warnedDivergence) {
      this.warnedDivergence = true
      this.log.warn(
        { epoch: report.epoch, backend: this.run.backend },
        'a replayed epoch differs from the stored one (another backend?); the stored values stay',
      )
    }
  }

  /** Whether the policy says to take a checkpoint after this epoch (with {@link save}). */
  isDue(epoch: number): boolean {
    const { everyEpochs, minIntervalMs } = this.policy
    if (everyEpochs === 0 || epoch >= this.run.epochs) return false
    return epoch - this.checkpointEpoch >= everyEpochs && performance.now() - this.lastAt >= minIntervalMs
  }

  /**
   * Takes and stores a checkpoint (periodic, at hand-back, or before the explanation) unless checkpoints are off,
   * there is none, or it is no newer than the stored one. A checkpoint is an optimisation: failing to take or
   * store one is logged, never fatal to the run.
   */
  async save(take: () => Promise<Checkpoint | null>): Promise<void> {
    if (this.policy.everyEpochs === 0) return
    let checkpoint: Checkpoint | null = null
    try {
      checkpoint = await take()
      if (!checkpoint || checkpoint.epoch <= this.checkpointEpoch) return
      const saved = await this.runs.saveCheckpoint(this.run.id, this.run.attempt, this.run.family, checkpoint)
      if (!saved) {
        this.log.warn({ epoch: checkpoint.epoch }, 'checkpoint refused: the run moved on from this attempt')
        return
      }
      this.checkpointEpoch = checkpoint.epoch
      this.lastAt = performance.now()
      this.log.debug({ epoch: checkpoint.epoch, bytes: checkpoint.weights.byteLength }, 'checkpoint stored')
    } catch (err) {
      this.log.warn(
        { err, epoch: checkpoint?.epoch },
        'could not take or store a checkpoint; the run goes on',
      )
    }
  }
}
