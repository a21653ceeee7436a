/**
 * Prisma's schema engine (the code behind `prisma migrate`), run as WebAssembly over the pg driver adapter.
 *
 * The Prisma CLI needs a native `schema-engine` binary that it downloads on first use; that download is
 * impossible on our machines and in CI. `@prisma/schema-engine-wasm` is the same engine compiled to
 * WebAssembly (pinned to the version prisma's own internals pin) and talks to PostgreSQL through a driver
 * adapter, so it needs nothing but the npm package. See docs/migrations.md.
 */
import nodeCrypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils'
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
} from '@prisma/driver-adapter-utils'
import type {
  ApplyMigrationsInput,
  ApplyMigrationsOutput,
  DiffParams,
  DiffResult,
  SchemaEngine as WasmSchemaEngine,
} from '@prisma/schema-engine-wasm' with { 'resolution-mode': 'import' }

export type {
  DiffTarget,
  MigrationDirectory,
  MigrationList,
  SchemaContainer,
  SchemaFilter,
} from '@prisma/schema-engine-wasm' with { 'resolution-mode': 'import' }

/** The engine methods this project uses (the full surface is in `@prisma/schema-engine-wasm`). */
export interface SchemaEngine {
  applyMigrations(input: ApplyMigrationsInput): Promise<ApplyMigrationsOutput>
  diff(params: DiffParams): Promise<DiffResult>
}

/** A Prisma schema file as the engine wants it. */
export interface SchemaFile {
  path: string
  content: string
}

export interface SchemaEngineOptions {
  /** The database the engine works on. */
  connectionString: string
  /** The Prisma schema the engine is constructed with; commands that take a schema get it separately. */
  schemaFiles?: SchemaFile[]
  /** Receives the engine's own log lines (JSON, one per call). */
  onEngineLog?: (line: string) => void
}

// The global exists in Node; our lib settings (ES2023, @types/node 20) just do not declare it.
interface WasmModule {
  readonly kind?: 'WebAssembly.Module'
}
declare const WebAssembly: {
  Module: {
    new (bytes: Uint8Array): WasmModule
    imports(module: WasmModule): { module: string; name: string; kind: string }[]
  }
  Instance: new (
    module: WasmModule,
    imports: Record<string, object>,
  ) => { readonly exports: Record<string, unknown> }
}

interface Glue {
  __wbg_set_wasm(exports: Record<string, unknown>): void
  version(): string
  SchemaEngine: typeof WasmSchemaEngine
}

let compiled: { module: WasmModule; glueSource: string; exportNames: string[] } | undefined

/**
 * Reads and compiles the engine once per process. The wasm-bindgen glue (`schema_engine_bg.js`) is an ES
 * module without imports, consisting only of `export function` / `export class` declarations. Node 20
 * cannot `require()` it from our CommonJS output, and jest (CommonJS, no VM modules) cannot `import()` it
 * at all, so the glue is evaluated as a function body instead; that works the same under node, tsx and
 * jest. The version is pinned exactly in package.json, and the shape is checked here so an upgrade that
 * changes it fails loudly instead of half-working.
 */
function compile(): NonNullable<typeof compiled> {
  if (compiled) return compiled
  const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
  const wasmPath = path.join(path.dirname(gluePath), 'schema_engine_bg.wasm')
  const exportNames: string[] = []
  const glueSource = fs
    .readFileSync(gluePath, 'utf8')
    .replace(/^export (function|class) ([\w$]+)/gm, (_match, kind: string, name: string) => {
      exportNames.push(name)
      return `${kind} ${name}`
    })
  if (/^\s*(export|import)\b/m.test(glueSource) || !exportNames.includes('SchemaEngine')) {
    throw new Error(`${gluePath} no longer has the shape src/db/schema-engine.ts expects; check the loader`)
  }
  const module = new WebAssembly.Module(fs.readFileSync(wasmPath))
  compiled = { module, glueSource, exportNames }
  return compiled
}

interface EngineInstance {
  glue: Glue
  /** Rejects when the engine panics: the panicking call itself would otherwise never settle. */
  panicked: Promise<never>
  /** The panic message, once the engine has panicked. */
  panicMessage(): string | undefined
  /** Clears the timers the engine armed and never cleared. */
  clearTimers(): void
}

