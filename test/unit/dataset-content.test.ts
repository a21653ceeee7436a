import { AppError } from '../../src/errors'
import { parseCsvDataset } from '../../src/modules/dataset/csv'
import {
  buildContent,
  contentHash,
  FactorValues,
  featureStats,
  FLOAT32_MAX,
} from '../../src/modules/dataset/dataset.content'
import { DatasetGenerator, Task } from '../../src/modules/dataset/dataset.type'
import { generate, LINEAR_INTERCEPT, LINEAR_WEIGHTS } from '../../src/modules/dataset/generators'

const limits = { maxRows: 1000, maxCells: 10_000 }

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof AppError) return `${err.code}: ${err.message}`
    throw err
  }
  throw new Error('expected an error')
}

describe('parseCsvDataset', () => {
  it('puts the target column aside wherever it stands', () => {
    const c = parseCsvDataset({
      task: Task.REGRESSION,
      csv: 'a,y,b\n1,2,3\n4,5,6',
      targetColumn: 'y',
      limits,
    })
    expect(c.featureNames).toEqual(['a', 'b'])
    expect([...c.features]).toEqual([1, 3, 4, 6])
    expect([...c.targets]).toEqual([2, 5])
  })

  it('accepts signs, exponents and surrounding spaces, and refuses hex, words and blanks', () => {
    const ok = parseCsvDataset({
      task: Task.REGRESSION,
      csv: 'a,y\n -1.5e2 ,+.5\n',
      targetColumn: 'y',
      limits,
    })
    expect([...ok.features, ...ok.targets]).toEqual([-150, 0.5])
    for (const cell of ['0x10', 'NaN', 'Infinity', 'one', '1,5']) {
      const csv = `a,y\n${cell.includes(',') ? `"${cell}"` : cell},1\n`
      expect(
        codeOf(() => parseCsvDataset({ task: Task.REGRESSION, csv, targetColumn: 'y', limits })),
      ).toMatch(/^BAD_USER_INPUT: line 2, column 1 \("a"\)/)
    }
  })

  it('counts lines from the header, skipping blank lines, in its messages', () => {
    const csv = 'a,y\n1,2\n\n3,x\n'
    expect(codeOf(() => parseCsvDataset({ task: Task.REGRESSION, csv, targetColumn: 'y', limits }))).toMatch(
      /line 4, column 2 \("y"\)/,
    )
  })

  it('checks the size before parsing rows', () => {
    const csv = 'a,y\n' + '1,2\n'.repeat(1001)
    expect(codeOf(() => parseCsvDataset({ task: Task.REGRESSION, csv, targetColumn: 'y', limits }))).toMatch(
      /^PAYLOAD_TOO_LARGE/,
    )
  })
})

describe('content hash and statistics', () => {
  const base = { task: Task.REGRESSION, featureNames: ['a'], targetName: 't', limits }
  it('depends on values, names, task and target, not on how the content arrived', () => {
    const h = contentHash(buildContent({ ...base, rows: [[1], [2]], targets: [0, 1] }))
    expect(
      contentHash(buildContent({ ...base, rows: [Float64Array.of(1), Float64Array.of(2)], targets: [0, 1] })),
    ).toBe(h)
    expect(contentHash(buildContent({ ...base, rows: [[1], [2.0000001]], targets: [0, 1] }))).not.toBe(h)
    expect(
      contentHash(buildContent({ ...base, featureNames: ['b'], rows: [[1], [2]], targets: [0, 1] })),
    ).not.toBe(h)
    expect(
      contentHash(buildContent({ ...base, targetName: 'u', rows: [[1], [2]], targets: [0, 1] })),
    ).not.toBe(h)
    expect(
      contentHash(
        buildContent({ ...base, task: Task.BINARY_CLASSIFICATION, rows: [[1], [2]], targets: [0, 1] }),
      ),
    ).not.toBe(h)
  })

  it('computes mean, population std, min and max per feature', () => {
    const c = buildContent({
      ...base,
      featureNames: ['a', 'b'],
      rows: [
        [1, -1],
        [2, -1],
        [6, -1],
      ],
      targets: [0, 0, 0],
    })
    const [a, b] = featureStats(c)
    expect(a!.mean).toBeCloseTo(3, 12)
    expect(a!.std).toBeCloseTo(Math.sqrt(14 / 3), 12)
    expect(a).toMatchObject({ min: 1, max: 6 })
    expect(b).toEqual({ name: 'b', mean: -1, std: 0, min: -1, max: -1 })
  })

  it('refuses a classification dataset with one class only', () => {
    expect(
      codeOf(() =>
        buildContent({ ...base, task: Task.BINARY_CLASSIFICATION, rows: [[1], [2]], targets: [1, 1] }),
      ),
    ).toMatch(/needs both classes/)
  })
})

