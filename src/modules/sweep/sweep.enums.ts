/** Sweep vocabulary, free of GraphQL (the driver and tests use it). */
export enum SweepMethod {
  GRID = 'GRID',
  RANDOM = 'RANDOM',
}

export enum Goal {
  MINIMIZE = 'MINIMIZE',
  MAXIMIZE = 'MAXIMIZE',
}

export enum Distribution {
  UNIFORM = 'UNIFORM',
  LOG_UNIFORM = 'LOG_UNIFORM',
  INT_UNIFORM = 'INT_UNIFORM',
}

export enum SweepStatus {
  RUNNING = 'RUNNING',
  FINISHED = 'FINISHED',
  CANCELLED = 'CANCELLED',
  FAILED = 'FAILED',
}

export enum EarlyTerminateType {
  MEDIAN_STOP = 'MEDIAN_STOP',
}

export const isSweepTerminal = (s: SweepStatus) => s !== SweepStatus.RUNNING
