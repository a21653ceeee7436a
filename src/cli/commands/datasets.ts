import * as path from 'node:path'
import { DATASETS, DatasetView, IMPORT_CSV, Task } from '../api'
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
        { header: 'CREATED' },
      ],
      items.map((d) => [
        d.id,
        d.name,
        String(d.version),
        d.task.toLowerCase(),
        String(d.rowCount),
        String(d.featureNames.length),
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
  throw new UsageError(`--task must be regression or binary_classification, not ${value}`)
}

/** `lab dataset import file.csv --target y`: uploads a CSV as a new dataset (version). */
export async function importDataset(
  ctx: Context,
  file: string,
  opts: { target: string; name?: string; task?: Task; json?: boolean },
): Promise<ExitCode> {
  const csv = await readInputFile(ctx, file)
  const name = opts.name ?? path.basename(file, path.extname(file))
  let dataset: DatasetView
  try {
    dataset = (
      await ctx.client.request(IMPORT_CSV, {
        input: { name, task: opts.task ?? 'REGRESSION', csv, targetColumn: opts.target },
      })
    ).importCsvDataset
  } catch (err) {
    // The server's CSV messages name a line; say which file it is in.
    if (err instanceof ServerError && err.code === 'BAD_USER_INPUT') {
      throw new ServerError(err.code, `${file}: ${err.message}`, err.details)
    }
    throw err
  }
  if (opts.json) {
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
