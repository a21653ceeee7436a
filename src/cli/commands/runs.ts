import { RUN_ORDER_FIELDS, RUN_STATUSES, RunFilter, RunOrder, RunStatus, RUNS, RunView } from '../api'
import { Context, tableWidth } from '../context'
import { ExitCode, UsageError } from '../errors'
import { collectPages } from '../paging'
import { formatDate, formatNumber, formatTable } from '../table'

/** `lab runs` without `--limit`. */
export const DEFAULT_LIMIT = 20

export interface RunsOptions {
  experiment?: string
  status?: RunStatus[]
  tag?: string[]
  sort?: RunOrder[]
  limit?: number
  json?: boolean
}

/** Parses `--status running,failed` (any case, comma-separated). */
export function parseStatuses(value: string): RunStatus[] {
  const out: RunStatus[] = []
  for (const part of value.split(',')) {
    const upper = part.trim().toUpperCase()
    if (upper === '') continue
    const status = RUN_STATUSES.find((s) => s === upper)
    if (status === undefined) {
      throw new UsageError(
        `unknown status ${part.trim()} (one of: ${RUN_STATUSES.map((s) => s.toLowerCase()).join(', ')})`,
      )
    }
    if (!out.includes(status)) out.push(status)
  }
  if (out.length === 0) throw new UsageError('--status needs at least one status')
  return out
}

const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, '')

/**
 * Parses `--sort FIELD[:asc|desc]`. FIELD is a RunOrderField in any spelling (`final_val_loss`,
 * `finalValLoss`, `FINAL_VAL_LOSS`), or `created`. Without a direction, creation time sorts newest first
 * and everything else ascending (lowest loss first).
 */
export function parseSort(value: string): RunOrder {
  const [rawField = '', rawDirection, ...rest] = value.split(':')
  const wanted = squash(rawField.trim()) === 'created' ? 'createdat' : squash(rawField.trim())
  const field = RUN_ORDER_FIELDS.find((f) => squash(f) === wanted)
  if (field === undefined || rest.length > 0) {
    throw new UsageError(
      `cannot sort by ${value}: use FIELD[:asc|desc] with FIELD one of ${RUN_ORDER_FIELDS.map((f) => f.toLowerCase()).join(', ')}`,
    )
  }
  if (rawDirection === undefined) return { field, direction: field === 'CREATED_AT' ? 'DESC' : 'ASC' }
  const direction = rawDirection.trim().toUpperCase()
  if (direction !== 'ASC' && direction !== 'DESC') {
    throw new UsageError(`sort direction must be asc or desc, not ${rawDirection}`)
  }
  return { field, direction }
}

/** Parses `--limit`: a positive integer. */
export function parseLimit(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit must be a positive integer, not ${value}`)
  return n
}

/** `lab runs`: a filtered, sorted table of runs (or JSON). */
export async function listRuns(ctx: Context, opts: RunsOptions): Promise<ExitCode> {
  const filter: RunFilter = {}
  if (opts.experiment !== undefined) filter.experiment = opts.experiment
  if (opts.status !== undefined) filter.status = opts.status
  if (opts.tag !== undefined && opts.tag.length > 0) filter.tags = opts.tag
  const { items, totalCount } = await collectPages(
    async (first, after) =>
      (
        await ctx.client.request(RUNS, {
          ...(Object.keys(filter).length > 0 ? { filter } : {}),
          ...(opts.sort !== undefined && opts.sort.length > 0 ? { orderBy: opts.sort } : {}),
          first,
          after,
        })
      ).runs,
    opts.limit ?? DEFAULT_LIMIT,
  )
  if (opts.json) {
    ctx.out(JSON.stringify({ totalCount, runs: items }, null, 2))
    return ExitCode.OK
  }
  ctx.out(runsTable(items, tableWidth(ctx.io)))
  if (items.length < totalCount) ctx.err(`${items.length} of ${totalCount} runs (--limit N for more)`)
  return ExitCode.OK
}

/**
 * The runs table: one line per run, newest data a script might want first. FAMILY (MLP or VAE) comes
 * last, so the columns before it stay where scripts written before VAEs expect them.
 */
export function runsTable(runs: RunView[], opts: { maxWidth?: number } = {}): string {
  return formatTable(
    [
      { header: 'ID' },
      { header: 'NAME', shrink: true },
      { header: 'EXPERIMENT', shrink: true },
      { header: 'STATUS' },
      { header: 'EPOCHS', align: 'right' },
      { header: 'LOSS', align: 'right' },
      { header: 'VAL LOSS', align: 'right' },
      { header: 'CREATED' },
      { header: 'FAMILY' },
    ],
    runs.map((r) => [
      r.id,
      r.name,
      r.experiment.name,
      r.status,
      `${r.lastEpoch}/${r.epochs}`,
      formatNumber(r.summary.finalLoss),
      formatNumber(r.summary.finalValLoss),
      formatDate(r.createdAt),
      r.family,
    ]),
    opts,
  )
}
