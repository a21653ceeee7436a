import { Writable } from 'node:stream'
import { run } from '../../../src/cli/main'

/** A writable that keeps what is written, as a string. */
export class Capture extends Writable {
  text = ''
  constructor(private readonly onWrite: (text: string) => void = () => {}) {
    super()
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString()
    callback()
    this.onWrite(this.text)
  }
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the CLI in-process, as `lab ...argv`, with captured output and a non-TTY terminal unless
 * told otherwise.
 */
export async function runCli(
  argv: string[],
  opts: {
    env?: Record<string, string | undefined>
    isTTY?: boolean
    columns?: number
    signal?: AbortSignal
    cwd?: string
    /** Called with the stderr text so far each time something is written there. */
    onStderr?: (text: string) => void
  } = {},
): Promise<CliResult> {
  const stdout = new Capture()
  const stderr = new Capture(opts.onStderr)
  const code = await run(argv, {
    stdout,
    stderr,
    env: opts.env ?? {},
    isTTY: opts.isTTY ?? false,
    columns: opts.columns,
    signal: opts.signal,
    cwd: opts.cwd,
  })
  return { code, stdout: stdout.text, stderr: stderr.text }
}
