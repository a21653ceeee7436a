import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'

const DATASET_FIELDS = `id name version task featureNames targetName rowCount contentHash createdAt
  featureStats { name mean std min max }`

interface DatasetView {
  id: string
  name: string
  version: number
  task: string
  featureNames: string[]
  targetName: string
  rowCount: number
  contentHash: string
  createdAt: string
  featureStats: { name: string; mean: number; std: number; min: number; max: number }[]
}

const CREATE = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { ${DATASET_FIELDS} } }`
const IMPORT = `mutation($input: ImportCsvDatasetInput!) { importCsvDataset(input: $input) { ${DATASET_FIELDS} } }`
const GENERATE = `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { ${DATASET_FIELDS} } }`
const COUNT = `{ datasets(first: 1) { totalCount } }`

let t: TestLab

beforeAll(async () => {
  t = await startTestLab()
})
afterAll(async () => {
  await t?.stop()
})

async function totalCount(): Promise<number> {
  const res = await t.gql<{ datasets: { totalCount: number } }>(COUNT)
  return res.data!.datasets.totalCount
}

function errorCode(res: GqlResponse): string | undefined {
  return res.errors?.[0]?.extensions?.code
}

describe('createDataset', () => {
  const input = {
    name: 'tiny',
    task: 'REGRESSION',
    featureNames: ['a', 'b'],
    rows: [
      [1, 10],
      [2, 20],
      [3, 60],
    ],
    targets: [0.5, 1.5, 2.5],
  }

  it('stores the dataset with its statistics and a content hash', async () => {
    const res = await t.gql<{ createDataset: DatasetView }>(CREATE, { input })
    expect(res.errors).toBeUndefined()
    const d = res.data!.createDataset
    expect(d).toMatchObject({
      name: 'tiny',
      version: 1,
      task: 'REGRESSION',
      targetName: 'target',
      rowCount: 3,
    })
    expect(d.featureNames).toEqual(['a', 'b'])
    expect(d.contentHash).toMatch(/^[0-9a-f]{64}$/)
    const [a, b] = d.featureStats
    expect(a).toMatchObject({ name: 'a', min: 1, max: 3 })
    expect(a!.mean).toBeCloseTo(2, 12)
    expect(a!.std).toBeCloseTo(Math.sqrt(2 / 3), 12)
    expect(b!.mean).toBeCloseTo(30, 12)
    const fetched = await t.gql<{ dataset: DatasetView }>(
      `query($id: ID!) { dataset(id: $id) { ${DATASET_FIELDS} } }`,
      {
        id: d.id,
      },
    )
    expect(fetched.data!.dataset).toEqual(d)
  })

  it('returns the existing dataset for the same name and content, a new version for new content', async () => {
    const first = (
      await t.gql<{ createDataset: DatasetView }>(CREATE, { input: { ...input, name: 'versioned' } })
    ).data!.createDataset
    const again = (
      await t.gql<{ createDataset: DatasetView }>(CREATE, { input: { ...input, name: 'versioned' } })
    ).data!.createDataset
    expect(again.id).toBe(first.id)
    expect(again.version).toBe(1)
    const changed = (
      await t.gql<{ createDataset: DatasetView }>(CREATE, {
        input: { ...input, name: 'versioned', targets: [0.5, 1.5, 9] },
      })
    ).data!.createDataset
    expect(changed.id).not.toBe(first.id)
    expect(changed.version).toBe(2)
    expect(changed.contentHash).not.toBe(first.contentHash)
    // Going back to the first content finds version 1 again rather than making version 3.
    const back = (
      await t.gql<{ createDataset: DatasetView }>(CREATE, { input: { ...input, name: 'versioned' } })
    ).data!.createDataset
    expect(back.id).toBe(first.id)
  })

  it('gives concurrent creations of new content under one name distinct versions', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((k) =>
        t.gql<{ createDataset: DatasetView }>(CREATE, {
          input: { ...input, name: 'concurrent', targets: [k, k, k] },
        }),
      ),
    )
    const versions = results.map((r) => r.data!.createDataset.version).sort()
    expect(versions).toEqual([1, 2, 3, 4])
  })

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['ragged rows', { rows: [[1, 2], [3]], targets: [1, 2] }, /row 1 has 1 values/],
    ['wrong target count', { targets: [1, 2] }, /targets has 2 values but there are 3 rows/],
    ['no rows', { rows: [], targets: [] }, /no rows/],
    ['no features', { featureNames: [], rows: [[], [], []] }, /featureNames must not be empty/],
    ['duplicate feature names', { featureNames: ['a', 'a'] }, /duplicate feature name "a"/],
    ['empty name', { name: '  ' }, /name must not be empty/],
    ['target named like a feature', { targetName: 'a' }, /also a feature/],
    [
      'non-binary targets for classification',
      { task: 'BINARY_CLASSIFICATION', targets: [0, 1, 2] },
      /target 2 is 2; BINARY_CLASSIFICATION targets must be 0 or 1/,
    ],
  ]
  it.each(bad)('refuses %s with BAD_USER_INPUT and writes nothing', async (_label, change, message) => {
    const before = await totalCount()
    const res = await t.gql(CREATE, { input: { ...input, name: 'bad', ...change } })
    expect(errorCode(res)).toBe('BAD_USER_INPUT')
    expect(res.errors![0]!.message).toMatch(message)
    expect(res.data).toBeNull()
    expect(await totalCount()).toBe(before)
  })

  it('refuses NaN and infinite values (as they can arrive in a JSON body) with BAD_USER_INPUT', async () => {
    const before = await totalCount()
    // JSON has no NaN; a client that serialises it sends null or a string, or 1e999 for Infinity.
    const body = JSON.stringify({ query: CREATE, variables: { input } }).replace('[3,60]', '[3,1e999]')
    const res = await fetch(t.lab.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const json = (await res.json()) as GqlResponse
    expect(errorCode(json as GqlResponse)).toBe('BAD_USER_INPUT')
    const withNull = await t.gql(CREATE, {
      input: {
        ...input,
        rows: [
          [1, null],
          [2, 3],
          [3, 4],
        ],
      },
    })
    expect(errorCode(withNull)).toBe('BAD_USER_INPUT')
    expect(await totalCount()).toBe(before)
  })
})

describe('importCsvDataset', () => {
  it('imports a CSV with quoting and CRLF, and hashes it like the same rows given directly', async () => {
    const csv = '"x 1",y,x2\r\n1,0.5,10\r\n2,1.5,20\r\n3,2.5,60\r\n'
    const res = await t.gql<{ importCsvDataset: DatasetView }>(IMPORT, {
      input: { name: 'from-csv', task: 'REGRESSION', csv, targetColumn: 'y' },
    })
    expect(res.errors).toBeUndefined()
    const d = res.data!.importCsvDataset
    expect(d.featureNames).toEqual(['x 1', 'x2'])
    expect(d.targetName).toBe('y')
    expect(d.rowCount).toBe(3)
    const direct = await t.gql<{ createDataset: DatasetView }>(CREATE, {
      input: {
        name: 'from-csv',
        task: 'REGRESSION',
        featureNames: ['x 1', 'x2'],
        targetName: 'y',
        rows: [
          [1, 10],
          [2, 20],
          [3, 60],
        ],
        targets: [0.5, 1.5, 2.5],
      },
    })
    expect(direct.data!.createDataset.id).toBe(d.id)
  })

  const badCsv: [string, string, string, RegExp][] = [
    [
      'a non-numeric cell with its line and column',
      'a,b,y\n1,2,3\n4,abc,6\n',
      'y',
      /line 3, column 2 \("b"\)/,
    ],
    ['an empty cell', 'a,y\n1,\n', 'y', /line 2, column 2 \("y"\)/],
    ['an unknown target column', 'a,b\n1,2\n', 'y', /targetColumn "y" is not a column/],
    ['a ragged line', 'a,y\n1,2\n3\n', 'y', /line 3 has 1 columns, the header has 2/],
    ['no data rows', 'a,y\n', 'y', /no data rows/],
    ['an empty csv', '', 'y', /csv is empty/],
    ['duplicate columns', 'a,a,y\n1,2,3\n', 'y', /duplicate feature name "a"/],
    ['an infinite value', 'a,y\n1e999,2\n', 'y', /line 2, column 1 \("a"\)/],
  ]
  it.each(badCsv)('refuses %s with BAD_USER_INPUT', async (_label, csv, targetColumn, message) => {
    const before = await totalCount()
    const res = await t.gql(IMPORT, { input: { name: 'bad-csv', task: 'REGRESSION', csv, targetColumn } })
    expect(errorCode(res)).toBe('BAD_USER_INPUT')
    expect(res.errors![0]!.message).toMatch(message)
    expect(await totalCount()).toBe(before)
  })

  it('imports 100,000 rows x 20 features', async () => {
    const header = [...Array.from({ length: 20 }, (_, j) => `f${j}`), 'label'].join(',')
    const lines = [header]
    for (let i = 0; i < 100_000; i++) {
      const row = Array.from({ length: 20 }, (_, j) => ((i * 31 + j * 17) % 1000) / 7)
      lines.push([...row.map((v) => v.toFixed(4)), i % 2].join(','))
    }
    const res = await t.gql<{ importCsvDataset: DatasetView }>(IMPORT, {
      input: { name: 'big', task: 'BINARY_CLASSIFICATION', csv: lines.join('\n'), targetColumn: 'label' },
    })
    expect(res.errors).toBeUndefined()
    expect(res.data!.importCsvDataset.rowCount).toBe(100_000)
    expect(res.data!.importCsvDataset.featureNames).toHaveLength(20)
  }, 120_000)
})

describe('generateDataset', () => {
  it('is reproducible: the same seed gives the same content, another seed other content', async () => {
    const gen = async (name: string, seed: number) =>
      (
        await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
          input: { name, generator: 'FRIEDMAN1', rows: 500, noise: 1, seed },
        })
      ).data!.generateDataset
    const a = await gen('friedman-a', 7)
    const b = await gen('friedman-b', 7)
    const c = await gen('friedman-c', 8)
    expect(a.contentHash).toBe(b.contentHash)
    expect(a.contentHash).not.toBe(c.contentHash)
    expect(a.featureNames).toEqual(['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9', 'x10'])
    expect(a.task).toBe('REGRESSION')
    for (const s of a.featureStats) {
      expect(s.min).toBeGreaterThanOrEqual(0)
      expect(s.max).toBeLessThanOrEqual(1)
      expect(s.mean).toBeCloseTo(0.5, 1)
    }
  })

  it('makes XOR a balanced binary classification', async () => {
    const res = await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
      input: { name: 'xor', generator: 'XOR', rows: 200, seed: 1 },
    })
    expect(res.data!.generateDataset).toMatchObject({ task: 'BINARY_CLASSIFICATION', rowCount: 200 })
  })

  it.each([
    [{ rows: 0 }, 'BAD_USER_INPUT'],
    [{ noise: -1 }, 'BAD_USER_INPUT'],
    [{ rows: 10_000_000 }, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %j', async (change, code) => {
    const before = await totalCount()
    const res = await t.gql(GENERATE, { input: { name: 'g', generator: 'LINEAR', rows: 10, ...change } })
    expect(errorCode(res)).toBe(code)
    expect(await totalCount()).toBe(before)
  })
})

describe('datasets', () => {
  it('pages newest first with stable cursors and a total count', async () => {
    for (let i = 0; i < 5; i++) {
      await t.gql(GENERATE, { input: { name: `page-${i}`, generator: 'LINEAR', rows: 5, seed: i } })
    }
    const q = `query($first: Int, $after: String) { datasets(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name createdAt } } } }`
    type P = {
      datasets: {
        totalCount: number
        pageInfo: { hasNextPage: boolean; endCursor: string | null }
        edges: { cursor: string; node: { id: string; name: string; createdAt: string } }[]
      }
    }
    const total = (await t.gql<P>(q, { first: 1 })).data!.datasets.totalCount
    const seen: string[] = []
    let after: string | null = null
    let pages = 0
    do {
      const page: P['datasets'] = (await t.gql<P>(q, { first: 3, after })).data!.datasets
      seen.push(...page.edges.map((e) => e.node.id))
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null
      pages++
      // A dataset added while paging lands before the cursor and does not shift later pages.
      if (pages === 1)
        await t.gql(GENERATE, { input: { name: 'added-while-paging', generator: 'XOR', rows: 5, seed: 3 } })
    } while (after)
    expect(seen).toHaveLength(total)
    expect(new Set(seen).size).toBe(total)
    expect(pages).toBe(Math.ceil(total / 3))
  })

  it('limits the page size to 100 and rejects bad cursors', async () => {
    const big = await t.gql(`{ datasets(first: 101) { totalCount } }`)
    expect(errorCode(big)).toBe('BAD_USER_INPUT')
    const zero = await t.gql(`{ datasets(first: 0) { totalCount } }`)
    expect(errorCode(zero)).toBe('BAD_USER_INPUT')
    const cursor = await t.gql(`{ datasets(after: "nonsense") { totalCount } }`)
    expect(errorCode(cursor)).toBe('BAD_USER_INPUT')
  })
})

describe('deleteDataset', () => {
  it('deletes an unused dataset, then answers NOT_FOUND', async () => {
    const d = (
      await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
        input: { name: 'to-delete', generator: 'LINEAR', rows: 5, seed: 1 },
      })
    ).data!.generateDataset
    const del = await t.gql<{ deleteDataset: boolean }>(`mutation($id: ID!) { deleteDataset(id: $id) }`, {
      id: d.id,
    })
    expect(del.data!.deleteDataset).toBe(true)
    const again = await t.gql(`mutation($id: ID!) { deleteDataset(id: $id) }`, { id: d.id })
    expect(errorCode(again)).toBe('NOT_FOUND')
    const gone = await t.gql<{ dataset: null }>(`query($id: ID!) { dataset(id: $id) { id } }`, { id: d.id })
    expect(gone.data!.dataset).toBeNull()
    const malformed = await t.gql(`mutation { deleteDataset(id: "not-an-id") }`)
    expect(errorCode(malformed)).toBe('NOT_FOUND')
  })

  it('refuses with CONFLICT while a run uses the dataset', async () => {
    const d = (
      await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
        input: { name: 'in-use', generator: 'LINEAR', rows: 5, seed: 1 },
      })
    ).data!.generateDataset
    const experiment = await t.lab.db.experiment.create({ data: { name: 'uses-dataset' } })
    await t.lab.db.run.create({
      data: {
        name: 'r',
        experimentId: experiment.id,
        datasetId: d.id,
        hiddenLayers: [4],
        activation: 'RELU',
        epochs: 1,
        batchSize: 1,
        learningRate: 0.01,
        optimizer: 'ADAM',
        validationSplit: 0.2,
        seed: 1,
      },
    })
    const res = await t.gql(`mutation($id: ID!) { deleteDataset(id: $id) }`, { id: d.id })
    expect(errorCode(res)).toBe('CONFLICT')
    const still = await t.gql<{ dataset: { id: string } }>(`query($id: ID!) { dataset(id: $id) { id } }`, {
      id: d.id,
    })
    expect(still.data!.dataset.id).toBe(d.id)
  })
})
