import { EvaluationCounter } from '../../../src/explain/model'
import { permutationImportance } from '../../../src/explain/permutation-importance'
import { logLossFromLogits, meanSquaredError, variance } from '../../../src/explain/stats'
import { friedman1, linearModel, uniformRows } from './closed-form'

const names = (m: number) => Array.from({ length: m }, (_, j) => `x${j + 1}`)

describe('permutation importance', () => {
  it('case 1: a linear model scores 2 w_i^2 Var(x_i) (delta MSE); an ignored feature exactly 0', () => {
    const w = [3, -1, 0, 0.5]
    const model = linearModel(2, w)
    const rows = uniformRows(3000, 4, 'pi-linear').map((r) => r.map((v, j) => v * (j + 1)))
    const result = permutationImportance({
      predict: model.predict,
      rows,
      targets: model.predict(rows),
      featureNames: names(4),
      loss: meanSquaredError,
      seed: 11,
    })
    expect(result.baselineLoss).toBe(0)
    result.importances.forEach((imp, j) => {
      const expected = 2 * (w[j] as number) ** 2 * variance(rows.map((r) => r[j] as number))
      if (expected === 0) {
        expect(imp.importance).toBe(0)
        expect(imp.std).toBe(0)
      } else {
        expect(Math.abs(imp.importance / expected - 1)).toBeLessThan(0.05)
        expect(imp.std as number).toBeGreaterThan(0)
      }
      expect(result.increases[j]).toHaveLength(5)
    })
  })

  it('Friedman #1: {x4} > {x1, x2} > {x3, x5} >> {x6..x10}, near 16.6, 13.0, 4.4, 4.2', () => {
    const rows = uniformRows(2000, 10, 'pi-friedman')
    const result = permutationImportance({
      predict: friedman1.predict,
      rows,
      targets: friedman1.predict(rows),
      featureNames: names(10),
      loss: meanSquaredError,
    })
    const imp = result.importances.map((i) => i.importance)
    const [i1, i2, i3, i4, i5] = imp as [number, number, number, number, number]
    expect(i4).toBeGreaterThan(Math.max(i1, i2))
    expect(Math.min(i1, i2)).toBeGreaterThan(Math.max(i3, i5))
    expect(Math.min(i3, i5)).toBeGreaterThan(2)
    expect(imp.slice(5)).toEqual([0, 0, 0, 0, 0])
    const near = (value: number, expected: number) =>
      expect(Math.abs(value / expected - 1)).toBeLessThan(0.08)
    near(i4, 16.6)
    near(i1, 13.0)
    near(i2, 13.0)
    near(i3, 4.4)
    near(i5, 4.2)
  })

  it('shuffles every feature with the same permutations, like scikit-learn', () => {
    // Two identical columns with identical weights must get identical increases, repeat by repeat.
    const rows = uniformRows(200, 2, 'same').map((r) => Float64Array.of(r[0] as number, r[0] as number))
    const model = linearModel(0, [1, 1])
    const result = permutationImportance({
      predict: model.predict,
      rows,
      targets: model.predict(rows),
      featureNames: names(2),
      loss: meanSquaredError,
      nRepeats: 4,
    })
    expect(result.increases[1]).toEqual(result.increases[0])
    expect(new Set(result.increases[0]).size).toBe(4)
  })

  it('is seeded and costs (1 + M * nRepeats) * n rows', () => {
    const rows = uniformRows(100, 10, 'seeded')
    const targets = friedman1.predict(rows)
    const run = (seed: number) => {
      const counter = new EvaluationCounter(friedman1.predict)
      const result = permutationImportance({
        predict: counter.predict,
        rows,
        targets,
        featureNames: names(10),
        loss: meanSquaredError,
        nRepeats: 3,
        seed,
      })
      return { result, evaluations: counter.evaluations }
    }
    const a = run(1)
    expect(run(1).result).toEqual(a.result)
    expect(run(2).result.importances[3]?.importance).not.toBe(a.result.importances[3]?.importance)
    expect(a.evaluations).toBe((1 + 10 * 3) * 100)
  })

  it('works with log-loss on logits for classification', () => {
    const model = linearModel(0, [4, 0])
    const rows = uniformRows(500, 2, 'clf').map((r) => r.map((v) => v - 0.5))
    const targets = Float64Array.from(model.predict(rows), (z) => (z > 0 ? 1 : 0))
    const result = permutationImportance({
      predict: model.predict,
      rows,
      targets,
      featureNames: ['informative', 'ignored'],
      loss: logLossFromLogits,
    })
    expect(result.importances[0]?.importance).toBeGreaterThan(0.3)
    expect(result.importances[1]?.importance).toBe(0)
  })
})
