import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client'

export type Db = PrismaClient

/**
 * Opens a Prisma client over the pg driver adapter (no Rust engine needed at run time).
 * Only repositories use it; everything above them speaks domain types.
 */
export function createDb(connectionString: string, opts: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString, max: opts.max ?? 10 })
  return new PrismaClient({ adapter })
}
