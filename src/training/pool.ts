import { ChildProcess, fork } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Logger } from '../logger'
import type { Enqueue, RunRepository } from '../modules/run/run.repository'
import { isDatabaseUnavailable } from '../modules/common/db-errors'
import { isTrainerMessage, PoolMessage, PoolMessageType, TrainerMessageType } from './protocol'

export interface WorkerPoolOptions {
  size: number
  databaseUrl: string
  logger: Logger
  runs: RunRepository
  enqueue: Enqueue
  heartbeatIntervalMs: number
  maxRetries: number
  /** Extra environment for the trainer processes (backend choice, log level). */
  env?: Record<string, string | undefined>
  /** How long a trainer may take to hand back its run and exit on shutdown. */
  shutdownGraceMs?: number
  /** Niceness of each trainer process and of its session's scheduling group (0: unchanged). See `lowerPriority`. */
  nice?: number
}

interface Slot {
  child: ChildProcess
  run: { runId: string; attempt: number } | undefined
  exited: Promise<void>
}

type PoolState = { phase: 'idle' } | { phase: 'running' } | { phase: 'stopping'; done: Promise<void> }

/**
 * Trainer child processes (training never runs on the API's event loop). The pool keeps `size` of
 * them alive, keeps the heartbeat of each run a child holds, and when a child dies mid-run fails the
 * run at once (or queues another attempt, per the retry policy) before starting a replacement.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>()
  private state: PoolState = { phase: 'idle' }
  private heartbeat: NodeJS.Timeout | undefined
  private recentCrashes: number[] = []

  constructor(private readonly opts: WorkerPoolOptions) {}

  start(): void {
    if (this.state.phase !== 'idle') return
    this.state = { phase: 'running' }
    for (let i = 0; i < this.opts.size; i++) this.spawn()
    this.heartbeat = setInterval(() => void this.beat(), this.opts.heartbeatIntervalMs)
    this.heartbeat.unref()
  }

  /** Process ids of the trainers, for operators and tests. */
  pids(): number[] {
    return [...this.slots].map((s) => s.child.pid).filter((p): p is number => p !== undefined)
  }

  /** The trainer process holding a run, if any. */
  pidOf(runId: string): number | undefined {
    return [...this.slots].find((s) => s.run?.runId === runId)?.child.pid
  }

  private spawn(): void {
    const entry = trainerEntry()
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      env: { ...process.env, ...this.opts.env, DATABASE_URL: this.opts.databaseUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A session of its own per trainer: where the kernel shares the CPU by session (autogroup, the default of
      // most Linux distributions), trainers sharing the API's session would share one session's slice of a busy
      // machine however many there are. It also keeps a terminal's Ctrl-C to the API, which stops them over IPC.
      detached: true,
    })
    if (child.pid !== undefined && this.opts.nice) lowerPriority(child.pid, this.opts.nice, this.opts.logger)
    let resolveExit: () => void = () => {}
    const slot: Slot = { child, run: undefined, exited: new Promise((r) => (resolveExit = r)) }
    this.slots.add(slot)
    child.on('message', (msg: unknown) => {
      if (!isTrainerMessage(msg)) return
      switch (msg.type) {
        case TrainerMessageType.Ready:
          this.opts.logger.debug({ pid: child.pid, backend: msg.backend }, 'trainer ready')
          return
        case TrainerMessageType.Started:
          slot.run = { runId: msg.runId, attempt: msg.attempt }
          return
        case TrainerMessageType.Finished:
          slot.run = undefined
          return
      }
    })
    child.on('exit', (code, signal) => {
      this.slots.delete(slot)
      const held = slot.run
      const finish = async () => {
        if (held) {
          // A trainer that did not hand its run back in time during a graceful stop is not a lost run: the
          // stop hands it back whatever the retry policy (never FAILED); a crash is judged by the policy.
          const stopping = this.state.phase === 'stopping'
          const reason = stopping
            ? 'its worker shut down'
            : `worker process ${child.pid} exited (${signal ?? `code ${code}`}) during training`
          this.opts.logger.warn({ runId: held.runId, code, signal, stopping }, 'trainer exited holding a run')
          const retries = stopping ? Number.POSITIVE_INFINITY : this.opts.maxRetries
          await this.abandonOnceReachable(held, reason, retries).catch((err: unknown) =>
            this.opts.logger.error({ err, runId: held.runId }, 'could not fail the run'),
          )
        }
        if (this.state.phase === 'running') this.respawnAfterCrash()
      }
      void finish().finally(resolveExit)
    })
  }

  /**
   * Abandons a dead trainer's run; while the database is unavailable (the likely reason the trainer died) the
   * write is tried again, so the run gets its true reason rather than the heartbeat check's "worker lost".
   * A stopping pool tries once: its shutdown must not wait for a database that may not come back.
   */
  private async abandonOnceReachable(
    held: { runId: string; attempt: number },
    reason: string,
    retries: number,
  ) {
    for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.opts.runs.abandon(held.runId, held.attempt, reason, retries, this.opts.enqueue)
        return
      } catch (err) {
        if (!isDatabaseUnavailable(err) || this.state.phase !== 'running') throw err
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
  }

  /** Replaces a dead trainer; backs off when trainers keep dying at start (e.g. a broken install). */
  private respawnAfterCrash() {
    const now = Date.now()
    this.recentCrashes = [...this.recentCrashes.filter((t) => now - t < 60_000), now]
    const delay = this.recentCrashes.length > 5 ? 5_000 : 0
    const timer = setTimeout(() => {
      if (this.state.phase === 'running') this.spawn()
    }, delay)
    timer.unref()
  }

  private async beat() {
    for (const slot of this.slots) {
      if (!slot.run) continue
      await this.opts.runs
        .heartbeat(slot.run.runId, slot.run.attempt)
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'heartbeat failed'))
    }
  }

  /** Asks every trainer to hand back its run and exit; kills those that do not within the grace period. */
  stop(): Promise<void> {
    if (this.state.phase === 'stopping') return this.state.done
    const done = (async () => {
      if (this.heartbeat) clearInterval(this.heartbeat)
      const grace = this.opts.shutdownGraceMs ?? 10_000
      await Promise.all(
        [...this.slots].map(async (slot) => {
          const message: PoolMessage = { type: PoolMessageType.Shutdown }
          if (slot.child.connected) slot.child.send(message)
          const timer = setTimeout(() => slot.child.kill('SIGKILL'), grace)
          await slot.exited
          clearTimeout(timer)
        }),
      )
    })()
    this.state = { phase: 'stopping', done }
    return done
  }
}

