import type { Db } from '../../db/client'
import type { Prisma } from '../../generated/prisma/client'
import { keysetWhere, Page, pageOf, PageArgs } from '../common/page'

export interface ExperimentRecord {
  id: string
  name: string
  createdAt: Date
}

const SELECT = { id: true, name: true, createdAt: true } as const

/**
 * The experiment of that name, created on first use. INSERT ... ON CONFLICT rather than Prisma's
 * upsert, which two concurrent first uses can race into a unique violation.
 */
export async function ensureExperiment(db: Prisma.TransactionClient, name: string): Promise<{ id: string }> {
  await db.$executeRaw`
    INSERT INTO "Experiment" (id, name, "createdAt") VALUES (gen_random_uuid(), ${name}, now())
    ON CONFLICT (name) DO NOTHING`
  return db.experiment.findUniqueOrThrow({ where: { name }, select: { id: true } })
}

export class ExperimentRepository {
  constructor(private readonly db: Db) {}

  findById(id: string): Promise<ExperimentRecord | null> {
    return this.db.experiment.findUnique({ where: { id }, select: SELECT })
  }

  async ensure(name: string): Promise<ExperimentRecord> {
    const { id } = await ensureExperiment(this.db, name)
    return this.db.experiment.findUniqueOrThrow({ where: { id }, select: SELECT })
  }

  findByName(name: string): Promise<ExperimentRecord | null> {
    return this.db.experiment.findUnique({ where: { name }, select: SELECT })
  }

  findManyByIds(ids: readonly string[]): Promise<ExperimentRecord[]> {
    return this.db.experiment.findMany({ where: { id: { in: [...ids] } }, select: SELECT })
  }

  async list(page: PageArgs): Promise<Page<ExperimentRecord>> {
    const [rows, totalCount] = await Promise.all([
      this.db.experiment.findMany({
        where: keysetWhere(page.after),
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.first + 1,
        select: SELECT,
      }),
      this.db.experiment.count(),
    ])
    return pageOf(rows, page.first, totalCount, (row) => row)
  }
}