/**
 * A fresh glue and WebAssembly instance per engine: a Rust panic poisons its instance, and nothing is
 * shared between engines that could leak from one command into the next.
 *
 * The glue sees a few stand-ins for globals:
 * - `global.PRISMA_WASM_PANIC_REGISTRY`, which the Prisma CLI normally installs and the panic hook
 *   writes to; without it a panic is a TypeError and the message is lost.
 * - `setTimeout` / `queueMicrotask` and the promise callbacks, guarded: after a panic, the wasm trap
 *   surfaces inside such a callback, where it would be an uncaught exception that ends the process.
 * - Timers are tracked: the engine arms some (e.g. a 10 s lock timeout) and never clears them, which
 *   would keep a finished process alive.
 */
function instantiate(): EngineInstance {
  const { module, glueSource, exportNames } = compile()
  let panicMessage: string | undefined
  let reportPanic: (error: Error) => void = () => undefined
  const panicked = new Promise<never>((_, reject) => {
    reportPanic = reject
  })
  panicked.catch(() => undefined)
  const guard =
    <A extends unknown[]>(callback: (...args: A) => unknown) =>
    (...args: A): unknown => {
      try {
        return callback(...args)
      } catch (error) {
        if (panicMessage === undefined) throw error
        return undefined
      }
    }

  const timers = new Set<NodeJS.Timeout>()
  const trackedSetTimeout = (callback: () => void, ms: number): NodeJS.Timeout => {
    const timer = setTimeout(
      guard(() => {
        timers.delete(timer)
        callback()
      }),
      ms,
    )
    timers.add(timer)
    return timer
  }
  const globalShim = Object.create(globalThis, {
    PRISMA_WASM_PANIC_REGISTRY: {
      value: {
        set_message: (message: string) => {
          panicMessage = message
          reportPanic(new Error(`Prisma schema engine panicked: ${message}`))
        },
      },
    },
  }) as typeof globalThis
  // getrandom asks Node for `module.require('crypto')` (an ES module has no `module`: then it uses Web Crypto).
  const moduleShim = { require: (id: string): unknown => (id === 'crypto' ? nodeCrypto : undefined) }
  const glue = new Function(
    'global',
    'module',
    'setTimeout',
    'queueMicrotask',
    `'use strict';\n${glueSource}\nreturn { ${exportNames.join(', ')} }`,
  )(globalShim, moduleShim, trackedSetTimeout, (callback: () => void) =>
    queueMicrotask(guard(callback)),
  ) as Glue

  const guardedGlue: Record<string, unknown> = { ...glue }
  for (const name of exportNames.filter((n) => n.startsWith('__wbg_then_'))) {
    const then = guardedGlue[name] as (promise: unknown, ...callbacks: unknown[]) => unknown
    guardedGlue[name] = (promise: unknown, ...callbacks: unknown[]) =>
      then(promise, ...callbacks.map((cb) => (typeof cb === 'function' ? guard(cb as () => unknown) : cb)))
  }
  const imports = Object.fromEntries(
    [...new Set(WebAssembly.Module.imports(module).map((entry) => entry.module))].map((name) => [
      name,
      guardedGlue,
    ]),
  )
  const instance = new WebAssembly.Instance(module, imports)
  glue.__wbg_set_wasm(instance.exports)
  ;(instance.exports['__wbindgen_start'] as () => void)()
  return {
    glue,
    panicked,
    panicMessage: () => panicMessage,
    clearTimers: () => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    },
  }
}

/** The engine's version (the prisma-engines commit), e.g. for diagnostics. */
export function schemaEngineVersion(): string {
  return instantiate().glue.version()
}

const PG_CHAR_OID = 18
const PG_TEXT_OID = 25

/** Result rows (by identity) -> indexes of their `"char"` columns; see CatalogFriendlyClient. */
const charColumns = new WeakMap<object, number[]>()

/**
 * The engine introspects the catalog, whose flag columns (pg_class.relkind, pg_constraint.contype, ...)
 * have PostgreSQL's internal one-byte type `"char"` (OID 18), and @prisma/adapter-pg 7.10 rejects that
 * type ("Column type 'char' could not be deserialized from the database"). This client hands such columns
 * to the adapter as text and remembers them, and the adapter wrapper below reports them to the engine as
 * `Character`, which is what the engine reads them as. Only the engine's own pools use this client.
 */
