import { closeDb, createDb, type Db } from '../../src/db/client'
import { DatasetRepository } from '../../src/modules/dataset/dataset.repository'
import { startTestLab, type TestLab } from '../helpers/lab'

// What a trainer reads for a run (findContentOfRun: the packed columns in pg's binary format) must be exactly
// what the dataset holds (findContent, all through Prisma), for tables with and without factors and for text.
let t: TestLab
let db: Db
let repo: DatasetRepository

beforeAll(async () => {
  t = await startTestLab({ LAB_WORKERS: '0' })
  db = createDb(t.databaseUrl, { max: 3 })
  repo = new DatasetRepository(db)
}, 120_000)

afterAll(async () => {
  if (db) await closeDb(db)
  await t?.stop()
})

async function generate(input: Record<string, unknown>): Promise<string> {
  const res = await t.gql<{ generateDataset: { id: string } }>(
    `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
    { input },
  )
  if (!res.data) throw new Error(JSON.stringify(res.errors))
  return res.data.generateDataset.id
}

/** A QUEUED run of the dataset (no trainer here takes it). */
async function queueRun(input: Record<string, unknown>): Promise<string> {
  const res = await t.gql<{ startRun: { id: string } }>(
    `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
    { input: { epochs: 1, explain: [], ...input } },
  )
  if (!res.data) throw new Error(JSON.stringify(res.errors))
  return res.data.startRun.id
}

it.each([
  ['a regression table', { generator: 'FRIEDMAN1', rows: 300, seed: 1 }, {}],
  ['a table with factors', { generator: 'LATENT_LINEAR', rows: 200, seed: 2 }, { family: 'VAE' }],
  ['a text corpus', { generator: 'COPY_TEXT', rows: 2000, seed: 3 }, { family: 'SEQUENCE' }],
])('reads the same rows for a run as the dataset holds: %s', async (name, generator, run) => {
  const datasetId = await generate({ name, ...generator })
  const runId = await queueRun({ datasetId, ...run })
  const expected = await repo.findContent(datasetId)
  const read = await repo.findContentOfRun(runId)
  expect(expected).not.toBeNull()
  expect(read).toEqual(expected)
  expect(read!.features).toBeInstanceOf(Float64Array)
  expect(read!.features.length).toBe(expected!.text ? 0 : expected!.rowCount * expected!.featureNames.length)
  expect(read!.factors.length > 0).toBe(generator.generator === 'LATENT_LINEAR')
})

it('finds nothing for a run that does not exist', async () => {
  expect(await repo.findContentOfRun('00000000-0000-4000-8000-000000000000')).toBeNull()
})