describe('generators', () => {
  it('are deterministic per seed', () => {
    const a = generate(DatasetGenerator.LINEAR, 50, 0.1, 42)
    const b = generate(DatasetGenerator.LINEAR, 50, 0.1, 42)
    const c = generate(DatasetGenerator.LINEAR, 50, 0.1, 43)
    expect(a).toEqual(b)
    expect(a.targets).not.toEqual(c.targets)
  })

  it('LINEAR without noise follows its documented weights exactly', () => {
    const d = generate(DatasetGenerator.LINEAR, 20, 0, 1)
    d.rows.forEach((x, i) => {
      const y = LINEAR_WEIGHTS.reduce<number>((s, w, j) => s + w * x[j]!, LINEAR_INTERCEPT)
      expect(d.targets[i]).toBeCloseTo(y, 12)
    })
  })

  it('FRIEDMAN1 without noise matches the closed form, XOR labels the quadrants', () => {
    const f = generate(DatasetGenerator.FRIEDMAN1, 10, 0, 3)
    f.rows.forEach((x, i) => {
      const y = 10 * Math.sin(Math.PI * x[0]! * x[1]!) + 20 * (x[2]! - 0.5) ** 2 + 10 * x[3]! + 5 * x[4]!
      expect(f.targets[i]).toBeCloseTo(y, 12)
    })
    const x = generate(DatasetGenerator.XOR, 100, 0, 3)
    x.rows.forEach((r, i) => expect(x.targets[i]).toBe(r[0]! * r[1]! > 0 ? 1 : 0))
  })
})