class CatalogFriendlyClient extends pg.Client {
  override query(...args: unknown[]): never {
    const last = args[args.length - 1]
    if (typeof last === 'function') {
      args[args.length - 1] = (error: Error | null, result: unknown) =>
        (last as (e: Error | null, r: unknown) => void)(error, error ? result : relabelCharColumns(result))
    }
    const out = (pg.Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args)
    return (isPromise(out) ? out.then(relabelCharColumns) : out) as never
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function relabelCharColumns(result: unknown): unknown {
  for (const one of Array.isArray(result) ? result : [result]) {
    const { fields, rows } = (one ?? {}) as { fields?: { dataTypeID: number }[]; rows?: object }
    const indexes: number[] = []
    fields?.forEach((field, index) => {
      if (field.dataTypeID !== PG_CHAR_OID) return
      field.dataTypeID = PG_TEXT_OID
      indexes.push(index)
    })
    if (indexes.length > 0 && rows !== undefined) charColumns.set(rows, indexes)
  }
  return result
}

/**
 * An adapter factory over one pool that we own and close ourselves: the engine does not dispose the
 * adapters it opens when it is freed. `executeScript` sends the whole script in one simple-protocol query,
 * like the native engine does (adapter-pg splits scripts on every `;`, which breaks `$$` function bodies
 * and string literals, and runs the pieces outside a single implicit transaction).
 */
function ownedAdapterFactory(connectionString: string): {
  factory: SqlMigrationAwareDriverAdapterFactory
  close(): Promise<void>
} {
  const pool = new pg.Pool({ connectionString, Client: CatalogFriendlyClient, max: 4 })
  pool.on('error', () => {
    // An idle client lost its connection; the next query reports it.
  })
  const base = new PrismaPg(pool)
  const opened: SqlDriverAdapter[] = []
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: base.provider,
    adapterName: base.adapterName,
    async connect() {
      const adapter = await base.connect()
      opened.push(adapter)
      return Object.assign(Object.create(adapter) as SqlDriverAdapter, {
        queryRaw: async (query: SqlQuery) => {
          const result = await adapter.queryRaw(query)
          for (const index of charColumns.get(result.rows) ?? [])
            result.columnTypes[index] = ColumnTypeEnum.Character
          return result
        },
        executeScript: async (script: string) => {
          await adapter.executeRaw({ sql: script, args: [], argTypes: [] })
        },
      })
    },
    async connectToShadowDb() {
      // adapter-pg's own version would point the "shadow" pool at the main database (a connection string
      // overrides the `database` it sets). Nothing here needs one: new migrations are diffed against a
      // scratch database that the migrations were applied to.
      throw new Error('No shadow database: apply the migrations to a scratch database and diff that instead')
    },
  }
  return {
    factory,
    async close() {
      await Promise.allSettled(opened.map((adapter) => adapter.dispose()))
      await pool.end()
    },
  }
}

/**
 * Runs `fn` with a schema engine connected to `connectionString`, then frees the engine and closes every
 * connection it opened, whether `fn` succeeded or not.
 */
export async function withSchemaEngine<T>(
  options: SchemaEngineOptions,
  fn: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { glue, panicked, panicMessage, clearTimers } = instantiate()
  const { factory, close } = ownedAdapterFactory(options.connectionString)
  let engine: WasmSchemaEngine | undefined
  try {
    engine = await Promise.race([
      glue.SchemaEngine.new(
        { datamodels: options.schemaFiles?.map((file) => [file.path, file.content]) },
        (line: string) => options.onEngineLog?.(line),
        bindMigrationAwareSqlAdapterFactory(factory),
      ),
      panicked,
    ])
    return await Promise.race([fn(engine), panicked])
  } catch (error) {
    const panic = panicMessage()
    throw panic === undefined ? toError(error) : new Error(`Prisma schema engine panicked: ${panic}`)
  } finally {
    try {
      engine?.free()
    } catch {
      // A panicked instance can trap again on free; it is dropped with this scope anyway.
    }
    clearTimers()
    await close()
  }
}

/** The engine rejects with plain strings or objects at times; callers always get an Error. */
function toError(error: unknown): Error {
  if (error instanceof Error) return error
  if (typeof error === 'string') return new Error(error)
  const message = (error as { message?: unknown } | null)?.message
  return new Error(typeof message === 'string' ? message : JSON.stringify(error))
}

/** The filter the engine wants when no tables or enums are managed outside Prisma. */
export const NO_EXTERNAL_ENTITIES = { externalTables: [], externalEnums: [] }
