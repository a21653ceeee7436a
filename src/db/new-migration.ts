/**
 * `npm run migration:new -- <name>` (or `node dist/src/db/new-migration.js <name>` after a build): writes
 * prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql with the SQL that takes a database migrated by
 * the committed migrations to prisma/schema.prisma. Prints "no changes" and writes nothing when they agree.
 *
 * This is what `prisma migrate dev --create-only` does, without the native engine: the committed
 * migrations are applied to a scratch database, which is then diffed against the datamodel. The scratch
 * database lives on the server of DATABASE_URL when that is set (its role needs CREATEDB) and is dropped
 * afterwards; otherwise on a throwaway embedded PostgreSQL in a temp directory, never on the app's own.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../config'
import { findFreePort, startEmbeddedPostgres } from './embedded'
import {
  applyMigrations,
  createScratchDatabase,
  defaultMigrationsDir,
  defaultSchemaPath,
  diffDatabaseAgainstSchema,
  MIGRATION_LOCK_CONTENT,
  MIGRATION_LOCK_FILE,
  readMigrations,
} from './migrate'

export interface NewMigrationOptions {
  /** Free text; becomes the lower-case, underscore-separated suffix of the folder name. */
  name: string
  /** A PostgreSQL server where a scratch database may be created and dropped. */
  serverUrl: string
  migrationsDir?: string
  schemaPath?: string
  /** The migration's timestamp; defaults to now. */
  now?: Date
}

export interface NewMigration {
  /** The folder name, e.g. `20250101120000_add_run_notes`. */
  name: string
  directory: string
  sql: string
}

/**
 * Writes the next migration folder, or returns `undefined` when schema.prisma and the committed
 * migrations already agree.
 */
export async function writeNextMigration(options: NewMigrationOptions): Promise<NewMigration | undefined> {
  const slug = migrationSlug(options.name)
  if (slug === '') throw new Error(`"${options.name}" does not make a migration name; use letters and digits`)
  const migrationsDir = path.resolve(options.migrationsDir ?? defaultMigrationsDir())
  const existing = await readMigrations(migrationsDir, { allowMissing: true })

  const scratch = await createScratchDatabase(options.serverUrl, 'lab_migration_scratch')
  let sql: string
  try {
    if (existing.migrationDirectories.length > 0) await applyMigrations(scratch.url, { migrationsDir })
    sql = await diffDatabaseAgainstSchema(scratch.url, {
      schemaPath: options.schemaPath ?? defaultSchemaPath(),
    })
  } finally {
    await scratch.drop()
  }
  if (sql === '') return undefined

  const last = existing.migrationDirectories.at(-1)?.path
  const name = `${nextTimestamp(options.now ?? new Date(), last)}_${slug}`
  const directory = path.join(migrationsDir, name)
  await fs.promises.mkdir(directory, { recursive: true })
  await fs.promises.writeFile(path.join(directory, 'migration.sql'), sql, { flag: 'wx' })
  if (existing.lockfile.content === null) {
    await fs.promises.writeFile(path.join(migrationsDir, MIGRATION_LOCK_FILE), MIGRATION_LOCK_CONTENT)
  }
  return { name, directory, sql }
}

/** Like `prisma migrate dev --name` (slugify with `_`): `addRunNotes`, `add run-notes` -> `add_run_notes`. */
export function migrationSlug(name: string): string {
  return name
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 200)
}

/** `YYYYMMDDHHMMSS` in UTC, later than the newest existing migration even if the clock disagrees. */
function nextTimestamp(now: Date, lastMigration: string | undefined): string {
  const format = (date: Date) => date.toISOString().replace(/\D/g, '').slice(0, 14)
  const lastStamp = /^(\d{14})_/.exec(lastMigration ?? '')?.[1]
  if (lastStamp === undefined || format(now) > lastStamp) return format(now)
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(lastStamp.slice(at, i === 0 ? 4 : at + 2)),
  )
  return format(new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s! + 1)))
}

/** Where the scratch database goes: DATABASE_URL's server, else a throwaway embedded PostgreSQL. */
async function scratchServer(
  databaseUrl: string | undefined,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (databaseUrl !== undefined) return { url: databaseUrl, stop: async () => undefined }
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lab-migration-'))
  try {
    const embedded = await startEmbeddedPostgres({ dataDir, port: await findFreePort() })
    return {
      url: embedded.connectionString,
      stop: async () => {
        await embedded.stop()
        await fs.promises.rm(dataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await fs.promises.rm(dataDir, { recursive: true, force: true })
    throw error
  }
}

async function main(argv: string[]): Promise<number> {
  const name = argv[0]
  if (argv.length !== 1 || name === undefined || name.startsWith('-')) {
    process.stderr.write('usage: npm run migration:new -- <name>\n')
    return 2
  }
  const { databaseUrl } = loadConfig()
  const server = await scratchServer(databaseUrl)
  try {
    const migration = await writeNextMigration({ name, serverUrl: server.url })
    if (migration === undefined) {
      process.stdout.write('no changes: schema.prisma and prisma/migrations agree\n')
    } else {
      process.stdout.write(`wrote ${path.relative(process.cwd(), migration.directory)}/migration.sql\n`)
      process.stdout.write(migration.sql)
    }
    return 0
  } finally {
    await server.stop()
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = 1
    },
  )
}