describe('content hash compatibility', () => {
  // Computed with the code as it was before factors, image shapes and UNSUPERVISED existed (commit
  // 9e67298): datasets stored then must be found again by the same content.
  const BEFORE = {
    rows: 'd8abf62bbd29bc50a99422083da0d3fe0b9be4b8990c4ec984abac6df2d2a561',
    csv: 'b33a18803184d41a46bee6c93a21c934deef0cec2fa0705932c80cbd6583279c',
    friedman: '1d2e09e4ea790756e7b3d09a1702f87d907018856c4ba0afeaa42d2b60d6b807',
  }
  const wide = { maxRows: 1000, maxCells: 100_000 }

  it('hashes content without factors or image shape exactly as before', () => {
    const rows = buildContent({
      task: Task.REGRESSION,
      featureNames: ['a', 'b'],
      targetName: 'target',
      rows: [
        [1, 10],
        [2, 20],
        [3, 60],
      ],
      targets: [0.5, 1.5, 2.5],
      limits: wide,
    })
    expect(contentHash(rows)).toBe(BEFORE.rows)
    const csv = parseCsvDataset({
      task: Task.BINARY_CLASSIFICATION,
      csv: 'x1,x2,y\n0.25,-3,1\n1e-3,7,0\n',
      targetColumn: 'y',
      limits: wide,
    })
    expect(contentHash(csv)).toBe(BEFORE.csv)
    const g = generate(DatasetGenerator.FRIEDMAN1, 50, 0.5, 7)
    expect(contentHash(buildContent({ ...g, targetName: 'y', limits: wide }))).toBe(BEFORE.friedman)
  })

  const unsupervised = (factors: FactorValues[], imageShape: number[] | null = null) =>
    buildContent({
      task: Task.UNSUPERVISED,
      featureNames: ['a', 'b'],
      targetName: null,
      rows: [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      targets: null,
      factors,
      imageShape,
      limits: wide,
    })

  it('changes when only the factors, their names or the image shape change', () => {
    const none = contentHash(unsupervised([]))
    const one = contentHash(unsupervised([{ name: 'f', values: [0, 1] }]))
    const hashes = [
      none,
      one,
      contentHash(unsupervised([{ name: 'f', values: [0, 2] }])),
      contentHash(unsupervised([{ name: 'g', values: [0, 1] }])),
      contentHash(
        unsupervised([
          { name: 'f', values: [0, 1] },
          { name: 'g', values: [0, 1] },
        ]),
      ),
      contentHash(unsupervised([], [1, 2])),
      contentHash(unsupervised([], [2, 1])),
    ]
    expect(new Set(hashes).size).toBe(hashes.length)
    expect(contentHash(unsupervised([{ name: 'f', values: Float64Array.of(0, 1) }]))).toBe(one)
  })
})

describe('UNSUPERVISED content and targets', () => {
  const base = {
    featureNames: ['a', 'b'],
    rows: [
      [1, 2],
      [3, 4],
    ],
    limits,
  }

  it('has no target: null name, no targets', () => {
    const c = buildContent({ ...base, task: Task.UNSUPERVISED, targetName: null, targets: null })
    expect(c).toMatchObject({ task: Task.UNSUPERVISED, targetName: null, rowCount: 2, imageShape: null })
    expect(c.targets).toHaveLength(0)
    expect(c.factorNames).toEqual([])
    expect(c.factors).toHaveLength(0)
    expect([...c.features]).toEqual([1, 2, 3, 4])
  })

  it.each([
    [Task.UNSUPERVISED, null, [0, 1], /^BAD_USER_INPUT: targets must be omitted for UNSUPERVISED/],
    [Task.UNSUPERVISED, null, [], /^BAD_USER_INPUT: targets must be omitted for UNSUPERVISED/],
    [Task.UNSUPERVISED, 'y', null, /^BAD_USER_INPUT: targetName must be omitted for UNSUPERVISED/],
    [Task.REGRESSION, 'y', null, /^BAD_USER_INPUT: targets is required for REGRESSION datasets/],
    [
      Task.BINARY_CLASSIFICATION,
      'y',
      null,
      /^BAD_USER_INPUT: targets is required for BINARY_CLASSIFICATION datasets/,
    ],
  ])('%s with target %p and targets %p is refused', (task, targetName, targets, message) => {
    expect(codeOf(() => buildContent({ ...base, task, targetName, targets }))).toMatch(message)
  })
})

describe('factors', () => {
  const base = {
    task: Task.UNSUPERVISED,
    featureNames: ['a', 'b'],
    targetName: null,
    rows: [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    targets: null,
    limits,
  }

  it('are packed row-major beside the features, in the order given', () => {
    const c = buildContent({
      ...base,
      factors: [
        { name: 'z', values: [10, 20, 30] },
        { name: 'shape', values: [0, 1, 2] },
      ],
    })
    expect(c.factorNames).toEqual(['z', 'shape'])
    expect([...c.factors]).toEqual([10, 0, 20, 1, 30, 2])
    expect([...c.features]).toEqual([1, 2, 3, 4, 5, 6])
  })

  it.each([
    ['a NUL in a name', [{ name: 'f\u0000', values: [0, 0, 0] }], /factors contains control characters/],
    ['a DEL in a name', [{ name: 'f\u007f', values: [0, 0, 0] }], /factors contains control characters/],
    ['an empty name', [{ name: ' ', values: [0, 0, 0] }], /factors must not be empty/],
    ['the name of a feature', [{ name: 'a', values: [0, 0, 0] }], /the factor "a" is also a feature/],
    [
      'a duplicate',
      [
        { name: 'f', values: [0, 0, 0] },
        { name: ' f', values: [0, 0, 0] },
      ],
      /duplicate factor name "f"/,
    ],
    ['too few values', [{ name: 'f', values: [0, 0] }], /factor "f" has 2 values but there are 3 rows/],
    [
      'too many values',
      [{ name: 'f', values: [0, 0, 0, 0] }],
      /factor "f" has 4 values but there are 3 rows/,
    ],
    [
      '3.5e38',
      [{ name: 'f', values: [0, 3.5e38, 0] }],
      /factor "f", row 1: value 3.5e\+38 is outside the float32/,
    ],
    ['-3.5e38', [{ name: 'f', values: [0, 0, -3.5e38] }], /row 2: value -3.5e\+38 is outside the float32/],
    ['NaN', [{ name: 'f', values: [NaN, 0, 0] }], /factor "f", row 0: value NaN is not a finite number/],
    ['Infinity', [{ name: 'f', values: [0, Infinity, 0] }], /value Infinity is not a finite number/],
  ])('refuses %s', (_label, factors, message) => {
    expect(codeOf(() => buildContent({ ...base, factors }))).toMatch(
      new RegExp(`^BAD_USER_INPUT: .*${message.source}`),
    )
  })

  it('may not be named like the target', () => {
    expect(
      codeOf(() =>
        buildContent({
          ...base,
          task: Task.REGRESSION,
          targetName: 'y',
          targets: [1, 2, 3],
          factors: [{ name: 'y', values: [0, 0, 0] }],
        }),
      ),
    ).toMatch(/^BAD_USER_INPUT: the factor "y" is also the target/)
  })

  it('count toward the size limit', () => {
    const rows = Array.from({ length: 1000 }, () => Array.from({ length: 9 }, () => 0))
    const wideBase = { ...base, featureNames: names(9), rows }
    expect(() => buildContent(wideBase)).not.toThrow()
    const values = new Float64Array(1000)
    expect(
      codeOf(() =>
        buildContent({
          ...wideBase,
          factors: [
            { name: 'f', values },
            { name: 'g', values },
          ],
        }),
      ),
    ).toMatch(/^PAYLOAD_TOO_LARGE: dataset of 1000 rows x 9 features \+ 2 factors/)
  })
})

const names = (m: number) => Array.from({ length: m }, (_, j) => `x${j}`)

describe('values that do not fit float32, and control characters in names', () => {
  const base = { task: Task.REGRESSION, featureNames: ['a'], targetName: 't', targets: [0, 1], limits }

  it('refuses features and targets beyond the float32 range, accepts its largest value', () => {
    expect(codeOf(() => buildContent({ ...base, rows: [[1], [3.5e38]] }))).toMatch(
      /^BAD_USER_INPUT: row 1, feature "a": value 3.5e\+38 is outside the float32 range/,
    )
    expect(codeOf(() => buildContent({ ...base, rows: [[-3.5e38], [1]] }))).toMatch(/row 0, feature "a"/)
    expect(codeOf(() => buildContent({ ...base, rows: [[1], [2]], targets: [0, 3.5e38] }))).toMatch(
      /^BAD_USER_INPUT: target 1: value 3.5e\+38 is outside the float32 range/,
    )
    const edge = buildContent({ ...base, rows: [[FLOAT32_MAX], [-FLOAT32_MAX]] })
    expect(Math.fround(edge.features[0]!)).toBe(FLOAT32_MAX)
  })

  it('refuses NUL and other control characters in feature, target and dataset names', () => {
    expect(codeOf(() => buildContent({ ...base, featureNames: ['a\u0000b'], rows: [[1], [2]] }))).toMatch(
      /^BAD_USER_INPUT: featureNames contains control characters/,
    )
    expect(codeOf(() => buildContent({ ...base, targetName: 't\u0000', rows: [[1], [2]] }))).toMatch(
      /^BAD_USER_INPUT: targetName contains control characters/,
    )
    expect(codeOf(() => buildContent({ ...base, featureNames: ['a\u0085'], rows: [[1], [2]] }))).toMatch(
      /featureNames contains control characters/,
    )
    // Printable non-ASCII is fine.
    expect(
      buildContent({ ...base, featureNames: ['température °C'], rows: [[1], [2]] }).featureNames,
    ).toEqual(['température °C'])
  })

  it('refuses a CSV cell beyond the float32 range with its line and column', () => {
    expect(
      codeOf(() =>
        parseCsvDataset({ task: Task.REGRESSION, csv: 'a,y\n1,2\n3.5e38,1\n', targetColumn: 'y', limits }),
      ),
    ).toMatch(/^BAD_USER_INPUT: line 3, column 1 \("a"\): "3.5e38" is outside the float32 range/)
    expect(
      codeOf(() =>
        parseCsvDataset({ task: Task.REGRESSION, csv: 'a,y\n1,-4e38\n', targetColumn: 'y', limits }),
      ),
    ).toMatch(/line 2, column 2 \("y"\)/)
  })
})

describe('image shape', () => {
  const base = {
    task: Task.UNSUPERVISED,
    featureNames: ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'],
    targetName: null,
    rows: [
      [0, 0.5, 1, 0, 0, 0],
      [1, 1, 1, 0.25, 0, 0],
    ],
    targets: null,
    limits,
  }

  it('is [height, width] with height x width features, or null', () => {
    expect(buildContent({ ...base, imageShape: [2, 3] }).imageShape).toEqual([2, 3])
    expect(buildContent({ ...base, imageShape: [6, 1] }).imageShape).toEqual([6, 1])
    expect(buildContent({ ...base, imageShape: null }).imageShape).toBeNull()
    expect(buildContent(base).imageShape).toBeNull()
  })

  it.each([
    [[], /imageShape must be \[height, width\]: exactly 2 numbers, got 0/],
    [[6], /exactly 2 numbers, got 1/],
    [[2, 3, 1], /exactly 2 numbers, got 3/],
    [[0, 6], /imageShape \[0, 6\] must be 2 positive integers/],
    [[-2, -3], /must be 2 positive integers/],
    [[1.5, 4], /must be 2 positive integers/],
    [[2, 2], /imageShape \[2, 2\] has 4 pixels but there are 6 features/],
    [[3, 3], /has 9 pixels but there are 6 features/],
  ])('refuses %j', (imageShape, message) => {
    expect(codeOf(() => buildContent({ ...base, imageShape }))).toMatch(
      new RegExp(`^BAD_USER_INPUT: .*${message.source}`),
    )
  })

  it('needs every feature value in [0, 1]', () => {
    const rows = [
      [0, 0.5, 1, 0, 0, 0],
      [1, 1, 1, 0.25, 1.01, 0],
    ]
    expect(codeOf(() => buildContent({ ...base, rows, imageShape: [2, 3] }))).toMatch(
      /^BAD_USER_INPUT: row 1, feature "p4": value 1.01 is outside \[0, 1\]/,
    )
    // Without an image shape the same values are fine.
    expect(buildContent({ ...base, rows }).rowCount).toBe(2)
    expect(
      codeOf(() => buildContent({ ...base, rows: [[-0.01, 0, 0, 0, 0, 0]], imageShape: [2, 3] })),
    ).toMatch(/value -0.01 is outside \[0, 1\]/)
  })
})

describe('parseCsvDataset: UNSUPERVISED, factor columns, image shape', () => {
  it('takes no target column for UNSUPERVISED and needs one for the other tasks', () => {
    const c = parseCsvDataset({ task: Task.UNSUPERVISED, csv: 'a,b\n1,2\n3,4\n', limits })
    expect(c).toMatchObject({ task: Task.UNSUPERVISED, targetName: null, featureNames: ['a', 'b'] })
    expect(c.targets).toHaveLength(0)
    expect(
      codeOf(() =>
        parseCsvDataset({ task: Task.UNSUPERVISED, csv: 'a,b\n1,2\n', targetColumn: 'b', limits }),
      ),
    ).toMatch(/^BAD_USER_INPUT: targetColumn must be omitted for UNSUPERVISED datasets/)
    expect(codeOf(() => parseCsvDataset({ task: Task.REGRESSION, csv: 'a,b\n1,2\n', limits }))).toMatch(
      /^BAD_USER_INPUT: targetColumn is required for REGRESSION datasets/,
    )
    expect(
      codeOf(() => parseCsvDataset({ task: Task.REGRESSION, csv: 'a,b\n1,2\n', targetColumn: null, limits })),
    ).toMatch(/targetColumn is required/)
  })

  it('puts factor columns aside, in the order they were named, wherever they stand', () => {
    const c = parseCsvDataset({
      task: Task.REGRESSION,
      csv: 'posX,a,y,shape,b\n0.5,1,9,2,3\n0.25,4,8,0,6\n',
      targetColumn: 'y',
      factorColumns: ['shape', 'posX'],
      limits,
    })
    expect(c.featureNames).toEqual(['a', 'b'])
    expect([...c.features]).toEqual([1, 3, 4, 6])
    expect([...c.targets]).toEqual([9, 8])
    expect(c.factorNames).toEqual(['shape', 'posX'])
    expect([...c.factors]).toEqual([2, 0.5, 0, 0.25])
  })

  it('hashes like the same content given as rows and factors', () => {
    const fromCsv = parseCsvDataset({
      task: Task.UNSUPERVISED,
      csv: 'f,a,b\n7,0.1,0.2\n8,0.3,0.4\n',
      factorColumns: ['f'],
      imageShape: [1, 2],
      limits,
    })
    const direct = buildContent({
      task: Task.UNSUPERVISED,
      featureNames: ['a', 'b'],
      targetName: null,
      rows: [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      targets: null,
      factors: [{ name: 'f', values: [7, 8] }],
      imageShape: [1, 2],
      limits,
    })
    expect(contentHash(fromCsv)).toBe(contentHash(direct))
  })

  const bad: [string, Parameters<typeof parseCsvDataset>[0], RegExp][] = [
    [
      'an unknown factor column',
      { task: Task.UNSUPERVISED, csv: 'a,b\n1,2\n', factorColumns: ['z'], limits },
      /factorColumns "z" is not a column of the csv \(columns: a, b\)/,
    ],
    [
      'the target as a factor',
      { task: Task.REGRESSION, csv: 'a,b,y\n1,2,3\n', targetColumn: 'y', factorColumns: ['y'], limits },
      /the factor "y" is also the target/,
    ],
    [
      'a factor named twice',
      { task: Task.UNSUPERVISED, csv: 'a,b,f\n1,2,3\n', factorColumns: ['f', 'f'], limits },
      /duplicate factor name "f"/,
    ],
    [
      'a factor column that is also a feature column',
      { task: Task.UNSUPERVISED, csv: 'f,b,f\n1,2,3\n', factorColumns: ['f'], limits },
      /the factor "f" is also a feature/,
    ],
    [
      'only factor columns',
      { task: Task.UNSUPERVISED, csv: 'f\n1\n', factorColumns: ['f'], limits },
      /featureNames must not be empty/,
    ],
    [
      'a NUL in a factor column name',
      { task: Task.UNSUPERVISED, csv: 'a,b\n1,2\n', factorColumns: ['a\u0000'], limits },
      /factorColumns contains control characters/,
    ],
    [
      'a NUL in a header',
      { task: Task.UNSUPERVISED, csv: 'a\u0000,b\n1,2\n', limits },
      /featureNames contains control characters/,
    ],
    [
      'a factor cell beyond float32',
      { task: Task.UNSUPERVISED, csv: 'a,f\n1,2\n1,3.5e38\n', factorColumns: ['f'], limits },
      /line 3, column 2 \("f"\): "3.5e38" is outside the float32 range/,
    ],
    [
      'a non-numeric factor cell',
      { task: Task.UNSUPERVISED, csv: 'a,f\n1,x\n', factorColumns: ['f'], limits },
      /line 2, column 2 \("f"\): "x" is not a finite number/,
    ],
    [
      'an image shape that does not fit the features',
      { task: Task.UNSUPERVISED, csv: 'a,b,f\n1,0,3\n', factorColumns: ['f'], imageShape: [1, 3], limits },
      /imageShape \[1, 3\] has 3 pixels but there are 2 features/,
    ],
    [
      'a pixel outside [0, 1]',
      {
        task: Task.UNSUPERVISED,
        csv: 'a,b,f\n1,0,3\n0.5,2,3\n',
        factorColumns: ['f'],
        imageShape: [1, 2],
        limits,
      },
      /line 3, column 2 \("b"\): "2" is outside \[0, 1\]/,
    ],
  ]
  it.each(bad)('refuses %s', (_label, input, message) => {
    expect(codeOf(() => parseCsvDataset(input))).toMatch(new RegExp(`^BAD_USER_INPUT: .*${message.source}`))
  })

  it('counts factor columns toward the size limit', () => {
    // 3,000 rows of one feature fit 5,000 cells; with two factor columns beside it they do not.
    const small = { maxRows: 10_000, maxCells: 5_000 }
    const one = 'a\n' + '1\n'.repeat(3000)
    expect(parseCsvDataset({ task: Task.UNSUPERVISED, csv: one, limits: small }).rowCount).toBe(3000)
    const csv = 'a,f,g\n' + '1,2,3\n'.repeat(3000)
    expect(
      codeOf(() =>
        parseCsvDataset({ task: Task.UNSUPERVISED, csv, factorColumns: ['f', 'g'], limits: small }),
      ),
    ).toMatch(/^PAYLOAD_TOO_LARGE: dataset of 3000 rows x 1 features \+ 2 factors/)
  })
})
