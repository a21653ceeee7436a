import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import {
  applyMigrations,
  defaultMigrationsDir,
  defaultSchemaPath,
  diffDatabaseAgainstSchema,
  MIGRATION_LOCK_CONTENT,
  readMigrations,
} from '../../src/db/migrate'
import { writeNextMigration } from '../../src/db/new-migration'
import { createTestDatabase, testServerUrl } from '../helpers/db'

const leftovers: (() => Promise<unknown>)[] = []
afterAll(async () => {
  for (const dispose of leftovers.reverse()) await dispose()
})

async function freshDatabase({ migrate = false } = {}): Promise<string> {
  const database = await createTestDatabase({ migrate })
  leftovers.push(() => database.drop())
  return database.url
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql)).rows
  } finally {
    await client.end()
  }
}

/** A copy of prisma/migrations in a temp folder, to add migrations to without touching the real one. */
async function copyOfMigrations(): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'lab-migrations-'))
  leftovers.push(() => fs.promises.rm(dir, { recursive: true, force: true }))
  await fs.promises.cp(defaultMigrationsDir(), dir, { recursive: true })
  return dir
}

/** schema.prisma with one more column, as someone editing the model without a migration would leave it. */
function editedSchema(): string {
  const schema = fs.readFileSync(defaultSchemaPath(), 'utf8')
  const edited = schema.replace(/(model Experiment \{\n)/, '$1  note String?\n')
  expect(edited).not.toBe(schema)
  return edited
}

describe('prisma/migrations', () => {
  let names: string[]

  beforeAll(async () => {
    const list = await readMigrations(defaultMigrationsDir())
    names = list.migrationDirectories.map((dir) => dir.path)
    expect(names.length).toBeGreaterThan(0)
    expect(list.lockfile.content).toBe(MIGRATION_LOCK_CONTENT)
  })

  it('applies every migration to an empty database once, recorded as prisma migrate deploy records it', async () => {
    const url = await freshDatabase()

    expect(await applyMigrations(url)).toEqual({ applied: names })
    expect(await applyMigrations(url)).toEqual({ applied: [] })

    const rows = await query<{
      migration_name: string
      checksum: string
      finished: boolean
      rolled_back: boolean
    }>(
      url,
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
         FROM _prisma_migrations ORDER BY migration_name`,
    )
    expect(rows).toEqual(
      names.map((name) => ({
        migration_name: name,
        // Prisma's checksum is the SHA-256 of the script: `migrate deploy` would accept this history.
        checksum: crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(defaultMigrationsDir(), name, 'migration.sql')))
          .digest('hex'),
        finished: true,
        rolled_back: false,
      })),
    )
  })

  it('agree with schema.prisma, and an edit to schema.prisma without a migration shows up', async () => {
    const url = await freshDatabase({ migrate: true })

    expect(await diffDatabaseAgainstSchema(url)).toBe('')
    expect(await diffDatabaseAgainstSchema(url, { schema: editedSchema() })).toMatch(
      /ALTER TABLE "Experiment" ADD COLUMN\s+"note" TEXT/,
    )
  })

  it('can be applied by two runners at once: one applies, the other waits and finds nothing to do', async () => {
    const url = await freshDatabase()

    const results = await Promise.all([applyMigrations(url), applyMigrations(url)])

    expect(results.flatMap((result) => result.applied).sort()).toEqual(names)
    expect(results.some((result) => result.applied.length === 0)).toBe(true)
    const [{ count }] = (await query<{ count: number }>(
      url,
      'SELECT count(*)::int AS count FROM _prisma_migrations',
    )) as [{ count: number }]
    expect(count).toBe(names.length)
  })

  it('runs each script whole: semicolons inside function bodies work, a failing script leaves nothing behind', async () => {
    const dir = await copyOfMigrations()
    await fs.promises.mkdir(path.join(dir, '99990101000000_function'))
    await fs.promises.writeFile(
      path.join(dir, '99990101000000_function', 'migration.sql'),
      `CREATE FUNCTION lab_answer() RETURNS int AS $$\nBEGIN\n  PERFORM 1;\n  RETURN 42;\nEND;\n$$ LANGUAGE plpgsql;\n`,
    )
    const url = await freshDatabase()
    expect((await applyMigrations(url, { migrationsDir: dir })).applied).toContain('99990101000000_function')
    expect(await query(url, 'SELECT lab_answer() AS answer')).toEqual([{ answer: 42 }])

    await fs.promises.mkdir(path.join(dir, '99990102000000_broken'))
    await fs.promises.writeFile(
      path.join(dir, '99990102000000_broken', 'migration.sql'),
      'CREATE TABLE "Half" (id int);\nSELECT * FROM "NoSuchTable";\n',
    )
    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toThrow(/NoSuchTable/)
    expect(await query(url, `SELECT to_regclass('"Half"') AS half`)).toEqual([{ half: null }])
  })
})

describe('new-migration', () => {
  it('writes nothing while schema.prisma and the migrations agree', async () => {
    const before = fs.readdirSync(defaultMigrationsDir())

    expect(await writeNextMigration({ name: 'nothing', serverUrl: testServerUrl() })).toBeUndefined()
    expect(fs.readdirSync(defaultMigrationsDir())).toEqual(before)
  })

  it('writes the next migration after an edit, and that migration makes them agree again', async () => {
    const dir = await copyOfMigrations()
    const schemaPath = path.join(dir, 'schema.prisma')
    await fs.promises.writeFile(schemaPath, editedSchema())

    const migration = await writeNextMigration({
      name: 'Add experiment note',
      serverUrl: testServerUrl(),
      migrationsDir: dir,
      schemaPath,
    })

    expect(migration?.name).toMatch(/^\d{14}_add_experiment_note$/)
    expect(migration?.sql).toMatch(/ALTER TABLE "Experiment" ADD COLUMN\s+"note" TEXT/)
    const url = await freshDatabase()
    await applyMigrations(url, { migrationsDir: dir })
    expect(await diffDatabaseAgainstSchema(url, { schemaPath })).toBe('')
  })
})
