import os from 'node:os'
import path from 'node:path'

/** Every setting the process reads from its environment, parsed and validated once at start-up. */
export interface Config {
  /** HTTP and WebSocket port; 0 picks a free one (tests). */
  port: number
  host: string
  /** PostgreSQL to use; unset starts an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined
  /** Where the embedded PostgreSQL keeps its files. */
  dataDir: string
  /** Port of the embedded PostgreSQL (never 5432: the machine's own server may hold it). */
  embeddedPgPort: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Largest accepted HTTP request body, in bytes. */
  maxBodyBytes: number
  /** Largest accepted dataset, in cells (rows x features). */
  maxDatasetCells: number
  maxDatasetRows: number
  /** Features per dataset row (a 32x32 image is 1024). */
  maxDatasetFeatures: number
  /** Largest text corpus, in UTF-8 bytes. */
  maxTextBytes: number
  /** Most tokens one generate call may ask for. */
  maxGenerateTokens: number
  maxQueryDepth: number
  /** Depth allowed to introspection (`__schema`); the explorer's own query is 15 deep. */
  maxIntrospectionDepth: number
  maxQueryAliases: number
  /** Lexical tokens of one GraphQL document (counted while parsing; variables do not count). */
  maxQueryTokens: number
  /** graphql-armor's cost of one operation (objects 2, scalars 1, x1.5 per level, x `first` of a list). */
  maxQueryCost: number
  /** Schema introspection (and the explorer); on by default only on a loopback HOST. */
  introspection: boolean
  /** Origins (scheme://host:port) allowed to open a WebSocket besides the server's own. */
  allowedOrigins: string[]
  /** Host names accepted in the Host header besides HOST, loopback names and IP addresses. */
  allowedHosts: string[]
  /** Largest WebSocket message, in bytes (large uploads go over HTTP). */
  wsMaxPayloadBytes: number
  /** A WebSocket that sends no connection_init for this long is closed. */
  wsConnectionInitTimeoutMs: number
  /** Ping interval; a socket that does not answer within the same time is dropped. */
  wsKeepAliveMs: number
  wsMaxSubscriptionsPerConnection: number
  wsMaxConnections: number
  /** Time to receive a request's headers, and the whole request; slow or half-open clients are cut. */
  httpHeadersTimeoutMs: number
  httpRequestTimeoutMs: number
  /** PostgreSQL `statement_timeout` on the API's and the trainers' connections (0: none). */
  dbStatementTimeoutMs: number
  /** Weights and biases of one network (a VAE's encoder and decoder together). */
  maxModelParameters: number
  /** Optimizer steps of one run: epochs x ceil(training rows / batchSize). */
  maxTrainingSteps: number
  /** Local training worker processes started with the API (0: none, use `npm run worker`). */
  workers: number
  /**
   * Scheduling niceness of the trainer processes (0-19; 0: the same as the API). Training is background batch
   * work: when the cores are busy, the API's queries and subscriptions are served first.
   */
  trainerNice: number
  /** Worker threads answering predict, explainInstance and the generative queries (0: in the API's loop). */
  queryThreads: number
  /**
   * Scheduling niceness of each query thread (0-19; 0: the same as the API's event loop). Their computation
   * yields the cores to the loop, so `{ __typename }` and subscriptions are answered while they compute.
   */
  queryThreadNice: number
  /** Queries that may wait for a busy query thread; one more is answered SERVER_BUSY. */
  queryQueue: number
  /** Model evaluations one explainInstance may imply; more is refused BAD_USER_INPUT before computing. */
  maxExplainEvaluations: number
  /** Preferred TensorFlow.js backend; unset picks the fastest available. */
  tfBackend: 'tensorflow' | 'wasm' | 'cpu' | undefined
  /** A run whose worker has not sent a heartbeat for this long is failed (or retried). */
  heartbeatTimeoutMs: number
  heartbeatIntervalMs: number
  /** How many times a run whose worker died is retried before it is failed. */
  maxRunRetries: number
  /** A running run's checkpoint is taken every this many epochs (0: no checkpoints, a retry starts at epoch 1). */
  checkpointEveryEpochs: number
  /** ... and no sooner than this after the previous one, so tiny fast epochs do not write every time. */
  checkpointMinIntervalMs: number
  /** Held-out rows the global explanations use at most. */
  explainMaxRows: number
  /** Rows explained by Integrated Gradients (Shapley uses a prefix of them). */
  explainSampleSize: number
  /** `required`: every GraphQL request needs an API key. `off` is allowed only on a loopback host. */
  auth: 'required' | 'off'
  /** Seeded at start-up as an ADMIN key (idempotent); only its hash is stored. */
  adminKey: string | undefined
  /** Mutations one key may send per minute (a token bucket of this size, refilled continuously). */
  rateLimitMutationsPerMinute: number
  /** Runs one key may have QUEUED at once; startRun beyond it is refused. */
  maxQueuedRunsPerKey: number
}

