import { readFile } from 'node:fs/promises'
import * as path from 'node:path'
import type { LabClient } from './client'
import { UsageError } from './errors'

/**
 * Everything the CLI touches of its process, passed in so tests run commands in-process with their own
 * streams, environment and terminal (see {@link run} in main.ts).
 */
export interface CliIO {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: Record<string, string | undefined>
  /** stdout is a terminal: draw progress bars and charts instead of one line per event. */
  isTTY: boolean
  /** Terminal width, when known. */
  columns?: number | undefined
  /** Terminal height, when known. */
  rows?: number | undefined
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal | undefined
  /** Base of relative file paths; default process.cwd(). */
  cwd?: string | undefined
}

/** What a command runs with. */
export interface Context {
  io: CliIO
  client: LabClient
  /** Data: stdout. */
  out(text: string): void
  /** Messages, progress and errors: stderr. */
  err(text: string): void
  /** A path given on the command line, resolved against the CLI's working directory. */
  resolve(file: string): string
}

export function createContext(io: CliIO, client: LabClient): Context {
  return {
    io,
    client,
    out: (text) => void io.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    err: (text) => void io.stderr.write(text.endsWith('\n') ? text : text + '\n'),
    resolve: (file) => path.resolve(io.cwd ?? process.cwd(), file),
  }
}

/** Tables fit a terminal; piped output keeps every character. */
export function tableWidth(io: CliIO): { maxWidth?: number } {
  return io.isTTY && io.columns !== undefined ? { maxWidth: io.columns } : {}
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
}

/** Reads a file named on the command line; a file that cannot be read is a usage error. */
export async function readInputFile(ctx: Context, file: string): Promise<string> {
  try {
    return await readFile(ctx.resolve(file), 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new UsageError(`cannot read ${file}: ${(code && READ_ERRORS[code]) ?? code ?? String(err)}`)
  }
}
