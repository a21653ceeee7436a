import { AppError } from '../../src/errors'
import { parseCsvDataset } from '../../src/modules/dataset/csv'
import { buildContent, contentHash, featureStats } from '../../src/modules/dataset/dataset.content'
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
