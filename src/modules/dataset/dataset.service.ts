import { randomInt } from 'node:crypto'
import { badInput, conflict, notFound } from '../../errors'
import { isId } from '../common/ids'
import { Page, PageArgs } from '../common/page'
import { parseCsvDataset } from './csv'
import {
  buildContent,
  checkName,
  checkSize,
  contentHash,
  DatasetContent,
  DatasetLimits,
  featureStats,
} from './dataset.content'
import { DatasetRecord, DatasetRepository, DatasetSource } from './dataset.repository'
import { DatasetGenerator, Task } from './dataset.type'
import { generate } from './generators'

export interface CreateDatasetArgs {
  name: string
  task: Task
  featureNames: string[]
  targetName?: string | null | undefined
  rows: number[][]
  targets: number[]
}

export interface ImportCsvArgs {
  name: string
  task: Task
  csv: string
  targetColumn: string
}

export interface GenerateArgs {
  name: string
  generator: DatasetGenerator
  rows: number
  noise?: number | null | undefined
  seed?: number | null | undefined
}

/** Datasets: validation, canonical content, versioning. Input is fully checked before anything is written. */
export class DatasetService {
  constructor(
    private readonly repo: DatasetRepository,
    private readonly limits: DatasetLimits,
  ) {}

  async get(id: string): Promise<DatasetRecord | null> {
    return isId(id) ? this.repo.findById(id) : null
  }

  async require(id: string): Promise<DatasetRecord> {
    const found = await this.get(id)
    if (!found) throw notFound('dataset', id)
    return found
  }

  async content(id: string): Promise<DatasetContent> {
    const found = isId(id) ? await this.repo.findContent(id) : null
    if (!found) throw notFound('dataset', id)
    return found
  }

  list(page: PageArgs): Promise<Page<DatasetRecord>> {
    return this.repo.list(page)
  }

  getMany(ids: readonly string[]): Promise<DatasetRecord[]> {
    return this.repo.findManyByIds(ids)
  }

  async create(args: CreateDatasetArgs): Promise<DatasetRecord> {
    const name = checkName(args.name, 'name')
    const content = buildContent({
      task: args.task,
      featureNames: args.featureNames,
      targetName: args.targetName ?? 'target',
      rows: args.rows,
      targets: args.targets,
      limits: this.limits,
    })
    return this.save(name, content, { kind: 'rows' })
  }

  async importCsv(args: ImportCsvArgs): Promise<DatasetRecord> {
    const name = checkName(args.name, 'name')
    const content = parseCsvDataset({
      task: args.task,
      csv: args.csv,
      targetColumn: args.targetColumn,
      limits: this.limits,
    })
    return this.save(name, content, { kind: 'csv' })
  }

  async generate(args: GenerateArgs): Promise<DatasetRecord> {
    const name = checkName(args.name, 'name')
    if (!Number.isInteger(args.rows) || args.rows < 1) {
      throw badInput('rows must be a positive integer', { field: 'rows' })
    }
    const noise = args.noise ?? 0
    if (!Number.isFinite(noise) || noise < 0) throw badInput('noise must be 0 or more', { field: 'noise' })
    if (args.generator === DatasetGenerator.XOR && noise > 0.5) {
      throw badInput('noise is a label flip rate for XOR and must be at most 0.5', { field: 'noise' })
    }
    const seed = args.seed ?? randomInt(0, 2 ** 31 - 1)
    const probe = generate(args.generator, 0, noise, seed)
    checkSize(args.rows, probe.featureNames.length, this.limits)
    const data = generate(args.generator, args.rows, noise, seed)
    const content = buildContent({ ...data, targetName: 'y', limits: this.limits })
    return this.save(name, content, { kind: 'generator', generator: args.generator, seed, noise })
  }

  async delete(id: string): Promise<boolean> {
    if (!isId(id)) throw notFound('dataset', id)
    const outcome = await this.repo.delete(id)
    switch (outcome) {
      case 'deleted':
        return true
      case 'not_found':
        throw notFound('dataset', id)
      case 'in_use':
        throw conflict('dataset is used by runs or sweeps; delete them first', { id })
    }
  }

  private async save(name: string, content: DatasetContent, source: DatasetSource): Promise<DatasetRecord> {
    const { dataset } = await this.repo.saveVersion(
      name,
      content,
      contentHash(content),
      featureStats(content),
      source,
    )
    return dataset
  }
}
