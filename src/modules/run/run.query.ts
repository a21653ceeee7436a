import { Prisma } from '../../generated/prisma/client'
import { badInput } from '../../errors'
import { isId } from '../common/ids'
import { isStorableDate } from '../common/page'
import { checkMetricName } from './run.metrics'
import type { RunFilter, RunOrder } from './run.filter'

/** Column of each sortable field (the GraphQL enum values, kept as strings here: no GraphQL import). */
const COLUMNS = {
  CREATED_AT: 'createdAt',
  STARTED_AT: 'startedAt',
  FINISHED_AT: 'finishedAt',
  NAME: 'name',
  STATUS: 'status',
  FINAL_LOSS: 'finalLoss',
  FINAL_VAL_LOSS: 'finalValLoss',
  BEST_VAL_LOSS: 'bestValLoss',
  BEST_EPOCH: 'bestEpoch',
  FINAL_ACCURACY: 'finalAccuracy',
  FINAL_VAL_ACCURACY: 'finalValAccuracy',
  LAST_EPOCH: 'lastEpoch',
  LEARNING_RATE: 'learningRate',
  BATCH_SIZE: 'batchSize',
  EPOCHS: 'epochs',
  VALIDATION_SPLIT: 'validationSplit',
  SEED: 'seed',
} as const

