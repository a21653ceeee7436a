import { applyMigrations, createScratchDatabase } from '../../src/db/migrate'
import type { ScratchDatabase } from '../../src/db/migrate'

/** The machine PostgreSQL (trust auth). global-setup.ts replaces it with an embedded one if unreachable. */
export const DEFAULT_TEST_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres'

/** Prefix of every test database; the creation time (unix seconds) follows it, see global-setup.ts. */
export const TEST_DATABASE_PREFIX = 'lab_test_'

export type TestDatabase = ScratchDatabase

/** The server test databases are created on: TEST_DATABASE_URL as global-setup.ts left it. */
export function testServerUrl(): string {
  return process.env['TEST_DATABASE_URL'] || DEFAULT_TEST_DATABASE_URL
}

/**
 * A new, uniquely named database with every migration applied (or none, with `migrate: false`).
 * Register `drop()` for cleanup: it ends the database's sessions and drops it.
 */
export async function createTestDatabase({ migrate = true } = {}): Promise<TestDatabase> {
  const createdAt = Math.floor(Date.now() / 1000)
  const database = await createScratchDatabase(testServerUrl(), `${TEST_DATABASE_PREFIX}${createdAt}`)
  if (migrate) {
    try {
      await applyMigrations(database.url)
    } catch (error) {
      await database.drop()
      throw error
    }
  }
  return database
}
