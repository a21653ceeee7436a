/**
 * Dataset benchmarks against the real server running as `npm start` runs it (a child process):
 *
 * (a) `importCsvDataset` with a 100,000 x 20 CSV over HTTP: wall time of the request and the server's peak
 *     RSS above its idle RSS (from /proc/<pid>/status: VmRSS sampled every 20 ms, and VmHWM).
 *     Targets: under 10 s and under 300 MB above idle.
 * (b) `datasets(first: 100)` with 1,000 datasets stored: p50/p95/p99 over 200 queries, against
 *     `{ __typename }` on the same server in the same run (the cost of HTTP + Apollo alone).
 *
 * Run (compiled; the server needs decorator metadata): `npx tsc -p tsconfig.build.json && node
 * dist/bench/datasets.js [--quick] [--only a|b]`.
 */
import seedrandom from 'seedrandom'

import {
  BenchServer,
  Cleanups,
  fmt,
  gql,
  gqlBody,
  heading,
  loadLine,
  machineLine,
  mapLimit,
  mb,
  parseBenchArgs,
  percentile,
  printTable,
  procMemory,
  requireCompiled,
  runMain,
  sampleRss,
  sleep,
  startChildServer,
} from './support'

const IMPORT = `mutation($input: ImportCsvDatasetInput!) { importCsvDataset(input: $input) { id rowCount featureNames } }`
const CREATE = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`
const LIST = `query($after: String) { datasets(first: 100, after: $after) {
  totalCount
  edges { cursor node { id name version task rowCount featureNames targetName contentHash createdAt
    featureStats { name mean std min max } } }
  pageInfo { hasNextPage endCursor } } }`
const BASELINE = `{ __typename }`

export interface CsvImportResult {
  rows: number
  features: number
  csvMegabytes: number
  wallMs: number
  idleRssMb: number
  peakRssMb: number
  peakAboveIdleMb: number
}

export interface ListLatencyResult {
  datasets: number
  queries: number
  createMs: number
  rows: { query: string; p50: number; p95: number; p99: number; max: number }[]
}

/** A CSV of `rows` x `features` U[-1,1] cells (6 decimals) plus a target column, seeded. */
export function buildCsv(rows: number, features: number): string {
  const random = seedrandom.alea('csv-bench')
  const header = [...Array.from({ length: features }, (_, i) => `x${i + 1}`), 'y'].join(',')
  const lines = [header]
  for (let r = 0; r < rows; r++) {
    const cells: string[] = []
    let y = 0
    for (let c = 0; c < features; c++) {
      const v = 2 * random() - 1
      y += v * (c + 1)
      cells.push(v.toFixed(6))
    }
    cells.push(y.toFixed(6))
    lines.push(cells.join(','))
  }
  return lines.join('\n') + '\n'
}

async function importCsv(server: BenchServer, name: string, csv: string) {
  const body = JSON.stringify({
    query: IMPORT,
    variables: { input: { name, task: 'REGRESSION', csv, targetColumn: 'y' } },
  })
  const start = performance.now()
  const data = await gqlBody<{ importCsvDataset: { rowCount: number; featureNames: string[] } }>(
    server.url,
    body,
  )
  return { ms: performance.now() - start, dataset: data.importCsvDataset }
}

export async function measureCsvImport(
  server: BenchServer,
  rows: number,
  features = 20,
): Promise<CsvImportResult> {
  // Warm-up on a small file, so first-request costs (JIT, Prisma's query compiler) are not counted.
  await importCsv(server, 'csv-warmup', buildCsv(100, features))
  const csv = buildCsv(rows, features)
  await sleep(500)
  const idle = procMemory(server.pid)
  const sampler = sampleRss(server.pid, 20)
  const { ms, dataset } = await importCsv(server, 'csv-big', csv)
  const sampled = sampler.stop()
  const after = procMemory(server.pid)
  if (dataset.rowCount !== rows || dataset.featureNames.length !== features) {
    throw new Error(
      `imported ${dataset.rowCount} x ${dataset.featureNames.length}, expected ${rows} x ${features}`,
    )
  }
  // VmHWM is exact but covers the whole life of the process: it only tells about this request if it grew.
  const peak = after.hwm > idle.hwm ? Math.max(after.hwm, sampled) : sampled
  return {
    rows,
    features,
    csvMegabytes: mb(Buffer.byteLength(csv)),
    wallMs: ms,
    idleRssMb: mb(idle.rss),
    peakRssMb: mb(peak),
    peakAboveIdleMb: mb(peak - idle.rss),
  }
}

export async function measureListLatency(
  server: BenchServer,
  datasets: number,
  queries: number,
): Promise<ListLatencyResult> {
  const createStart = performance.now()
  await mapLimit(
    Array.from({ length: datasets }, (_, i) => i),
    8,
    (i) =>
      gql(server.url, CREATE, {
        input: {
          name: `list-${String(i).padStart(5, '0')}`,
          task: 'REGRESSION',
          featureNames: ['a', 'b', 'c'],
          rows: Array.from({ length: 10 }, (_, r) => [i, r, i * r]),
          targets: Array.from({ length: 10 }, (_, r) => i + r),
        },
      }),
  )
  const createMs = performance.now() - createStart

  // A cursor deep in the list: keyset pagination should make page 10 cost what page 1 costs.
  let after: string | null = null
  const skipPages = Math.max(0, Math.min(9, Math.floor(datasets / 100) - 1))
  for (let page = 0; page < skipPages; page++) {
    const data: { datasets: { pageInfo: { endCursor: string | null } } } = await gql(server.url, LIST, {
      after,
    })
    after = data.datasets.pageInfo.endCursor
  }

  const timed = async (
    query: string,
    variables: Record<string, unknown>,
    check?: (data: unknown) => void,
  ) => {
    const start = performance.now()
    const data = await gql(server.url, query, variables)
    const ms = performance.now() - start
    check?.(data)
    return ms
  }
  const fullPage = (data: unknown) => {
    const edges = (data as { datasets: { edges: unknown[] } }).datasets.edges
    if (edges.length !== 100) throw new Error(`datasets(first: 100) returned ${edges.length} edges`)
  }
  const variants: {
    label: string
    query: string
    variables: Record<string, unknown>
    check?: typeof fullPage
  }[] = [
    { label: '{ __typename } (baseline)', query: BASELINE, variables: {} },
    { label: 'datasets(first: 100)', query: LIST, variables: { after: null }, check: fullPage },
  ]
  if (after !== null) {
    variants.push({
      label: `datasets(first: 100, after: item ${skipPages * 100})`,
      query: LIST,
      variables: { after },
      check: fullPage,
    })
  }
  const samples = variants.map(() => [] as number[])
  // Warm-up, then the variants interleaved so that machine noise hits them alike.
  for (let i = 0; i < 20; i++) for (const v of variants) await timed(v.query, v.variables, v.check)
  for (let i = 0; i < queries; i++) {
    for (const [k, v] of variants.entries()) samples[k]?.push(await timed(v.query, v.variables, v.check))
  }
  return {
    datasets,
    queries,
    createMs,
    rows: variants.map((v, k) => {
      const s = samples[k] ?? []
      return {
        query: v.label,
        p50: percentile(s, 50),
        p95: percentile(s, 95),
        p99: percentile(s, 99),
        max: percentile(s, 100),
      }
    }),
  }
}

async function main(cleanups: Cleanups): Promise<void> {
  requireCompiled()
  const args = parseBenchArgs()
  const rows = args.quick ? 20_000 : 100_000
  const datasets = args.quick ? 200 : 1_000
  const queries = args.quick ? 100 : 200
  const want = (section: string) => args.only.length === 0 || args.only.includes(section)

  console.log(`# datasets benchmark${args.quick ? ' (--quick)' : ''}\n\n${machineLine()}`)
  const server = await startChildServer(cleanups, { LAB_WORKERS: '0' })
  console.log(`server: node dist/src/main.js, pid ${server.pid}, LAB_WORKERS=0`)

  if (want('a')) {
    heading(`(a) importCsvDataset, ${fmt(rows)} x 20 over HTTP (server in its own process)`)
    const r = await measureCsvImport(server, rows)
    printTable([
      {
        rows: fmt(r.rows),
        'CSV MB': fmt(r.csvMegabytes, 1),
        'wall s': fmt(r.wallMs / 1000, 2),
        'rows/s': fmt(r.rows / (r.wallMs / 1000)),
        'idle RSS MB': fmt(r.idleRssMb),
        'peak RSS MB': fmt(r.peakRssMb),
        'peak above idle MB': fmt(r.peakAboveIdleMb),
      },
    ])
    if (!args.quick) {
      console.log(
        `\ntargets: wall < 10 s ${r.wallMs < 10_000 ? 'met' : 'NOT met'}, ` +
          `peak above idle < 300 MB ${r.peakAboveIdleMb < 300 ? 'met' : 'NOT met'}`,
      )
    }
    console.log(loadLine())
  }

  if (want('b')) {
    heading(`(b) datasets(first: 100) with ${fmt(datasets)} datasets stored, ${queries} queries each, ms`)
    const r = await measureListLatency(server, datasets, queries)
    console.log(`created ${fmt(datasets)} datasets in ${fmt(r.createMs / 1000, 1)} s (8 in flight)\n`)
    const base = r.rows[0]
    printTable(
      r.rows.map((row) => ({
        query: row.query,
        p50: fmt(row.p50, 1),
        p95: fmt(row.p95, 1),
        p99: fmt(row.p99, 1),
        max: fmt(row.max, 1),
        'p50 / baseline': base ? fmt(row.p50 / base.p50, 1) : '',
        'p99 / baseline': base ? fmt(row.p99 / base.p99, 1) : '',
      })),
    )
    console.log(loadLine())
  }
}

if (require.main === module) runMain(main)
