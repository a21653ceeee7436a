/**
 * Messages between a worker pool (parent) and its trainer processes (children), over Node's IPC
 * channel. The pool needs to know which run a child holds so it can keep the run's heartbeat going
 * and fail (or retry) the run at once if the child dies.
 */
export enum TrainerMessageType {
  Ready = 'ready',
  Started = 'started',
  Finished = 'finished',
}

export type TrainerMessage =
  | { type: TrainerMessageType.Ready; backend: string }
  | { type: TrainerMessageType.Started; runId: string; attempt: number }
  | { type: TrainerMessageType.Finished; runId: string }

export enum PoolMessageType {
  /** Finish the current run (or hand it back) and exit. */
  Shutdown = 'shutdown',
}

export type PoolMessage = { type: PoolMessageType.Shutdown }

export function isTrainerMessage(value: unknown): value is TrainerMessage {
  const type = (value as { type?: unknown } | null)?.type
  return Object.values(TrainerMessageType).includes(type as TrainerMessageType)
}
