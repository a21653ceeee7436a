/**
 * Exit codes are the CLI's interface to scripts; docs/cli.md lists them and they must not change
 * meaning.
 */
export enum ExitCode {
  OK = 0,
  /** A run or sweep ended FAILED. */
  FAILED = 1,
  /** Bad arguments, a bad file, or BAD_USER_INPUT from the server. */
  USAGE = 2,
  /** A run or sweep ended CANCELLED. */
  CANCELLED = 3,
  /** The server could not be reached. */
  UNREACHABLE = 4,
  /** Any other error the server answered with. */
  SERVER = 5,
  /** Ctrl-C: 128 + SIGINT, as shells report it. */
  INTERRUPTED = 130,
}

/** An error the CLI reports in one message on stderr, exiting with its code. */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode
}

/** Bad arguments or a bad input file, found before anything reached the server. */
export class UsageError extends CliError {
  override name = 'UsageError'
  readonly exitCode = ExitCode.USAGE
}

/** No answer from the server at all (connection refused, DNS, a proxy's 502 ...). */
export class UnreachableError extends CliError {
  override name = 'UnreachableError'
  readonly exitCode = ExitCode.UNREACHABLE
}

/** The server answered with a GraphQL error; `code` is its `extensions.code`. */
export class ServerError extends CliError {
  override name = 'ServerError'
  constructor(
    readonly code: string,
    message: string,
    /** The rest of `extensions` (e.g. `field`, `line`). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }

  get exitCode(): ExitCode {
    return this.code === 'BAD_USER_INPUT' ? ExitCode.USAGE : ExitCode.SERVER
  }
}

/** The user pressed Ctrl-C; the command has already said what it left behind. */
export class InterruptedError extends CliError {
  override name = 'InterruptedError'
  readonly exitCode = ExitCode.INTERRUPTED
  constructor() {
    super('interrupted')
  }
}
