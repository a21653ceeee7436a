import { Command, CommanderError, Option } from 'commander'
import { LabClient, DEFAULT_URL } from './client'
import { importDataset, listDatasets, parseMinCount, parseTask } from './commands/datasets'
import { listRuns, parseLimit, parseSort, parseStatuses } from './commands/runs'
import { cancelSweep, runSweep } from './commands/sweep'
import { createKey, listKeys, parseScope, revokeKey } from './commands/keys'
import { watchRun } from './commands/watch'
import { CliIO, Context, createContext } from './context'
import { CliError, ExitCode, InterruptedError, ServerError } from './errors'

export type { CliIO } from './context'
export { ExitCode } from './errors'

/** How long a finished CLI waits for open handles to close before exiting anyway. */
const EXIT_GRACE_MS = 2_000

/**
 * Runs the CLI on `argv` (the arguments after `lab`) and returns its exit code. Nothing here touches
 * the process: output goes to `io`, so tests call this directly.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  let code: number = ExitCode.OK
  let client: LabClient | undefined
  const context = (command: Command): Context => {
    const { url, apiKey } = command.optsWithGlobals<{ url?: string; apiKey?: string }>()
    client = new LabClient(
      url ?? io.env['LAB_URL'] ?? DEFAULT_URL,
      io.signal,
      apiKey ?? (io.env['LAB_API_KEY'] || undefined),
    )
    return createContext(io, client)
  }
  const action =
    <A extends unknown[]>(fn: (ctx: Context, ...args: A) => Promise<ExitCode>) =>
    async (...args: [...A, Command]) => {
      const command = args[args.length - 1] as Command
      code = await fn(context(command), ...(args.slice(0, -1) as A))
    }

  const program = buildProgram(io, action)
  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    code = report(err, io)
  } finally {
    await client?.close()
  }
  return code
}

type Action = <A extends unknown[]>(
  fn: (ctx: Context, ...args: A) => Promise<ExitCode>,
) => (...args: [...A, Command]) => Promise<void>

function buildProgram(io: CliIO, action: Action): Command {
  const program = new Command('lab')
    .description('Command-line client for Explainable Lab: sweeps, runs, datasets.')
    .addOption(new Option('--url <url>', `server GraphQL URL (env LAB_URL, default ${DEFAULT_URL})`))
    .addOption(new Option('--api-key <key>', 'API key for a server with LAB_AUTH=required (env LAB_API_KEY)'))
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => io.columns ?? 80,
      getErrHelpWidth: () => io.columns ?? 80,
    })
    .exitOverride()
    .showHelpAfterError('(lab --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failed, 2 usage/validation, 3 cancelled, 4 unreachable, 5 server error.',
    )

  const sweep = program
    .command('sweep')
    .description('start a sweep from a YAML file, follow it, print its runs ranked by the metric')
    .argument('<file>', 'sweep configuration (YAML, W&B style)')
    .option('--dataset <id>', 'dataset to train on (overrides the file)')
    .option('--experiment <name>', 'experiment the runs join (overrides the file)')
    .option('--json', 'print one JSON document { sweep, runs } at the end')
    .action(
      action((ctx, file: string, opts: { dataset?: string; experiment?: string; json?: boolean }) =>
        runSweep(ctx, file, opts),
      ),
    )
  sweep
    .command('cancel')
    .description('cancel a running sweep')
    .argument('<id>', 'sweep id')
    .option('--json', 'print the sweep as JSON')
    .action(action((ctx, id: string, opts: { json?: boolean }) => cancelSweep(ctx, id, opts)))

  program
    .command('watch')
    .description('follow a run live: a loss chart on a terminal, one line per epoch otherwise')
    .argument('<run-id>', 'run id')
    .option('--json', 'print the run events as JSON lines')
    .action(action((ctx, runId: string, opts: { json?: boolean }) => watchRun(ctx, runId, opts)))

  program
    .command('runs')
    .description('list runs')
    .option('--experiment <name>', 'only runs of this experiment')
    .option('--status <statuses>', 'only runs in these statuses (comma-separated)', parseStatuses)
    .option('--tag <tag>', 'only runs with this tag (repeatable: all of them)', collect, [])
    .option(
      '--sort <field[:asc|desc]>',
      'order by created, final_val_loss, learning_rate ... (any run order field, see docs/cli.md); repeatable',
      (value: string, previous: ReturnType<typeof parseSort>[]) => [...previous, parseSort(value)],
      [],
    )
    .option('--limit <n>', 'how many runs (pages through above 100)', parseLimit)
    .option('--json', 'print { totalCount, runs } as JSON')
    .action(action((ctx, opts: Parameters<typeof listRuns>[1]) => listRuns(ctx, opts)))

  const dataset = program.command('dataset').description('dataset commands')
  dataset
    .command('import')
    .description(
      'import a CSV file (header line first, numeric cells) as a dataset, or with --text a UTF-8 text file as a corpus',
    )
    .argument('<file>', 'CSV file (or text file with --text)')
    .option('--text', 'import the file as a TEXT dataset (a corpus for SEQUENCE runs)')
    .option(
      '--min-count <n>',
      '--text: characters seen fewer times map to the unknown symbol (default 1)',
      parseMinCount,
    )
    .option('--target <column>', 'the column to predict (required, except with --task unsupervised)')
    .option(
      '--factor <column>',
      'a column holding a known generative factor: stored as a factor, not a feature (repeatable)',
      collect,
      [],
    )
    .option('--name <name>', 'dataset name (default: the file name without extension)')
    .option(
      '--task <task>',
      'regression, binary_classification or unsupervised (default: regression)',
      parseTask,
    )
    .option('--json', 'print the dataset as JSON')
    .action(
      action((ctx, file: string, opts: Parameters<typeof importDataset>[2]) =>
        importDataset(ctx, file, opts),
      ),
    )

  program
    .command('datasets')
    .description('list datasets')
    .option('--json', 'print { totalCount, datasets } as JSON')
    .action(action((ctx, opts: { json?: boolean }) => listDatasets(ctx, opts)))

  const keys = program.command('keys').description('API keys (needs an ADMIN key)')
  keys
    .command('create')
    .description('create a key and print its secret, which is shown this once')
    .requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--scope <scope>', 'read, write or admin', parseScope)
    .option('--json', 'print { id, name, scope, key } as JSON')
    .action(action((ctx, opts: Parameters<typeof createKey>[1]) => createKey(ctx, opts)))
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--json', 'print the keys as JSON')
    .action(action((ctx, opts: { json?: boolean }) => listKeys(ctx, opts)))
  keys
    .command('revoke')
    .description('revoke a key: every later request with it is refused')
    .argument('<id>', 'key id')
    .action(action((ctx, id: string) => revokeKey(ctx, id)))

  return program
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** Prints an error on stderr and returns the exit code it means. */
function report(err: unknown, io: CliIO): number {
  const write = (text: string) => void io.stderr.write(text + '\n')
  if (err instanceof CommanderError) {
    // Commander has printed its own message (or the help) already.
    return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE
  }
  if (err instanceof InterruptedError) return err.exitCode
  if (err instanceof ServerError) {
    const field = typeof err.details['field'] === 'string' ? ` (field ${err.details['field']})` : ''
    const hint =
      err.code === 'UNAUTHENTICATED' || err.code === 'CLOSE_4401'
        ? ' (pass --api-key or set LAB_API_KEY)'
        : ''
    write(`error: ${err.message}${field} [${err.code}]${hint}`)
    return err.exitCode
  }
  if (err instanceof CliError) {
    write(`error: ${err.message}`)
    return err.exitCode
  }
  write(`error: unexpected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  return ExitCode.SERVER
}

/** The `lab` executable: runs the CLI on this process's arguments and terminal. */
export function main(): void {
  const controller = new AbortController()
  let interrupts = 0
  process.on('SIGINT', () => {
    // The first Ctrl-C lets the command say what it leaves behind; a second one does not wait.
    if (++interrupts > 1) process.exit(ExitCode.INTERRUPTED)
    controller.abort()
  })
  // `lab runs | head`: a closed pipe is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.OK)
    throw err
  })
  void run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    // A pseudo-terminal without a size reports 0: treat as unknown.
    columns: process.stdout.columns || undefined,
    rows: process.stdout.rows || undefined,
    signal: controller.signal,
  }).then((code) => {
    process.exitCode = code
    // Everything is closed by now; this only guards against a handle someone forgot.
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref()
  })
}

if (require.main === module) main()
