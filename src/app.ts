import type { GraphQLSchema } from 'graphql'
import type { Config } from './config'
import type { Db } from './db/client'
import type { Logger } from './logger'
import { DatasetRepository } from './modules/dataset/dataset.repository'
import { DatasetResolver } from './modules/dataset/dataset.resolver'
import { DatasetService } from './modules/dataset/dataset.service'
import { ResolverContainer } from './server/container'
import { buildLabSchema } from './server/schema'

/** The services of one API process, wired explicitly (no work at import time). */
export interface App {
  schema: GraphQLSchema
  datasets: DatasetService
  /** Per-operation GraphQL context. */
  context: () => AppContext
  close(): Promise<void>
}

export type AppContext = Record<string, never>

export async function createApp(config: Config, db: Db, _logger: Logger): Promise<App> {
  const datasets = new DatasetService(new DatasetRepository(db), {
    maxRows: config.maxDatasetRows,
    maxCells: config.maxDatasetCells,
  })
  const container = new ResolverContainer().register(new DatasetResolver(datasets))
  const schema = await buildLabSchema({ container })
  return {
    schema,
    datasets,
    context: () => ({}),
    close: async () => {},
  }
}
