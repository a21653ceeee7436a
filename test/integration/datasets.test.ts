import { DatasetRepository } from '../../src/modules/dataset/dataset.repository'
import { latentLinearMatrix } from '../../src/modules/dataset/generators'
import { GqlResponse, startTestLab, TestLab } from '../helpers/lab'

const DATASET_FIELDS = `id name version task featureNames targetName rowCount contentHash createdAt
  factorNames imageShape featureStats { name mean std min max }`

interface DatasetView {
  id: string
  name: string
  version: number
  task: string
  featureNames: string[]
  targetName: string | null
  rowCount: number
  contentHash: string
  createdAt: string
  factorNames: string[]
  imageShape: number[] | null
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
    expect(d.factorNames).toEqual([])
    expect(d.imageShape).toBeNull()
    // The hash this content had before factors and image shapes existed (commit 9e67298): datasets
    // stored then are still found by their content.
    expect(d.contentHash).toBe('d8abf62bbd29bc50a99422083da0d3fe0b9be4b8990c4ec984abac6df2d2a561')
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

/** Sends a raw JSON body, for numbers JSON.stringify cannot write (1e999). */
async function rawGql(query: string, variablesJson: string): Promise<GqlResponse> {
  const res = await fetch(t.lab.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"query":${JSON.stringify(query)},"variables":${variablesJson}}`,
  })
  return (await res.json()) as GqlResponse
}

async function expectRefused(
  res: GqlResponse,
  before: number,
  message: RegExp,
  code = 'BAD_USER_INPUT',
): Promise<void> {
  expect(errorCode(res)).toBe(code)
  expect(res.errors![0]!.message).toMatch(message)
  expect(res.data ?? null).toBeNull()
  expect(await totalCount()).toBe(before)
}

describe('UNSUPERVISED datasets and factors', () => {
  const rows = [
    [0.1, 0.2],
    [0.3, 0.4],
    [0.5, 0.6],
  ]
  const input = { name: 'plain', task: 'UNSUPERVISED', featureNames: ['a', 'b'], rows }
  const factors = [
    { name: 'size', values: [1, 2, 3] },
    { name: 'kind', values: [0, 1, 0] },
  ]

  it('creates an UNSUPERVISED dataset without targets: no target name, no factors', async () => {
    const res = await t.gql<{ createDataset: DatasetView }>(CREATE, { input })
    expect(res.errors).toBeUndefined()
    const d = res.data!.createDataset
    expect(d).toMatchObject({
      task: 'UNSUPERVISED',
      targetName: null,
      rowCount: 3,
      version: 1,
      imageShape: null,
    })
    expect(d.factorNames).toEqual([])
    const content = await new DatasetRepository(t.lab.db).findContent(d.id)
    expect(content).toMatchObject({
      task: 'UNSUPERVISED',
      targetName: null,
      factorNames: [],
      imageShape: null,
    })
    expect(content!.targets).toHaveLength(0)
    expect(content!.factors).toHaveLength(0)
    expect([...content!.features]).toEqual(rows.flat())
  })

  it('stores factors beside the features, row-major, and reads them back', async () => {
    const res = await t.gql<{ createDataset: DatasetView }>(CREATE, {
      input: { ...input, name: 'with-factors', factors },
    })
    expect(res.errors).toBeUndefined()
    const d = res.data!.createDataset
    expect(d.factorNames).toEqual(['size', 'kind'])
    expect(d.featureNames).toEqual(['a', 'b'])
    // Statistics are of the features only.
    expect(d.featureStats.map((s) => s.name)).toEqual(['a', 'b'])
    const content = (await new DatasetRepository(t.lab.db).findContent(d.id))!
    expect(content.factorNames).toEqual(['size', 'kind'])
    expect([...content.factors]).toEqual([1, 0, 2, 1, 3, 0])
    expect(content.rowCount).toBe(3)
    const fetched = await t.gql<{ dataset: DatasetView }>(
      `query($id: ID!) { dataset(id: $id) { ${DATASET_FIELDS} } }`,
      { id: d.id },
    )
    expect(fetched.data!.dataset).toEqual(d)
  })

  it('gives content that differs only in its factors another hash and version; the same factors find it again', async () => {
    const create = async (f: unknown) =>
      (
        await t.gql<{ createDataset: DatasetView }>(CREATE, {
          input: { ...input, name: 'factor-versions', factors: f },
        })
      ).data!.createDataset
    const none = await create(null)
    const first = await create(factors)
    const changed = await create([factors[0], { name: 'kind', values: [0, 1, 1] }])
    const renamed = await create([factors[0], { name: 'type', values: [0, 1, 0] }])
    expect(new Set([none, first, changed, renamed].map((d) => d.contentHash)).size).toBe(4)
    expect([none, first, changed, renamed].map((d) => d.version)).toEqual([1, 2, 3, 4])
    const again = await create(factors)
    expect(again.id).toBe(first.id)
  })

  it('refuses targets and a target name for UNSUPERVISED, and requires targets for the other tasks', async () => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', targets: [1, 2, 3] } }),
      before,
      /targets must be omitted for UNSUPERVISED datasets/,
    )
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', targets: [] } }),
      before,
      /targets must be omitted for UNSUPERVISED/,
    )
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', targetName: 'y' } }),
      before,
      /targetName must be omitted for UNSUPERVISED datasets/,
    )
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', task: 'REGRESSION' } }),
      before,
      /targets is required for REGRESSION datasets/,
    )
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', task: 'BINARY_CLASSIFICATION', targets: null } }),
      before,
      /targets is required for BINARY_CLASSIFICATION datasets/,
    )
  })

  const badFactors: [string, unknown, RegExp][] = [
    ['a NUL in a name', [{ name: 'si\u0000ze', values: [1, 2, 3] }], /factors contains control characters/],
    ['the name of a feature', [{ name: 'b', values: [1, 2, 3] }], /the factor "b" is also a feature/],
    ['a duplicate name', [factors[0], factors[0]], /duplicate factor name "size"/],
    ['too few values', [{ name: 'size', values: [1, 2] }], /factor "size" has 2 values but there are 3 rows/],
    [
      'a value beyond float32',
      [{ name: 'size', values: [1, 3.5e38, 3] }],
      /value 3.5e\+38 is outside the float32 range/,
    ],
  ]
  it.each(badFactors)('refuses factors with %s, writing nothing', async (_label, f, message) => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', factors: f } }),
      before,
      message,
    )
  })

  it('refuses a factor named like the target', async () => {
    const before = await totalCount()
    const res = await t.gql(CREATE, {
      input: {
        ...input,
        name: 'bad',
        task: 'REGRESSION',
        targets: [1, 2, 3],
        factors: [{ name: 'target', values: [1, 2, 3] }],
      },
    })
    await expectRefused(res, before, /the factor "target" is also the target/)
  })

  it('refuses infinite and null factor values as JSON can carry them', async () => {
    const before = await totalCount()
    const variables = (values: string) =>
      `{"input":{"name":"bad","task":"UNSUPERVISED","featureNames":["a","b"],"rows":${JSON.stringify(rows)},` +
      `"factors":[{"name":"f","values":${values}}]}}`
    for (const values of ['[1,1e999,3]', '[1,null,3]', '["NaN",2,3]']) {
      const res = await rawGql(CREATE, variables(values))
      expect(errorCode(res)).toBe('BAD_USER_INPUT')
    }
    expect(await totalCount()).toBe(before)
  })

  it('refuses feature and target values beyond the float32 range', async () => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(CREATE, {
        input: {
          ...input,
          name: 'bad',
          rows: [
            [0, 0],
            [0, -3.5e38],
            [0, 0],
          ],
        },
      }),
      before,
      /row 1, feature "b": value -3.5e\+38 is outside the float32 range/,
    )
    await expectRefused(
      await t.gql(CREATE, {
        input: { ...input, name: 'bad', task: 'REGRESSION', targets: [0, 0, 3.5e38] },
      }),
      before,
      /target 2: value 3.5e\+38 is outside the float32 range/,
    )
    await expectRefused(
      await t.gql(IMPORT, {
        input: { name: 'bad', task: 'REGRESSION', csv: 'a,y\n1,2\n3.5e38,1\n', targetColumn: 'y' },
      }),
      before,
      /line 3, column 1 \("a"\): "3.5e38" is outside the float32 range/,
    )
  })
})

describe('image datasets', () => {
  const input = {
    name: 'image',
    task: 'UNSUPERVISED',
    featureNames: ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'],
    rows: [
      [0, 0.5, 1, 0, 0, 0],
      [1, 1, 1, 0.25, 0, 0],
    ],
    imageShape: [2, 3],
  }

  it('stores the image shape, and hashes it', async () => {
    const res = await t.gql<{ createDataset: DatasetView }>(CREATE, { input })
    expect(res.errors).toBeUndefined()
    const d = res.data!.createDataset
    expect(d.imageShape).toEqual([2, 3])
    expect((await new DatasetRepository(t.lab.db).findContent(d.id))!.imageShape).toEqual([2, 3])
    const flat = (
      await t.gql<{ createDataset: DatasetView }>(CREATE, { input: { ...input, imageShape: null } })
    ).data!.createDataset
    expect(flat.imageShape).toBeNull()
    expect(flat.contentHash).not.toBe(d.contentHash)
    expect(flat.version).toBe(2)
  })

  it.each([
    [[6], /imageShape must be \[height, width\]: exactly 2 numbers, got 1/],
    [[], /exactly 2 numbers, got 0/],
    [[1, 2, 3], /exactly 2 numbers, got 3/],
    [[0, 6], /imageShape \[0, 6\] must be 2 positive integers/],
    [[-2, -3], /must be 2 positive integers/],
    [[2, 2], /imageShape \[2, 2\] has 4 pixels but there are 6 features/],
  ])('refuses imageShape %j', async (imageShape, message) => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(CREATE, { input: { ...input, name: 'bad', imageShape } }),
      before,
      message,
    )
  })

  it('refuses pixels outside [0, 1], from rows and from a CSV', async () => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(CREATE, {
        input: {
          ...input,
          name: 'bad',
          rows: [
            [0, 0.5, 1, 0, 0, 0],
            [1, 1, 1, 0.25, 1.5, 0],
          ],
        },
      }),
      before,
      /row 1, feature "p4": value 1.5 is outside \[0, 1\]/,
    )
    await expectRefused(
      await t.gql(IMPORT, {
        input: { name: 'bad', task: 'UNSUPERVISED', csv: 'a,b\n0,1\n0.5,-0.5\n', imageShape: [1, 2] },
      }),
      before,
      /line 3, column 2 \("b"\): "-0.5" is outside \[0, 1\]/,
    )
  })
})

describe('importCsvDataset: UNSUPERVISED and factor columns', () => {
  const csv = 'shape,a,posX,b\n0,0.1,0.5,0.2\n2,0.3,0.25,0.4\n1,0.5,1,0.6\n'

  it('imports without a target column, factor columns aside, and hashes like the same rows and factors', async () => {
    const res = await t.gql<{ importCsvDataset: DatasetView }>(IMPORT, {
      input: { name: 'csv-factors', task: 'UNSUPERVISED', csv, factorColumns: ['posX', 'shape'] },
    })
    expect(res.errors).toBeUndefined()
    const d = res.data!.importCsvDataset
    expect(d).toMatchObject({ task: 'UNSUPERVISED', targetName: null, rowCount: 3 })
    expect(d.featureNames).toEqual(['a', 'b'])
    expect(d.factorNames).toEqual(['posX', 'shape'])
    const content = (await new DatasetRepository(t.lab.db).findContent(d.id))!
    expect([...content.factors]).toEqual([0.5, 0, 0.25, 2, 1, 1])
    expect([...content.features]).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    const direct = await t.gql<{ createDataset: DatasetView }>(CREATE, {
      input: {
        name: 'csv-factors',
        task: 'UNSUPERVISED',
        featureNames: ['a', 'b'],
        rows: [
          [0.1, 0.2],
          [0.3, 0.4],
          [0.5, 0.6],
        ],
        factors: [
          { name: 'posX', values: [0.5, 0.25, 1] },
          { name: 'shape', values: [0, 2, 1] },
        ],
      },
    })
    expect(direct.data!.createDataset.id).toBe(d.id)
    // Without factor columns the same CSV is other content: four features.
    const plain = (
      await t.gql<{ importCsvDataset: DatasetView }>(IMPORT, {
        input: { name: 'csv-factors', task: 'UNSUPERVISED', csv },
      })
    ).data!.importCsvDataset
    expect(plain.featureNames).toEqual(['shape', 'a', 'posX', 'b'])
    expect(plain.factorNames).toEqual([])
    expect(plain.version).toBe(2)
  })

  it('takes factor columns with a target too', async () => {
    const res = await t.gql<{ importCsvDataset: DatasetView }>(IMPORT, {
      input: {
        name: 'csv-supervised-factors',
        task: 'REGRESSION',
        csv,
        targetColumn: 'b',
        factorColumns: ['shape'],
      },
    })
    expect(res.errors).toBeUndefined()
    expect(res.data!.importCsvDataset).toMatchObject({
      targetName: 'b',
      featureNames: ['a', 'posX'],
      factorNames: ['shape'],
    })
  })

  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      'a target column for UNSUPERVISED',
      { task: 'UNSUPERVISED', targetColumn: 'b' },
      /targetColumn must be omitted for UNSUPERVISED/,
    ],
    [
      'no target column for REGRESSION',
      { task: 'REGRESSION' },
      /targetColumn is required for REGRESSION datasets/,
    ],
    [
      'an unknown factor column',
      { task: 'UNSUPERVISED', factorColumns: ['z'] },
      /factorColumns "z" is not a column of the csv/,
    ],
    [
      'the target as a factor',
      { task: 'REGRESSION', targetColumn: 'b', factorColumns: ['b'] },
      /the factor "b" is also the target/,
    ],
    [
      'a factor named twice',
      { task: 'UNSUPERVISED', factorColumns: ['shape', 'shape'] },
      /duplicate factor name "shape"/,
    ],
    [
      'a factor cell that is not a number',
      { task: 'UNSUPERVISED', csv: 'a,f\n1,2\n3,x\n', factorColumns: ['f'] },
      /line 3, column 2 \("f"\): "x" is not a finite number/,
    ],
    [
      'a factor cell beyond float32',
      { task: 'UNSUPERVISED', csv: 'a,f\n1,3.5e38\n', factorColumns: ['f'] },
      /line 2, column 2 \("f"\): "3.5e38" is outside the float32 range/,
    ],
  ]
  it.each(bad)('refuses %s with BAD_USER_INPUT', async (_label, change, message) => {
    const before = await totalCount()
    await expectRefused(await t.gql(IMPORT, { input: { name: 'bad-csv', csv, ...change } }), before, message)
  })
})

describe('generateDataset: SPRITES', () => {
  it('makes 16x16 UNSUPERVISED images with their factors, reproducibly', async () => {
    const gen = async (name: string, seed: number) =>
      (
        await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
          input: { name, generator: 'SPRITES', rows: 300, seed },
        })
      ).data!.generateDataset
    const a = await gen('sprites-a', 5)
    expect(a).toMatchObject({ task: 'UNSUPERVISED', targetName: null, rowCount: 300, imageShape: [16, 16] })
    expect(a.factorNames).toEqual(['shape', 'scale', 'posX', 'posY'])
    expect(a.featureNames).toHaveLength(256)
    expect(a.featureNames[17]).toBe('p_1_1')
    for (const s of a.featureStats) {
      expect(s.min).toBeGreaterThanOrEqual(0)
      expect(s.max).toBeLessThanOrEqual(1)
    }
    // Some pixel is lit in some image, and the image border is lit by the shapes at the edges.
    expect(Math.max(...a.featureStats.map((s) => s.max))).toBe(1)
    expect((await gen('sprites-b', 5)).contentHash).toBe(a.contentHash)
    expect((await gen('sprites-c', 6)).contentHash).not.toBe(a.contentHash)
    const content = (await new DatasetRepository(t.lab.db).findContent(a.id))!
    expect(content.imageShape).toEqual([16, 16])
    const shapes = new Set(Array.from({ length: 300 }, (_, i) => content.factors[i * 4]))
    expect([...shapes].sort()).toEqual([0, 1, 2])
    const posX = new Set(Array.from({ length: 300 }, (_, i) => content.factors[i * 4 + 2]))
    expect(posX.size).toBe(16)
  })

  it.each([
    [{ noise: 0.1 }, /SPRITES takes no noise/],
    [{ latents: 3 }, /latents is a LATENT_LINEAR parameter; SPRITES takes none/],
    [{ features: 3 }, /features is a LATENT_LINEAR parameter/],
  ])('refuses %j', async (change, message) => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(GENERATE, { input: { name: 'g', generator: 'SPRITES', rows: 10, ...change } }),
      before,
      message,
    )
  })
})

describe('generateDataset: LATENT_LINEAR', () => {
  it('defaults to 2 factors in 8 features and records A in the source', async () => {
    const res = await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
      input: { name: 'latent', generator: 'LATENT_LINEAR', rows: 400, noise: 0.1, seed: 9 },
    })
    expect(res.errors).toBeUndefined()
    const d = res.data!.generateDataset
    expect(d).toMatchObject({ task: 'UNSUPERVISED', targetName: null, imageShape: null, rowCount: 400 })
    expect(d.featureNames).toEqual(['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'])
    expect(d.factorNames).toEqual(['v1', 'v2'])
    // Unit-norm rows of A and unit-variance factors: every feature has variance 1 + noise^2.
    for (const s of d.featureStats) {
      expect(s.std).toBeGreaterThan(0.85)
      expect(s.std).toBeLessThan(1.15)
    }
    const row = await t.lab.db.dataset.findUniqueOrThrow({ where: { id: d.id }, select: { source: true } })
    expect(row.source).toEqual({
      kind: 'generator',
      generator: 'LATENT_LINEAR',
      seed: 9,
      noise: 0.1,
      parameters: { latents: 2, features: 8, matrix: latentLinearMatrix(9, 2, 8) },
    })
  })

  it('takes latents and features, and the stored features are A v', async () => {
    const res = await t.gql<{ generateDataset: DatasetView }>(GENERATE, {
      input: { name: 'latent-3-10', generator: 'LATENT_LINEAR', rows: 50, seed: 2, latents: 3, features: 10 },
    })
    expect(res.errors).toBeUndefined()
    const d = res.data!.generateDataset
    expect(d.featureNames).toHaveLength(10)
    expect(d.factorNames).toEqual(['v1', 'v2', 'v3'])
    const content = (await new DatasetRepository(t.lab.db).findContent(d.id))!
    const a = latentLinearMatrix(2, 3, 10)
    let worst = 0
    for (let i = 0; i < 50; i++) {
      for (let f = 0; f < 10; f++) {
        const expected = a[f]!.reduce((s, w, j) => s + w * content.factors[i * 3 + j]!, 0)
        worst = Math.max(worst, Math.abs(content.features[i * 10 + f]! - expected))
      }
    }
    expect(worst).toBeLessThan(1e-12)
  })

  it.each([
    [{ latents: 0 }, 'BAD_USER_INPUT', /latents is 0; it must be an integer from 1 to 64/],
    [{ latents: 65, features: 100 }, 'BAD_USER_INPUT', /latents is 65/],
    [{ features: 0 }, 'BAD_USER_INPUT', /features is 0; it must be an integer from 1 to 1024/],
    [{ features: 1025 }, 'BAD_USER_INPUT', /features is 1025/],
    [{ latents: 5, features: 4 }, 'BAD_USER_INPUT', /features \(4\) must be at least latents \(5\)/],
    [{ noise: -1 }, 'BAD_USER_INPUT', /noise must be 0 or more/],
    // 3,800 rows x 1,024 features fit the 4,000,000 cells; with the 64 factors they do not.
    [
      { rows: 3800, latents: 64, features: 1024 },
      'PAYLOAD_TOO_LARGE',
      /3800 rows x 1024 features \+ 64 factors/,
    ],
  ])('refuses %j', async (change, code, message) => {
    const before = await totalCount()
    await expectRefused(
      await t.gql(GENERATE, { input: { name: 'g', generator: 'LATENT_LINEAR', rows: 10, ...change } }),
      before,
      message,
      code,
    )
  })

  it('refuses latents and features for the other generators', async () => {
    const before = await totalCount()
    for (const generator of ['FRIEDMAN1', 'LINEAR', 'XOR']) {
      await expectRefused(
        await t.gql(GENERATE, { input: { name: 'g', generator, rows: 10, latents: 2 } }),
        before,
        new RegExp(`latents is a LATENT_LINEAR parameter; ${generator} takes none`),
      )
      await expectRefused(
        await t.gql(GENERATE, { input: { name: 'g', generator, rows: 10, features: 8 } }),
        before,
        /features is a LATENT_LINEAR parameter/,
      )
    }
  })
})
