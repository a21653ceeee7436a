import { poolOf, type Db } from '../../db/client'
import type { Prisma } from '../../generated/prisma/client'
import { keysetWhere, Page, pageOf, PageArgs } from '../common/page'
import { DatasetContent, FeatureStatsValue, fromBytes, toBytes } from './dataset.content'
import { DatasetKind, Task } from './dataset.enums'

/** A dataset's description: everything but the rows. */
export interface DatasetRecord {
  id: string
  name: string
  version: number
  kind: DatasetKind
  task: Task
  featureNames: string[]
  /** Null for UNSUPERVISED. */
  targetName: string | null
  rowCount: number
  factorNames: string[]
  /** [height, width] of an image dataset; null when the features are not pixels. */
  imageShape: number[] | null
  contentHash: string
  featureStats: FeatureStatsValue[]
  /** TEXT: the known characters (symbol i is vocabulary[i]; vocabulary.length is the unknown symbol). */
  vocabulary: string[] | null
  /** TEXT: the import's minCount. */
  minCount: number | null
  createdAt: Date
}

/** How a dataset was made (the `source` JSON column). */
export type DatasetSource =
  | { kind: 'rows' }
  | { kind: 'csv' }
  | { kind: 'text' }
  | {
      kind: 'generator'
      generator: string
      seed: number
      noise: number
      /** The generator's own parameters, e.g. LATENT_LINEAR's latents, features and mixing matrix. */
      parameters?: Record<string, unknown>
    }

/** What the rows of a dataset are: read with its description, and by a trainer with the rows. */
const ROW_SHAPE = {
  task: true,
  featureNames: true,
  targetName: true,
  rowCount: true,
  factorNames: true,
  imageShape: true,
  vocabulary: true,
  minCount: true,
} satisfies Prisma.DatasetSelect

const DESCRIPTION = {
  id: true,
  name: true,
  version: true,
  kind: true,
  ...ROW_SHAPE,
  contentHash: true,
  featureStats: true,
  createdAt: true,
} satisfies Prisma.DatasetSelect

type DescriptionRow = Prisma.DatasetGetPayload<{ select: typeof DESCRIPTION }>

function toRecord(row: DescriptionRow): DatasetRecord {
  return {
    ...row,
    kind: row.kind as DatasetKind,
    vocabulary: row.kind === DatasetKind.TEXT ? row.vocabulary : null,
    task: row.task as Task,
    imageShape: row.imageShape.length > 0 ? row.imageShape : null,
    featureStats: row.featureStats as unknown as FeatureStatsValue[],
  }
}

/** What training reads of a dataset besides its packed columns. */
const CONTENT_DESCRIPTION = { ...ROW_SHAPE, text: true } satisfies Prisma.DatasetSelect

/** What training reads of a dataset: the rows and what describes them. */
const CONTENT = {
  ...CONTENT_DESCRIPTION,
  features: true,
  targets: true,
  factors: true,
} satisfies Prisma.DatasetSelect

type ContentRow = Prisma.DatasetGetPayload<{ select: typeof CONTENT }>

function toContent(row: ContentRow): DatasetContent {
  const [height, width] = row.imageShape
  return {
    task: row.task as Task,
    featureNames: row.featureNames,
    targetName: row.targetName,
    rowCount: row.rowCount,
    features: fromBytes(row.features),
    targets: fromBytes(row.targets),
    factorNames: row.factorNames,
    factors: row.factors ? fromBytes(row.factors) : new Float64Array(0),
    imageShape: height !== undefined && width !== undefined ? [height, width] : null,
    ...(row.text !== null
      ? { text: { text: row.text, vocabulary: row.vocabulary, minCount: row.minCount ?? 1 } }
      : {}),
  }
}

type PackedColumns = Pick<ContentRow, 'features' | 'targets' | 'factors'>

/**
 * The packed columns of a run's dataset, as base64 text decoded here: pg would hand bytea over as hex (twice the
 * bytes, decoded slower), and its binary result format decodes every value as a UTF-8 string.
 */
async function readPackedOfRun(db: Db, runId: string): Promise<PackedColumns | null> {
  const { rows } = await poolOf(db).query<{ features: string; targets: string; factors: string | null }>(
    `SELECT encode(d.features, 'base64') AS features, encode(d.targets, 'base64') AS targets,
            encode(d.factors, 'base64') AS factors
       FROM "Dataset" d JOIN "Run" r ON r."datasetId" = d.id
      WHERE r.id = $1::uuid`,
    [runId],
  )
  const row = rows[0]
  if (!row) return null
  // PostgreSQL breaks base64 into lines; Node's decoder skips the newlines.
  const decode = (text: string) => new Uint8Array(Buffer.from(text, 'base64'))
  return {
    features: decode(row.features),
    targets: decode(row.targets),
    factors: row.factors === null ? null : decode(row.factors),
  }
}

export class DatasetRepository {
  constructor(private readonly db: Db) {}

  async findById(id: string): Promise<DatasetRecord | null> {
    const row = await this.db.dataset.findUnique({ where: { id }, select: DESCRIPTION })
    return row && toRecord(row)
  }

  async findManyByIds(ids: readonly string[]): Promise<DatasetRecord[]> {
    const rows = await this.db.dataset.findMany({ where: { id: { in: [...ids] } }, select: DESCRIPTION })
    return rows.map(toRecord)
  }