type Column = (typeof COLUMNS)[keyof typeof COLUMNS] | 'id' | 'metric'
const DATE_COLUMNS: ReadonlySet<Column> = new Set(['createdAt', 'startedAt', 'finishedAt'])
const INT_COLUMNS: ReadonlySet<Column> = new Set(['bestEpoch', 'lastEpoch', 'batchSize', 'epochs', 'seed'])
const STATUSES: ReadonlySet<unknown> = new Set(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'])
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/

/** Whether a cursor value can be compared with the column in SQL (a tampered cursor must not reach it). */
function fitsColumn(column: Column, v: unknown): boolean {
  if (DATE_COLUMNS.has(column)) return typeof v === 'string' && isStorableDate(new Date(v))
  if (column === 'id') return typeof v === 'string' && isId(v)
  if (column === 'status') return STATUSES.has(v)
  if (column === 'name') return typeof v === 'string' && v.length <= 1_000 && !CONTROL.test(v)
  if (typeof v !== 'number' || !Number.isFinite(v)) return false
  if (column === 'metric') return true
  return !INT_COLUMNS.has(column) || (Number.isInteger(v) && Math.abs(v) <= 2 ** 31 - 1)
}
const NULLABLE_COLUMNS: ReadonlySet<Column> = new Set([
  'startedAt',
  'finishedAt',
  'finalLoss',
  'finalValLoss',
  'bestValLoss',
  'bestEpoch',
  'finalAccuracy',
  'finalValAccuracy',
])

export interface SortKey {
  column: Column
  desc: boolean
  /** For column 'metric': the metric's name (its final value, in Run.finalMetrics). */
  metric?: string
}

/** Name of a key in cursors and de-duplication: the column, or metric:<name>. */
const keyName = (k: SortKey): string => (k.column === 'metric' ? `metric:${k.metric}` : k.column)

/** Whether the order needs a named metric (those are sorted outside SQL, see RunRepository.query). */
export const ordersByMetric = (keys: readonly SortKey[]): boolean => keys.some((k) => k.column === 'metric')

/** Most nesting of and / or / not a filter may have. */
const MAX_FILTER_DEPTH = 8

type Range = { min?: number | null; max?: number | null } | null | undefined

function range(r: Range, field: string): Prisma.FloatFilter | Prisma.IntFilter | undefined {
  if (!r) return undefined
  const { min, max } = r
  if (min != null && max != null && min > max) throw badInput(`${field}: min is above max`, { field })
  return { ...(min != null ? { gte: min } : {}), ...(max != null ? { lte: max } : {}) }
}

/** An id compared with a uuid column: anything else would fail in PostgreSQL, not match nothing. */
function uuid(id: string, field: string): string {
  if (!isId(id)) throw badInput(`${field} is not a valid id`, { field })
  return id
}

/** Translates a typed GraphQL filter to a Prisma `where`. */
export function runWhere(filter: RunFilter | null | undefined, depth = 0): Prisma.RunWhereInput {
  if (!filter) return {}
  if (depth > MAX_FILTER_DEPTH) throw badInput(`filters nest at most ${MAX_FILTER_DEPTH} levels deep`)
  const f = filter
  const and: Prisma.RunWhereInput[] = []
  const add = (w: Prisma.RunWhereInput | false | undefined) => {
    if (w) and.push(w)
  }
  add(f.experiment != null && { experiment: { name: f.experiment } })
  add(f.status != null && { status: { in: f.status } })
  add(f.datasetId != null && { datasetId: uuid(f.datasetId, 'datasetId') })
  add(f.sweepId != null && { sweepId: uuid(f.sweepId, 'sweepId') })
  add(f.tags != null && f.tags.length > 0 && { tags: { hasEvery: f.tags } })
  add(f.nameContains != null && { name: { contains: f.nameContains, mode: 'insensitive' } })
  add(f.family != null && { family: { in: f.family } })
  if (f.metric) {
    const name = checkMetricName(f.metric.name, 'metric.name')
    const bounds = range(f.metric, 'metric')
    add({
      finalMetrics: {
        path: [name],
        ...bounds,
        ...(bounds && Object.keys(bounds).length > 0 ? {} : { not: Prisma.AnyNull }),
      },
    })
  }
  add(f.activation != null && { activation: { in: f.activation } })
  add(f.optimizer != null && { optimizer: { in: f.optimizer } })
  const ranges: [Range, keyof Prisma.RunWhereInput][] = [
    [f.learningRate, 'learningRate'],
    [f.batchSize, 'batchSize'],
    [f.epochs, 'epochs'],
    [f.validationSplit, 'validationSplit'],
    [f.seed, 'seed'],
    [f.latentDim, 'latentDim'],
    [f.beta, 'beta'],
    [f.finalLoss, 'finalLoss'],
    [f.finalValLoss, 'finalValLoss'],
    [f.bestValLoss, 'bestValLoss'],
    [f.bestEpoch, 'bestEpoch'],
    [f.finalAccuracy, 'finalAccuracy'],
    [f.finalValAccuracy, 'finalValAccuracy'],
  ]
  for (const [r, column] of ranges) {
    const cond = range(r, column)
    if (cond) add({ [column]: cond })
  }
  if (f.createdAt) {
    const { from, to } = f.createdAt
    add({ createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) } })
  }
  if (f.and) for (const sub of f.and) add(runWhere(sub, depth + 1))
  if (f.or) add({ OR: f.or.map((sub) => runWhere(sub, depth + 1)) })
  if (f.not) add({ NOT: runWhere(f.not, depth + 1) })
  return and.length === 0 ? {} : and.length === 1 ? and[0]! : { AND: and }
}

/** The sort keys of a request: the asked-for fields, then id as the tie-breaker that makes order total. */
export function sortKeys(orderBy: readonly RunOrder[] | null | undefined): SortKey[] {
  const keys: SortKey[] = (orderBy ?? []).map((o) => {
    const desc = o.direction === 'DESC'
    if ((o.field == null) === (o.metric == null)) {
      throw badInput('each orderBy entry takes exactly one of field and metric', { field: 'orderBy' })
    }
    if (o.metric != null)
      return { column: 'metric', metric: checkMetricName(o.metric, 'orderBy.metric'), desc }
    return { column: COLUMNS[o.field!], desc }
  })
  if (keys.length === 0) keys.push({ column: 'createdAt', desc: true })
  const seen = new Set<string>()
  const unique = keys.filter((k) => !seen.has(keyName(k)) && seen.add(keyName(k)))
  return [...unique, { column: 'id', desc: unique[0]?.desc ?? true }]
}

