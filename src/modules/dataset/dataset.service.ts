import { randomInt } from 'node:crypto'
import { badInput, conflict, notFound, tooLarge } from '../../errors'
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
import { DatasetGenerator, DatasetKind, Task } from './dataset.enums'
import { COPY_TEXT, copyText, generate, GeneratorOptions, LATENT_LINEAR } from './generators'
import { buildTextContent, DEFAULT_MIN_COUNT } from './text'

/** Rows one preview may ask for, and how many it gets by default. */
export const MAX_PREVIEW_ROWS = 100
export const DEFAULT_PREVIEW_ROWS = 10

/** One row of a table dataset, as `Dataset.preview` returns it. */
export interface DatasetRowValue {
  index: number
  features: number[]
  target: number | null
  factors: number[]
}

/** Default of LAB_MAX_TEXT_BYTES: the largest text corpus, in UTF-8 bytes. */
export const DEFAULT_MAX_TEXT_BYTES = 8 * 1024 * 1024

export interface ImportTextArgs {
  name: string
  text: string
  /** Default 1. */
  minCount?: number | null | undefined
}

export interface CreateDatasetArgs {
  name: string
  task: Task
  featureNames: string[]
  /** Default "target"; none for UNSUPERVISED. */
  targetName?: string | null | undefined
  rows: number[][]
  /** Required, except for UNSUPERVISED, where it must be absent. */
  targets?: number[] | null | undefined
  factors?: { name: string; values: number[] }[] | null | undefined
  imageShape?: number[] | null | undefined
}

export interface ImportCsvArgs {
  name: string
  task: Task
  csv: string
  /** Required, except for UNSUPERVISED, where it must be absent. */
  targetColumn?: string | null | undefined
  factorColumns?: string[] | null | undefined
  imageShape?: number[] | null | undefined
}

export interface GenerateArgs {
  name: string
  generator: DatasetGenerator
  rows: number
  noise?: number | null | undefined
  seed?: number | null | undefined
  /** LATENT_LINEAR only. */
  latents?: number | null | undefined
  /** LATENT_LINEAR only. */
  features?: number | null | undefined
  /** COPY_TEXT only. */
  lag?: number | null | undefined
}

/** Datasets: validation, canonical content, versioning. Input is fully checked before anything is written. */
export class DatasetService {
  constructor(
    private readonly repo: DatasetRepository,
    private readonly limits: DatasetLimits & { maxTextBytes?: number },
  ) {}

  private get maxTextBytes(): number {
    return this.limits.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES
  }

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