/** Thrown at start-up when the environment holds an invalid setting. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Record<string, string | undefined>

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`)
  }
  return value
}

function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T
function oneOf<T extends string>(
  env: Env,
  key: string,
  allowed: readonly T[],
  fallback: undefined,
): T | undefined
function oneOf<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T | undefined) {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${key} must be one of ${allowed.join(', ')}, got "${raw}"`)
  }
  return raw as T
}

const AUTH_MODES = ['required', 'off'] as const

/** Shortest LAB_ADMIN_KEY accepted: a key anyone can guess protects nothing. */
export const MIN_ADMIN_KEY_LENGTH = 24

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  if (['1', 'true', 'on', 'yes'].includes(raw.toLowerCase())) return true
  if (['0', 'false', 'off', 'no'].includes(raw.toLowerCase())) return false
  throw new ConfigError(`${key} must be on or off, got "${raw}"`)
}

function list(env: Env, key: string, check: (item: string) => boolean, what: string): string[] {
  const raw = env[key]
  if (raw === undefined || raw.trim() === '') return []
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  const bad = items.find((item) => !check(item))
  if (bad !== undefined)
    throw new ConfigError(`${key} must be a comma-separated list of ${what}, got "${bad}"`)
  return items
}

const isOrigin = (item: string) => {
  try {
    const url = new URL(item)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item
  } catch {
    return false
  }
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1 (brackets allowed). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '::1'
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const

/** Reads the configuration; throws {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env['DATABASE_URL'] || undefined
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgresql:// URL')
  }
  const embeddedPgPort = int(env, 'LAB_EMBEDDED_PG_PORT', 54329, 1024, 65535)
  if (embeddedPgPort === 5432) throw new ConfigError('LAB_EMBEDDED_PG_PORT must not be 5432')
  const heartbeatIntervalMs = int(env, 'LAB_HEARTBEAT_INTERVAL_MS', 2000, 100, 60_000)
  const heartbeatTimeoutMs = int(env, 'LAB_HEARTBEAT_TIMEOUT_MS', 15_000, 500, 600_000)
  if (heartbeatTimeoutMs <= heartbeatIntervalMs * 2) {
    throw new ConfigError('LAB_HEARTBEAT_TIMEOUT_MS must be more than twice LAB_HEARTBEAT_INTERVAL_MS')
  }
  const host = env['HOST'] || '127.0.0.1'
  const httpHeadersTimeoutMs = int(env, 'LAB_HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000)
  const httpRequestTimeoutMs = int(env, 'LAB_HTTP_REQUEST_TIMEOUT_MS', 120_000, 100, 3_600_000)
  if (httpHeadersTimeoutMs > httpRequestTimeoutMs) {
    throw new ConfigError('LAB_HTTP_HEADERS_TIMEOUT_MS must not exceed LAB_HTTP_REQUEST_TIMEOUT_MS')
  }
  const loopback = isLoopbackHost(host)
  // Off by default only where nobody else can connect, so `npm start` on a laptop needs no key.
  const auth = oneOf(env, 'LAB_AUTH', AUTH_MODES, loopback ? 'off' : 'required')
  if (auth === 'off' && !loopback) {
    throw new ConfigError(
      `LAB_AUTH=off is only allowed when HOST is a loopback address (HOST is "${host}"); ` +
        'set LAB_ADMIN_KEY and leave LAB_AUTH unset (required)',
    )
  }
  const adminKey = env['LAB_ADMIN_KEY'] || undefined
  if (adminKey !== undefined && (adminKey.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(adminKey))) {
    throw new ConfigError(
      `LAB_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters without spaces ` +
        '(e.g. the output of `openssl rand -base64 32`)',
    )
  }
  return {
    port: int(env, 'PORT', 4000, 0, 65535),
    host,
    databaseUrl,
    dataDir: path.resolve(env['LAB_DATA_DIR'] || path.join('.lab', 'postgres')),
    embeddedPgPort,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    maxBodyBytes: int(env, 'LAB_MAX_BODY_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxDatasetCells: int(env, 'LAB_MAX_DATASET_CELLS', 4_000_000, 1, 100_000_000),
    maxDatasetRows: int(env, 'LAB_MAX_DATASET_ROWS', 100_000, 1, 10_000_000),
    maxDatasetFeatures: int(env, 'LAB_MAX_DATASET_FEATURES', 1024, 1, 1_000_000),
    maxTextBytes: int(env, 'LAB_MAX_TEXT_BYTES', 8 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    maxGenerateTokens: int(env, 'LAB_MAX_GENERATE_TOKENS', 1000, 1, 1_000_000),
    maxQueryDepth: int(env, 'LAB_MAX_QUERY_DEPTH', 12, 2, 100),
    maxIntrospectionDepth: int(env, 'LAB_MAX_INTROSPECTION_DEPTH', 15, 2, 100),
    maxQueryAliases: int(env, 'LAB_MAX_QUERY_ALIASES', 20, 0, 10_000),
    maxQueryTokens: int(env, 'LAB_MAX_QUERY_TOKENS', 5000, 100, 1_000_000),
    maxQueryCost: int(env, 'LAB_MAX_QUERY_COST', 20_000, 10, 100_000_000),
    introspection: bool(env, 'LAB_INTROSPECTION', isLoopbackHost(host)),
    allowedOrigins: list(env, 'LAB_ALLOWED_ORIGINS', isOrigin, 'origins such as https://lab.example.com'),
    allowedHosts: list(env, 'LAB_ALLOWED_HOSTS', (h) => /^[a-z0-9.-]+$/i.test(h), 'host names'),
    wsMaxPayloadBytes: int(env, 'LAB_WS_MAX_PAYLOAD_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    wsConnectionInitTimeoutMs: int(env, 'LAB_WS_CONNECTION_INIT_TIMEOUT_MS', 3000, 100, 600_000),
    wsKeepAliveMs: int(env, 'LAB_WS_KEEPALIVE_MS', 12_000, 100, 600_000),
    wsMaxSubscriptionsPerConnection: int(env, 'LAB_WS_MAX_SUBSCRIPTIONS', 50, 1, 10_000),
    wsMaxConnections: int(env, 'LAB_WS_MAX_CONNECTIONS', 1000, 1, 1_000_000),
    httpHeadersTimeoutMs,
    httpRequestTimeoutMs,
    dbStatementTimeoutMs: int(env, 'LAB_DB_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
    maxModelParameters: int(env, 'LAB_MAX_MODEL_PARAMETERS', 5_000_000, 1, 1_000_000_000),
    maxTrainingSteps: int(env, 'LAB_MAX_TRAINING_STEPS', 2_000_000, 1, 1_000_000_000_000),
    workers: int(env, 'LAB_WORKERS', 1, 0, 64),
    trainerNice: int(env, 'LAB_TRAINER_NICE', 10, 0, 19),
    // One thread on a small machine leaves a core to the event loop and the trainer; two from four cores.
    queryThreads: int(env, 'LAB_QUERY_THREADS', os.availableParallelism() >= 4 ? 2 : 1, 0, 64),
    queryQueue: int(env, 'LAB_QUERY_QUEUE', 32, 0, 100_000),
    queryThreadNice: int(env, 'LAB_QUERY_THREAD_NICE', 10, 0, 19),
    // The largest default explainInstance (exact Shapley at 12 features, 32 background rows) implies 131k.
    maxExplainEvaluations: int(env, 'LAB_MAX_EXPLAIN_EVALUATIONS', 250_000, 1, 1_000_000_000),
    tfBackend: oneOf(env, 'LAB_TF_BACKEND', BACKENDS, undefined),
    heartbeatIntervalMs,
    heartbeatTimeoutMs,
    maxRunRetries: int(env, 'LAB_MAX_RUN_RETRIES', 0, 0, 10),
    checkpointEveryEpochs: int(env, 'LAB_CHECKPOINT_EVERY_EPOCHS', 5, 0, 1_000_000),
    checkpointMinIntervalMs: int(env, 'LAB_CHECKPOINT_MIN_INTERVAL_MS', 30_000, 0, 86_400_000),
    explainMaxRows: int(env, 'LAB_EXPLAIN_MAX_ROWS', 1000, 10, 100_000),
    explainSampleSize: int(env, 'LAB_EXPLAIN_SAMPLE_SIZE', 200, 1, 10_000),
    auth,
    adminKey,
    rateLimitMutationsPerMinute: int(env, 'LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE', 120, 1, 1_000_000),
    maxQueuedRunsPerKey: int(env, 'LAB_MAX_QUEUED_RUNS_PER_KEY', 100, 1, 1_000_000),
  }
}

/** For entry points: the configuration, or a one-line message and exit code 2 naming the bad variable. */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM and exits 0 when it is done (1 if it fails); a second
 * signal while stopping exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, onError: (err: unknown) => void): void {
  const handle = (signal: NodeJS.Signals) => {
    process.once(signal, () => process.exit(1))
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        onError(err)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => handle('SIGINT'))
  process.once('SIGTERM', () => handle('SIGTERM'))
}