export function runOrderBy(keys: SortKey[]): Prisma.RunOrderByWithRelationInput[] {
  // Nulls (runs without that value yet) always last, whatever the direction.
  return keys.map((k) => ({
    [k.column]: NULLABLE_COLUMNS.has(k.column)
      ? { sort: k.desc ? 'desc' : 'asc', nulls: 'last' }
      : k.desc
        ? 'desc'
        : 'asc',
  }))
}

export type CursorValue = string | number | null

/** The value a row sorts by under a key: dates as ISO strings, a missing metric as null. */
export function sortValue(row: Record<string, unknown>, k: SortKey): CursorValue {
  if (k.column === 'metric') {
    const v = (row['finalMetrics'] as Record<string, unknown> | null | undefined)?.[k.metric!]
    return typeof v === 'number' ? v : null
  }
  const v = row[k.column]
  return v instanceof Date ? v.toISOString() : (v as CursorValue)
}

/** An opaque cursor holding the sort values of the last row of a page. */
export function encodeRunCursor(row: Record<string, unknown>, keys: SortKey[]): string {
  const values = keys.map((k) => sortValue(row, k))
  return Buffer.from(JSON.stringify({ k: keys.map(keyName), v: values })).toString('base64url')
}

/** Orders rows by the keys, nulls last whatever the direction (as runOrderBy does in SQL). */
export function compareBy(keys: readonly SortKey[]) {
  return (a: readonly CursorValue[], b: readonly CursorValue[]): number => {
    for (let i = 0; i < keys.length; i++) {
      const x = a[i] ?? null
      const y = b[i] ?? null
      if (x === y) continue
      if (x === null) return 1
      if (y === null) return -1
      const order = x < y ? -1 : 1
      return keys[i]!.desc ? -order : order
    }
    return 0
  }
}

export function decodeRunCursor(raw: string, keys: SortKey[]): CursorValue[] {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { k: unknown; v: unknown }
    const columns = keys.map(keyName)
    if (JSON.stringify(parsed.k) !== JSON.stringify(columns) || !Array.isArray(parsed.v)) throw new Error()
    const values = parsed.v as unknown[]
    if (values.length !== keys.length) throw new Error()
    // A tampered cursor must not reach the database as something other than a sort value.
    keys.forEach((k, i) => {
      const v = values[i]
      const ok =
        v === null ? NULLABLE_COLUMNS.has(k.column) || k.column === 'metric' : fitsColumn(k.column, v)
      if (!ok) throw new Error()
    })
    return values as CursorValue[]
  } catch {
    throw badInput('after is not a cursor of this ordering', { field: 'after' })
  }
}

/**
 * Rows strictly after the cursor in the given order: (a > v1) or (a = v1 and (b > v2 or ...)), with
 * nulls sorting last. Keyset, so pages stay stable while runs are added.
 */
export function afterCursor(keys: SortKey[], values: CursorValue[], i = 0): Prisma.RunWhereInput {
  const key = keys[i]!
  const raw = values[i] ?? null
  const value = raw !== null && DATE_COLUMNS.has(key.column) ? new Date(raw as string) : raw
  const isLast = i === keys.length - 1
  const rest = isLast ? undefined : afterCursor(keys, values, i + 1)
  if (value === null) {
    // Within the null block only later keys can order rows.
    return rest ? { AND: [{ [key.column]: null }, rest] } : { id: { in: [] } }
  }
  const beyond: Prisma.RunWhereInput = { [key.column]: key.desc ? { lt: value } : { gt: value } }
  const options: Prisma.RunWhereInput[] = [beyond]
  if (NULLABLE_COLUMNS.has(key.column)) options.push({ [key.column]: null })
  if (rest) options.push({ AND: [{ [key.column]: { equals: value } }, rest] })
  return { OR: options }
}