  /**
   * `first` rows of a table from row `offset` (a page of the stored rows, for a person to look at): first
   * 1 to MAX_PREVIEW_ROWS, offset 0 to rowCount (at rowCount the page is empty).
   */
  async preview(
    dataset: DatasetRecord,
    first: number | null | undefined,
    offset: number | null | undefined,
  ): Promise<DatasetRowValue[]> {
    const count = first ?? DEFAULT_PREVIEW_ROWS
    const from = offset ?? 0
    if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW_ROWS) {
      throw badInput(`first must be an integer from 1 to ${MAX_PREVIEW_ROWS}`, { field: 'first' })
    }
    if (!Number.isInteger(from) || from < 0 || from > dataset.rowCount) {
      throw badInput(`offset must be an integer from 0 to the dataset's ${dataset.rowCount} rows`, {
        field: 'offset',
      })
    }
    if (dataset.kind === DatasetKind.TEXT) {
      throw badInput('a TEXT dataset has no table rows to preview; it is one corpus of characters', {
        field: 'preview',
      })
    }
    const n = Math.min(count, dataset.rowCount - from)
    if (n === 0) return []
    const featureCount = dataset.featureNames.length
    const factorCount = dataset.factorNames.length
    const rows = await this.repo.findRows(dataset.id, { offset: from, count: n, featureCount, factorCount })
    if (!rows) throw notFound('dataset', dataset.id)
    const supervised = dataset.task !== Task.UNSUPERVISED
    return Array.from({ length: n }, (_, i) => ({
      index: from + i,
      features: Array.from(rows.features.subarray(i * featureCount, (i + 1) * featureCount)),
      target: supervised ? (rows.targets[i] ?? null) : null,
      factors: Array.from(rows.factors.subarray(i * factorCount, (i + 1) * factorCount)),
    }))
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
      targetName: args.targetName ?? (args.task === Task.UNSUPERVISED ? null : 'target'),
      rows: args.rows,
      targets: args.targets ?? null,
      factors: args.factors,
      imageShape: args.imageShape,
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
      factorColumns: args.factorColumns,
      imageShape: args.imageShape,
      limits: this.limits,
    })
    return this.save(name, content, { kind: 'csv' })
  }

  /** A text corpus, versioned by content like every dataset (see text.ts for what is refused). */
  async importText(args: ImportTextArgs): Promise<DatasetRecord> {
    const name = checkName(args.name, 'name')
    const content = buildTextContent(args.text, args.minCount ?? DEFAULT_MIN_COUNT, {
      maxTextBytes: this.maxTextBytes,
    })
    return this.save(name, content, { kind: 'text' })
  }

  async generate(args: GenerateArgs): Promise<DatasetRecord> {
    const name = checkName(args.name, 'name')
    if (!Number.isInteger(args.rows) || args.rows < 1) {
      throw badInput('rows must be a positive integer', { field: 'rows' })
    }
    const noise = args.noise ?? 0
    if (!Number.isFinite(noise) || noise < 0) throw badInput('noise must be 0 or more', { field: 'noise' })
    if (args.generator !== DatasetGenerator.COPY_TEXT && args.lag != null) {
      throw badInput(`lag is a COPY_TEXT parameter; ${args.generator} takes none`, { field: 'lag' })
    }
    if (args.generator === DatasetGenerator.COPY_TEXT) return this.generateCopyText(name, args, noise)
    if (args.generator === DatasetGenerator.XOR && noise > 0.5) {
      throw badInput('noise is a label flip rate for XOR and must be at most 0.5', { field: 'noise' })
    }
    if (args.generator === DatasetGenerator.SPRITES && noise > 0) {
      throw badInput('SPRITES takes no noise: its pixels are exact shape coverage', { field: 'noise' })
    }
    const options = generatorOptions(args)
    const seed = args.seed ?? randomInt(0, 2 ** 31 - 1)
    const probe = generate(args.generator, 0, noise, seed, options)
    checkSize(args.rows, probe.featureNames.length, this.limits, probe.factors.length)
    const data = generate(args.generator, args.rows, noise, seed, options)
    const unsupervised = data.task === Task.UNSUPERVISED
    const content = buildContent({
      ...data,
      targetName: unsupervised ? null : 'y',
      targets: unsupervised ? null : data.targets,
      limits: this.limits,
    })
    const parameters = Object.keys(data.parameters).length > 0 ? { parameters: data.parameters } : {}
    return this.save(name, content, {
      kind: 'generator',
      generator: args.generator,
      seed,
      noise,
      ...parameters,
    })
  }

  private async generateCopyText(name: string, args: GenerateArgs, noise: number): Promise<DatasetRecord> {
    if (noise > 1)
      throw badInput('noise is a probability for COPY_TEXT and must be at most 1', { field: 'noise' })
    const lag = args.lag ?? COPY_TEXT.defaultLag
    if (!Number.isInteger(lag) || lag < 1 || lag > COPY_TEXT.maxLag) {
      throw badInput(`lag is ${lag}; it must be an integer from 1 to ${COPY_TEXT.maxLag}`, { field: 'lag' })
    }
    if (lag >= args.rows) throw badInput(`lag (${lag}) must be below rows (${args.rows})`, { field: 'lag' })
    // One byte per character: the size limit is checked before anything is drawn.
    if (args.rows > this.maxTextBytes) {
      throw tooLarge(
        `${args.rows} characters are more than the limit of ${this.maxTextBytes} (LAB_MAX_TEXT_BYTES)`,
        {
          field: 'rows',
          maxBytes: this.maxTextBytes,
        },
      )
    }
    const seed = args.seed ?? randomInt(0, 2 ** 31 - 1)
    const text = copyText(args.rows, lag, noise, seed)
    const content = buildTextContent(text, DEFAULT_MIN_COUNT, { maxTextBytes: this.maxTextBytes })
    return this.save(name, content, {
      kind: 'generator',
      generator: args.generator,
      seed,
      noise,
      parameters: { lag, alphabet: COPY_TEXT.alphabet },
    })
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

/** Checks the parameters only LATENT_LINEAR takes: given for another generator, they are an error. */
function generatorOptions(args: GenerateArgs): GeneratorOptions {
  const latents = args.latents ?? undefined
  const features = args.features ?? undefined
  if (args.generator !== DatasetGenerator.LATENT_LINEAR) {
    for (const [field, value] of [
      ['latents', latents],
      ['features', features],
    ] as const) {
      if (value !== undefined) {
        throw badInput(`${field} is a LATENT_LINEAR parameter; ${args.generator} takes none`, { field })
      }
    }
    return {}
  }
  const k = latents ?? LATENT_LINEAR.defaultLatents
  const d = features ?? LATENT_LINEAR.defaultFeatures
  if (!Number.isInteger(k) || k < 1 || k > LATENT_LINEAR.maxLatents) {
    throw badInput(`latents is ${k}; it must be an integer from 1 to ${LATENT_LINEAR.maxLatents}`, {
      field: 'latents',
    })
  }
  if (!Number.isInteger(d) || d < 1 || d > LATENT_LINEAR.maxFeatures) {
    throw badInput(`features is ${d}; it must be an integer from 1 to ${LATENT_LINEAR.maxFeatures}`, {
      field: 'features',
    })
  }
  if (d < k) {
    throw badInput(`features (${d}) must be at least latents (${k}): each factor needs a direction`, {
      field: 'features',
    })
  }
  return { latents: k, features: d }
}
