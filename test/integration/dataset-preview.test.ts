import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'

// Dataset.preview: a page of the stored rows, cut out of the packed columns by the database.
const PREVIEW = `query($id: ID!, $first: Int, $offset: Int) {
  dataset(id: $id) { rowCount preview(first: $first, offset: $offset) { index features target factors } }
}`

interface Row {
  index: number
  features: number[]
  target: number | null
  factors: number[]
}

let t: TestLab
const code = (res: GqlResponse) => res.errors?.[0]?.extensions?.code
const field = (res: GqlResponse) => res.errors?.[0]?.extensions?.['field']

beforeAll(async () => {
  t = await startTestLab()
})
afterAll(async () => {
  await t?.stop()
})

const preview = (id: string, first?: number, offset?: number) =>
  t.gql<{ dataset: { rowCount: number; preview: Row[] } }>(PREVIEW, { id, first, offset })

async function create(input: Record<string, unknown>): Promise<string> {
  const res = await t.gql<{ createDataset: { id: string } }>(
    `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
    { input },
  )
  if (res.errors) throw new Error(JSON.stringify(res.errors))
  return res.data!.createDataset.id
}

// 25 rows of 3 features whose values name their row and column, a target, and two factors.
const ROWS = Array.from({ length: 25 }, (_, i) => [i + 0.1, i + 0.2, -i - 0.3])
const TARGETS = ROWS.map((_, i) => i * 10)
const FACTORS = [
  { name: 'f1', values: ROWS.map((_, i) => i % 3) },
  { name: 'f2', values: ROWS.map((_, i) => i / 4) },
]

describe('Dataset.preview', () => {
  let id: string
  beforeAll(async () => {
    id = await create({
      name: 'preview-table',
      task: 'REGRESSION',
      featureNames: ['a', 'b', 'c'],
      rows: ROWS,
      targets: TARGETS,
      factors: FACTORS,
    })
  })

  it('returns the stored rows of the page asked for, with their targets and factors', async () => {
    const res = await preview(id, 4, 7)
    expect(res.errors).toBeUndefined()
    expect(res.data!.dataset.preview).toEqual(
      [7, 8, 9, 10].map((i) => ({
        index: i,
        features: ROWS[i],
        target: TARGETS[i],
        factors: [FACTORS[0]!.values[i], FACTORS[1]!.values[i]],
      })),
    )
  })

  it('defaults to the first 10 rows, and a page past the end holds what is left', async () => {
    const first = (await preview(id)).data!.dataset.preview
    expect(first.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(first[9]!.features).toEqual(ROWS[9])
    const tail = (await preview(id, 100, 22)).data!.dataset.preview
    expect(tail.map((r) => r.index)).toEqual([22, 23, 24])
    expect(tail[2]!.features).toEqual(ROWS[24])
    expect((await preview(id, 5, 25)).data!.dataset.preview).toEqual([])
  })

  it.each([
    ['first 0', 0, undefined, 'first'],
    ['first 101', 101, undefined, 'first'],
    ['a negative offset', 5, -1, 'offset'],
    ['an offset past the rows', 5, 26, 'offset'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_, first, offset, name) => {
    const res = await preview(id, first, offset)
    expect(code(res)).toBe('BAD_USER_INPUT')
    expect(field(res)).toBe(name)
  })

  it('gives an unsupervised image dataset its pixels and no target', async () => {
    const res = await t.gql<{ generateDataset: { id: string } }>(
      `mutation { generateDataset(input: { name: "preview-sprites", generator: SPRITES, rows: 12, seed: 1 }) { id } }`,
    )
    const sprites = (await preview(res.data!.generateDataset.id, 2)).data!.dataset.preview
    expect(sprites).toHaveLength(2)
    for (const row of sprites) {
      expect(row.target).toBeNull()
      expect(row.features).toHaveLength(256)
      expect(Math.min(...row.features)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...row.features)).toBeLessThanOrEqual(1)
      // One white shape on black: some pixels are lit.
      expect(row.features.filter((v) => v > 0.5).length).toBeGreaterThan(4)
      expect(row.factors).toHaveLength(4)
    }
  })

  it('refuses a TEXT dataset, which has no table rows', async () => {
    const made = await t.gql<{ importTextDataset: { id: string } }>(
      `mutation { importTextDataset(input: { name: "preview-text", text: "abcabcabc" }) { id } }`,
    )
    const res = await preview(made.data!.importTextDataset.id)
    expect(code(res)).toBe('BAD_USER_INPUT')
    expect(res.errors![0]!.message).toMatch(/TEXT dataset/)
  })
})