  /** The rows, for training. */
  async findContent(id: string): Promise<DatasetContent | null> {
    const row = await this.db.dataset.findUnique({ where: { id }, select: CONTENT })
    return row && toContent(row)
  }

  /**
   * The rows of a run's dataset: a trainer reads them while it claims the run, before it knows the dataset. The
   * packed columns are read as base64 text, beside Prisma's read of the rest: through Prisma the same read
   * costs about 2.7x more (5,000 x 20 random rows: 49 against 18 ms, median of 15, at load 14). Both reads see
   * the same values: a dataset's rows never change after its import.
   */
  async findContentOfRun(runId: string): Promise<DatasetContent | null> {
    const [run, packed] = await Promise.all([
      this.db.run.findUnique({ where: { id: runId }, select: { dataset: { select: CONTENT_DESCRIPTION } } }),
      readPackedOfRun(this.db, runId),
    ])
    return run && packed ? toContent({ ...run.dataset, ...packed }) : null
  }

  /**
   * Rows offset .. offset + count - 1 of a table, cut out of the packed columns by the database (a preview
   * never reads the whole 16 MB value). The caller has checked the range against rowCount.
   */
  async findRows(
    id: string,
    range: { offset: number; count: number; featureCount: number; factorCount: number },
  ): Promise<{ features: Float64Array; targets: Float64Array; factors: Float64Array } | null> {
    const { offset, count, featureCount, factorCount } = range
    const slice = (width: number) => ({ from: offset * width * 8 + 1, length: count * width * 8 })
    const [f, t, k] = [slice(featureCount), slice(1), slice(factorCount)]
    const [row] = await this.db.$queryRaw<
      { features: Uint8Array | null; targets: Uint8Array | null; factors: Uint8Array | null }[]
    >`SELECT substring(features FROM ${f.from}::int FOR ${f.length}::int) AS features,
             substring(targets FROM ${t.from}::int FOR ${t.length}::int) AS targets,
             substring(factors FROM ${k.from}::int FOR ${k.length}::int) AS factors
        FROM "Dataset" WHERE id = ${id}::uuid`
    if (!row) return null
    const unpack = (bytes: Uint8Array | null) => (bytes ? fromBytes(bytes) : new Float64Array(0))
    return { features: unpack(row.features), targets: unpack(row.targets), factors: unpack(row.factors) }
  }

  async list(page: PageArgs): Promise<Page<DatasetRecord>> {
    const [rows, totalCount] = await Promise.all([
      this.db.dataset.findMany({
        where: keysetWhere(page.after),
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.first + 1,
        select: DESCRIPTION,
      }),
      this.db.dataset.count(),
    ])
    return pageOf(rows, page.first, totalCount, toRecord)
  }

  /**
   * Stores content under a name: the existing version when the same content is there already,
   * else the next version. Serialised per name with a transaction-scoped advisory lock so two
   * concurrent imports cannot take the same version number.
   */
  async saveVersion(
    name: string,
    content: DatasetContent,
    hash: string,
    stats: FeatureStatsValue[],
    source: DatasetSource,
  ): Promise<{ dataset: DatasetRecord; created: boolean }> {
    return this.db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('dataset:' || ${name}))`
        const existing = await tx.dataset.findUnique({
          where: { name_contentHash: { name, contentHash: hash } },
          select: DESCRIPTION,
        })
        if (existing) return { dataset: toRecord(existing), created: false }
        const latest = await tx.dataset.aggregate({ where: { name }, _max: { version: true } })
        const row = await tx.dataset.create({
          data: {
            name,
            version: (latest._max.version ?? 0) + 1,
            kind: content.text ? DatasetKind.TEXT : DatasetKind.TABLE,
            text: content.text?.text ?? null,
            vocabulary: content.text?.vocabulary ?? [],
            minCount: content.text?.minCount ?? null,
            task: content.task,
            featureNames: content.featureNames,
            targetName: content.targetName,
            rowCount: content.rowCount,
            contentHash: hash,
            featureStats: stats as unknown as Prisma.InputJsonValue,
            features: toBytes(content.features),
            targets: toBytes(content.targets),
            factorNames: content.factorNames,
            factors: content.factorNames.length > 0 ? toBytes(content.factors) : null,
            imageShape: content.imageShape ?? [],
            source: source as Prisma.InputJsonValue,
          },
          select: DESCRIPTION,
        })
        return { dataset: toRecord(row), created: true }
      },
      { timeout: 60_000, maxWait: 10_000 },
    )
  }

  /** Deletes unless runs or sweeps use the dataset; checked and deleted in one transaction. */
  async delete(id: string): Promise<'deleted' | 'not_found' | 'in_use'> {
    return this.db.$transaction(async (tx) => {
      const found = await tx.$queryRaw<
        { id: string }[]
      >`SELECT id FROM "Dataset" WHERE id = ${id}::uuid FOR UPDATE`
      if (found.length === 0) return 'not_found'
      const [runs, sweeps] = await Promise.all([
        tx.run.count({ where: { datasetId: id } }),
        tx.sweep.count({ where: { datasetId: id } }),
      ])
      if (runs + sweeps > 0) return 'in_use'
      await tx.dataset.delete({ where: { id } })
      return 'deleted'
    })
  }
}
