import type { Db } from '../../db/client'
import { keysetWhere, Page, PageArgs } from '../common/page'

export interface ExperimentRecord {
  id: string
  name: string
  createdAt: Date
}

const SELECT = { id: true, name: true, createdAt: true } as const

export class ExperimentRepository {
  constructor(private readonly db: Db) {}

  findById(id: string): Promise<ExperimentRecord | null> {
    return this.db.experiment.findUnique({ where: { id }, select: SELECT })
  }

  ensure(name: string): Promise<ExperimentRecord> {
    return this.db.experiment.upsert({ where: { name }, create: { name }, update: {}, select: SELECT })
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
    return { nodes: rows.slice(0, page.first), hasNextPage: rows.length > page.first, totalCount }
  }
}
