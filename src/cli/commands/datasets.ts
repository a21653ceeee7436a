import * as path from 'node:path'
import { DATASETS, DatasetView, IMPORT_CSV, IMPORT_TEXT, Task } from '../api'
import { Context, readInputFile, tableWidth } from '../context'
import { ExitCode, ServerError, UsageError } from '../errors'
import { collectPages } from '../paging'
import { formatDate, formatTable } from '../table'

/** `lab datasets`: every dataset, newest first. */
export async function listDatasets(ctx: Context, opts: { json?: boolean }): Promise<ExitCode> {
  const { items, totalCount } = await collectPages(
    async (first, after) => (await ctx.client.request(DATASETS, { first, after })).datasets,
    Infinity,
  )
  if (opts.json) {
    ctx.out(JSON.stringify({ totalCount, datasets: items }, null, 2))
    return ExitCode.OK
  }
  ctx.out(
    formatTable(
      [
        { header: 'ID' },
        { header: 'NAME', shrink: true },
        { header: 'VERSION', align: 'right' },
        { header: 'TASK' },
        { header: 'ROWS', align: 'right' },
        { header: 'FEATURES', align: 'right' },
        { header: 'TARGET', shrink: true },
        { header: 'FACTORS', shrink: true },
        { header: 'CREATED' },
      ],
      items.map((d) => [
        d.id,
        d.name,
        String(d.version),
        d.task.toLowerCase(),
        String(d.rowCount),
        d.vocabulary
          ? `text (${d.vocabulary.length} chars)`
          : d.imageShape
            ? `${d.featureNames.length} (${d.imageShape.join('x')})`
            : String(d.featureNames.length),
        d.targetName ?? '-',
        d.factorNames.length > 0 ? d.factorNames.join(',') : '-',
        formatDate(d.createdAt),
      ]),
      tableWidth(ctx.io),
    ),
  )
  return ExitCode.OK
}

/** Parses `--task`: the API's enum, in any case, `binary` for short. */
export function parseTask(value: string): Task {
  const v = value.toLowerCase().replace(/-/g, '_')
  if (v === 'regression') return 'REGRESSION'
  if (v === 'binary_classification' || v === 'binary' || v === 'classification')
    return 'BINARY_CLASSIFICATION'
  if (v === 'unsupervised') return 'UNSUPERVISED'
  throw new UsageError(`--task must be regression, binary_classification or unsupervised, not ${value}`)
}

/** Parses `--min-count`: a positive integer. */
export function parseMinCount(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--min-count must be a positive integer, not ${value}`)
  }
  return n
}

/**
 * `lab dataset import file.csv --target y [--factor c ...]`: uploads a CSV as a new dataset (version).
 * `--task unsupervised` takes no `--target`; every other task needs one.
 * `lab dataset import corpus.txt --text [--min-count n]`: uploads a UTF-8 file as a TEXT dataset.
 */
export async function importDataset(
  ctx: Context,
  file: string,
  opts: {
    target?: string
    factor?: string[]
    name?: string
    task?: Task
    text?: boolean
    minCount?: number
    json?: boolean
  },
): Promise<ExitCode> {
  if (opts.text) return importText(ctx, file, opts)
  if (opts.minCount !== undefined) throw new UsageError('--min-count applies to --text imports only')
  const task = opts.task ?? 'REGRESSION'
  if (task === 'UNSUPERVISED' && opts.target !== undefined) {
    throw new UsageError('--task unsupervised takes no --target: an unsupervised dataset has no target')
  }
  if (task !== 'UNSUPERVISED' && opts.target === undefined) {
    throw new UsageError(
      `--target <column> is required for --task ${task.toLowerCase()} (or use --task unsupervised)`,
    )
  }
  const csv = await readInputFile(ctx, file)
  const name = opts.name ?? path.basename(file, path.extname(file))
  const factors = opts.factor ?? []
  let dataset: DatasetView
  try {
    dataset = (
      await ctx.client.request(IMPORT_CSV, {
        input: {
          name,
          task,
          csv,
          ...(opts.target !== undefined ? { targetColumn: opts.target } : {}),
          ...(factors.length > 0 ? { factorColumns: factors } : {}),
        },
      })
    ).importCsvDataset
  } catch (err) {
    // The server's CSV messages name a line; say which file it is in.
    if (err instanceof ServerError && err.code === 'BAD_USER_INPUT') {
      throw new ServerError(err.code, `${file}: ${err.message}`, err.details)
    }
    throw err
  }
  return printImported(ctx, dataset, opts.json)
}

async function importText(
  ctx: Context,
  file: string,
  opts: { target?: string; factor?: string[]; name?: string; task?: Task; minCount?: number; json?: boolean },
): Promise<ExitCode> {
  if (opts.target !== undefined || (opts.factor ?? []).length > 0 || opts.task !== undefined) {
    throw new UsageError(
      '--text takes no --target, --factor or --task: a text dataset is a corpus of characters',
    )
  }
  const text = await readInputFile(ctx, file)
  const name = opts.name ?? path.basename(file, path.extname(file))
  let dataset: DatasetView
  try {
    dataset = (
      await ctx.client.request(IMPORT_TEXT, {
        input: { name, text, ...(opts.minCount !== undefined ? { minCount: opts.minCount } : {}) },
      })
    ).importTextDataset
  } catch (err) {
    if (err instanceof ServerError && (err.code === 'BAD_USER_INPUT' || err.code === 'PAYLOAD_TOO_LARGE')) {
      throw new ServerError(err.code, `${file}: ${err.message}`, err.details)
    }
    throw err
  }
  return printImported(ctx, dataset, opts.json)
}

function printImported(ctx: Context, dataset: DatasetView, json: boolean | undefined): ExitCode {
  if (json) {
    ctx.out(JSON.stringify(dataset, null, 2))
    return ExitCode.OK
  }
  ctx.out(
    formatTable(
      [
        { header: 'ID' },
        { header: 'NAME' },
        { header: 'VERSION', align: 'right' },
        { header: 'ROWS', align: 'right' },
      ],
      [[dataset.id, dataset.name, String(dataset.version), String(dataset.rowCount)]],
    ),
  )
  return ExitCode.OK
}
