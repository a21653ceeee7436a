/** A run's lifecycle. Kept free of GraphQL and Prisma so the trainer process can use it too. */
export enum RunStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/**
 * The one table of legal moves: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED; QUEUED may be
 * cancelled or failed before it starts; RUNNING may go back to QUEUED only when its worker died and
 * the retry policy allows another attempt.
 */
const MOVES: Record<RunStatus, readonly RunStatus[]> = {
  [RunStatus.QUEUED]: [RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.FAILED],
  [RunStatus.RUNNING]: [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.QUEUED],
  [RunStatus.SUCCEEDED]: [],
  [RunStatus.FAILED]: [],
  [RunStatus.CANCELLED]: [],
}

export const TERMINAL: readonly RunStatus[] = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED]

export const isTerminal = (s: RunStatus): boolean => TERMINAL.includes(s)

/** The statuses a run may be in for `to` to be a legal next status. */
export function allowedFrom(to: RunStatus): RunStatus[] {
  return (Object.keys(MOVES) as RunStatus[]).filter((from) => MOVES[from].includes(to))
}

export function canMove(from: RunStatus, to: RunStatus): boolean {
  return MOVES[from].includes(to)
}