/** The trainer's entry point: compiled JS in production, the TypeScript source (through tsx) in tests. */
function trainerEntry(): { file: string; execArgv: string[] } {
  const ts = __filename.endsWith('.ts')
  const file = path.join(__dirname, ts ? 'trainer-process.ts' : 'trainer-process.js')
  return { file, execArgv: ts ? ['--import', 'tsx'] : [] }
}

/**
 * Makes a trainer background work: the kernel serves the API (its queries, its subscribers, PostgreSQL) first
 * when the cores are busy, and gives the trainer whatever they leave (a nice process still gets an idle core
 * whole). Where the kernel groups the CPU by session (autogroup), a process's own niceness only ranks it inside
 * its session, and each trainer has a session of its own (see `spawn`): so the session's group is made nice too,
 * through /proc/<pid>/autogroup. Either may be refused (no /proc, no autogroup, a container's limits): then the
 * trainer runs at the API's priority, as before, and the reason is logged.
 */
function lowerPriority(pid: number, nice: number, logger: Logger): void {
  try {
    os.setPriority(pid, nice)
  } catch (err) {
    logger.warn({ err, pid, nice }, 'could not lower the trainer process priority')
  }
  const autogroup = `/proc/${pid}/autogroup`
  try {
    fs.writeFileSync(autogroup, String(nice))
  } catch (err) {
    // No autogroup (disabled, or not Linux): the process niceness above is what counts.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.debug({ err, pid, nice }, 'could not lower the trainer session priority')
  }
}
