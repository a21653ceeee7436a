import { ExplainInputError } from '../../../src/explain/errors'
import {
  activeUnits,
  decoderIntegratedGradients,
  decoderSensitivity,
  encoderAttribution,
  generatorSurrogate,
  latentTraversals,
  type Decode,
  type DecoderJacobian,
  type Encode,
  type EncoderJacobian,
} from '../../../src/explain/latent'
import { createRng } from '../../../src/explain/random'
import { principalAngles } from '../../../src/explain/subspace'
import { sum } from './closed-form'

/** A closed-form decoder with its analytic Jacobian. */
interface ClosedFormDecoder {
  decode: Decode
  jacobian: DecoderJacobian
}

const at = (m: readonly (readonly number[])[], i: number, j: number): number =>
  (m[i] as readonly number[])[j] as number

/** g(z) = A z + b; the Jacobian is A everywhere. */
function linearDecoder(a: readonly (readonly number[])[], b: readonly number[]): ClosedFormDecoder {
  return {
    decode: (z) =>
      z.map((row) =>
        Float64Array.from(a, (ai, i) =>
          ai.reduce((s, aij, j) => s + aij * (row[j] as number), b[i] as number),
        ),
      ),
    jacobian: (z) => z.map(() => Float64Array.from(a.flat())),
  }
}

const sech2 = (v: number): number => 1 / Math.cosh(v) ** 2

/** g_1 = z_1^2 z_2, g_2 = tanh(z_1), g_3 = 5 (a constant output). */
const nonlinear: ClosedFormDecoder = {
  decode: (z) =>
    z.map((r) => Float64Array.of((r[0] as number) ** 2 * (r[1] as number), Math.tanh(r[0] as number), 5)),
  jacobian: (z) =>
    z.map((r) => {
      const z1 = r[0] as number
      const z2 = r[1] as number
      return Float64Array.of(2 * z1 * z2, z1 * z1, sech2(z1), 0, 0, 0)
    }),
}

/** Records the number of rows of every call. */
function recording<F extends (rows: readonly Float64Array[]) => R, R>(fn: F): { fn: F; sizes: number[] } {
  const sizes: number[] = []
  const wrapped = ((rows: readonly Float64Array[]) => {
    sizes.push(rows.length)
    return fn(rows)
  }) as F
  return { fn: wrapped, sizes }
}

function randomRows(n: number, width: number, seed: string, scale = 2): Float64Array[] {
  const rng = createRng(seed, 'latent-test-rows')
  return Array.from({ length: n }, () => Float64Array.from({ length: width }, () => scale * (2 * rng() - 1)))
}

const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void => {
  expect(actual).toHaveLength(expected.length)
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThanOrEqual(tolerance)
  }
}

// 5 outputs, 3 latents, every entry distinct so a transposed or shuffled matrix cannot pass.
const A = [
  [1.5, -0.7, 0.2],
  [-2.1, 0.9, 3.3],
  [0.4, -1.8, -0.6],
  [2.7, 0.3, -1.1],
  [-0.5, 1.2, 0.8],
]
const B = [0.25, -1.5, 3, 0.75, -2]
const linear = linearDecoder(A, B)
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4']
const applyA = (z: readonly number[]): number[] =>
  A.map((ai, i) => ai.reduce((s, aij, j) => s + aij * (z[j] as number), B[i] as number))

describe('latentTraversals', () => {
  const origins = [
    { rowIndex: null, z: new Float64Array(3) },
    { rowIndex: 7, z: Float64Array.of(0.3, -1.2, 2) },
  ]

  it('linear decoder: outputs[g] = A (z0 + grid[g] e_k) + b for every origin and latent', () => {
    const traversals = latentTraversals({ decode: linear.decode, latentDim: 3, origins })
    expect(traversals).toHaveLength(6)
    traversals.forEach((t, n) => {
      const origin = origins[Math.floor(n / 3)] as (typeof origins)[number]
      expect(t.latent).toBe(n % 3)
      expect(t.rowIndex).toBe(origin.rowIndex)
      expect(t.origin).toEqual(Array.from(origin.z))
      expect(t.grid).toHaveLength(11)
      expect(t.outputs).toHaveLength(11)
      t.grid.forEach((step, g) => {
        const z = Array.from(origin.z)
        z[t.latent] = (z[t.latent] as number) + step
        expectClose(t.outputs[g] as number[], applyA(z), 1e-12)
      })
    })
  })

  it('the grid is evenly spaced over [-range, range], symmetric, with 0 in the middle', () => {
    const [first] = latentTraversals({ decode: linear.decode, latentDim: 3, origins })
    expect(first?.grid).toEqual(
      [-3, -2.4, -1.8, -1.2, -0.6, 0, 0.6, 1.2, 1.8, 2.4, 3].map((v) => expect.closeTo(v, 14)),
    )
    expect(first?.grid[5]).toBe(0)
    const [custom] = latentTraversals({ decode: linear.decode, latentDim: 3, origins, steps: 4, range: 1.5 })
    expect(custom?.grid).toEqual([-1.5, -0.5, 0.5, 1.5])
  })

  it('decodes all grid points together, in calls bounded by maxBatchRows', () => {
    const { fn, sizes } = recording(linear.decode)
    const all = latentTraversals({ decode: fn, latentDim: 3, origins })
    expect(sizes).toEqual([66])
    sizes.length = 0
    const split = latentTraversals({ decode: fn, latentDim: 3, origins, maxBatchRows: 10 })
    expect(sizes).toEqual([10, 10, 10, 10, 10, 10, 6])
    expect(split).toEqual(all)
  })

  it('rejects inconsistent origins', () => {
    const run = (o: { rowIndex: number | null; z: Float64Array }[], steps?: number) => () =>
      latentTraversals({ decode: linear.decode, latentDim: 3, origins: o, steps })
    expect(run([{ rowIndex: null, z: Float64Array.of(0, 1, 0) }])).toThrow(ExplainInputError)
    expect(run([{ rowIndex: 1, z: Float64Array.of(0, 1) }])).toThrow(/expected 3/)
    expect(run([{ rowIndex: 1, z: Float64Array.of(0, Number.NaN, 1) }])).toThrow(/finite/)
    expect(run([{ rowIndex: -1, z: Float64Array.of(0, 0, 1) }])).toThrow(ExplainInputError)
    expect(run([])).toThrow(/at least one/)
    expect(run(origins, 1)).toThrow(/steps/)
    expect(() => latentTraversals({ decode: linear.decode, latentDim: 0, origins })).toThrow(/latentDim/)
  })
})

describe('decoderSensitivity', () => {
  const z = randomRows(7, 3, 'sensitivity')

  it('linear decoder: the signed mean is A and the mean |.| is |A|, exactly', () => {
    const { entries } = decoderSensitivity({
      jacobian: linear.jacobian,
      z,
      latentDim: 3,
      featureNames: FEATURES,
    })
    expect(entries).toHaveLength(15)
    entries.forEach((e, n) => {
      // Latent-major order.
      expect(e.latent).toBe(Math.floor(n / 5))
      expect(e.feature).toBe(FEATURES[n % 5])
      const i = n % 5
      expect(Math.abs(e.value - at(A, i, e.latent))).toBeLessThanOrEqual(1e-12)
      expect(Math.abs(e.meanAbs - Math.abs(at(A, i, e.latent)))).toBeLessThanOrEqual(1e-12)
    })
  })

  it('nonlinear decoder: signed mean and mean |.| differ where the Jacobian changes sign', () => {
    const rows = [Float64Array.of(1, 2), Float64Array.of(-1, 3)]
    const { entries } = decoderSensitivity({
      jacobian: nonlinear.jacobian,
      z: rows,
      latentDim: 2,
      featureNames: ['g1', 'g2', 'g3'],
    })
    const get = (latent: number, feature: string) =>
      entries.find((e) => e.latent === latent && e.feature === feature)
    // d g1 / d z1 = 2 z1 z2: 4 and -6.
    expect(get(0, 'g1')).toEqual({ latent: 0, feature: 'g1', value: -1, meanAbs: 5 })
    // d g1 / d z2 = z1^2: 1 and 1.
    expect(get(1, 'g1')).toEqual({ latent: 1, feature: 'g1', value: 1, meanAbs: 1 })
    expect(get(0, 'g2')?.value).toBeCloseTo(sech2(1), 15)
    expect(get(1, 'g2')).toEqual({ latent: 1, feature: 'g2', value: 0, meanAbs: 0 })
  })

  it('batches the Jacobian calls and rejects a Jacobian of the wrong size', () => {
    const { fn, sizes } = recording(linear.jacobian)
    const many = randomRows(25, 3, 'sensitivity-many')
    const one = decoderSensitivity({ jacobian: fn, z: many, latentDim: 3, featureNames: FEATURES })
    expect(sizes).toEqual([25])
    sizes.length = 0
    const split = decoderSensitivity({
      jacobian: fn,
      z: many,
      latentDim: 3,
      featureNames: FEATURES,
      maxBatchRows: 10,
    })
    expect(sizes).toEqual([10, 10, 5])
    split.entries.forEach((e, n) => expect(e.value).toBeCloseTo((one.entries[n] as typeof e).value, 14))
    expect(() =>
      decoderSensitivity({ jacobian: linear.jacobian, z, latentDim: 3, featureNames: ['f0', 'f1'] }),
    ).toThrow(/expected 6/)
    expect(() =>
      decoderSensitivity({ jacobian: linear.jacobian, z: [], latentDim: 3, featureNames: FEATURES }),
    ).toThrow(ExplainInputError)
  })
})

describe('decoderIntegratedGradients', () => {
  it.each([1, 2, 50])("linear decoder: IG_ij = A_ij (z_j - z'_j) exactly with %i steps", (steps) => {
    const z = randomRows(4, 3, 'ig-linear')
    const baseline = Float64Array.of(0.5, -0.25, 1)
    const result = decoderIntegratedGradients({ ...linear, z, baseline, steps })
    expect(result.steps).toBe(steps)
    result.attributions.forEach((ig, r) => {
      const row = z[r] as Float64Array
      const expected = A.flatMap((ai) =>
        ai.map((aij, j) => aij * ((row[j] as number) - (baseline[j] as number))),
      )
      expectClose(ig, expected, 1e-12)
      expectClose(result.outputs[r] as Float64Array, applyA(Array.from(row)), 1e-12)
    })
    expectClose(result.baselineOutput, applyA(Array.from(baseline)), 1e-12)
    expect(result.check.maxGap).toBeLessThan(1e-12)
    expect(result.check.relativeMaxGap).toBeLessThan(1e-12)
  })

  it('the baseline defaults to 0, the prior mean', () => {
    const result = decoderIntegratedGradients({ ...linear, z: [Float64Array.of(1, 2, 3)] })
    expectClose(result.baselineOutput, B, 1e-15)
    expectClose(
      result.attributions[0] as Float64Array,
      A.flatMap((ai) => ai.map((aij, j) => aij * (j + 1))),
      1e-12,
    )
  })

  it('g = z1^2 z2 at (1, 1) from 0: IG = (2/3, 1/3); tanh(z1): IG = (tanh 1, 0)', () => {
    const result = decoderIntegratedGradients({ ...nonlinear, z: [Float64Array.of(1, 1)] })
    const ig = result.attributions[0] as Float64Array
    expectClose(ig.subarray(0, 2), [2 / 3, 1 / 3], 1e-14)
    expectClose(ig.subarray(2, 4), [Math.tanh(1), 0], 1e-14)
    expectClose(ig.subarray(4, 6), [0, 0], 0)
  })

  it('g = z1^2 z2 from a non-zero baseline matches the closed-form path integral', () => {
    const z = Float64Array.of(1.7, -0.6)
    const r = Float64Array.of(-0.4, 1.3)
    const d1 = (z[0] as number) - (r[0] as number)
    const d2 = (z[1] as number) - (r[1] as number)
    const r1 = r[0] as number
    const r2 = r[1] as number
    // Along p(a) = r + a d: integral of 2 p1 p2 and of p1^2 over [0, 1].
    const expected1 = d1 * 2 * (r1 * r2 + (r1 * d2 + r2 * d1) / 2 + (d1 * d2) / 3)
    const expected2 = d2 * (r1 * r1 + r1 * d1 + (d1 * d1) / 3)
    const result = decoderIntegratedGradients({ ...nonlinear, z: [z], baseline: r, steps: 2 })
    expectClose((result.attributions[0] as Float64Array).subarray(0, 2), [expected1, expected2], 1e-13)
  })

  it('reports the completeness gap: rounding-level with 50 steps, visible with 2', () => {
    const z = [Float64Array.of(1, 1), Float64Array.of(2, -1), Float64Array.of(-1.5, 0.5)]
    const fine = decoderIntegratedGradients({ ...nonlinear, z })
    const coarse = decoderIntegratedGradients({ ...nonlinear, z, steps: 2 })
    for (const result of [fine, coarse]) {
      result.gaps.forEach((gaps, row) => {
        const ig = result.attributions[row] as Float64Array
        const out = result.outputs[row] as Float64Array
        for (let i = 0; i < 3; i++) {
          const change = (out[i] as number) - (result.baselineOutput[i] as number)
          expect(gaps[i]).toBe(Math.abs((ig[2 * i] as number) + (ig[2 * i + 1] as number) - change))
        }
      })
    }
    expect(fine.check.maxGap).toBeLessThan(1e-13)
    expect(fine.check.relativeMaxGap).toBeLessThan(1e-13)
    // tanh(2 a) on two Gauss-Legendre points: about 0.03 of tanh(2) = 0.96.
    expect(coarse.check.maxGap).toBeGreaterThan(0.01)
    expect(coarse.check.relativeMaxGap).toBeGreaterThan(0.01)
    expect(coarse.check.meanGap).toBeGreaterThan(fine.check.meanGap)
    // z1^2 z2 is a cubic along the path: exact on 2 points, so its gaps stay at rounding level.
    coarse.gaps.forEach((gaps) => expect(gaps[0]).toBeLessThan(1e-13))
  })

  it('asks for the Jacobian of several paths per call, never more than maxBatchRows rows', () => {
    const z = randomRows(5, 3, 'ig-batching')
    const jac = recording(linear.jacobian)
    const dec = recording(linear.decode)
    const run = (maxBatchRows?: number) =>
      decoderIntegratedGradients({ decode: dec.fn, jacobian: jac.fn, z, steps: 50, maxBatchRows })
    const all = run()
    expect(jac.sizes).toEqual([250])
    expect(dec.sizes).toEqual([6])
    jac.sizes.length = 0
    const two = run(120)
    expect(jac.sizes).toEqual([100, 100, 50])
    jac.sizes.length = 0
    // A path longer than the bound is split rather than breaking it.
    const split = run(16)
    expect(Math.max(...jac.sizes)).toBeLessThanOrEqual(16)
    expect(sum(jac.sizes)).toBe(250)
    expect(two.attributions).toEqual(all.attributions)
    expect(split.attributions).toEqual(all.attributions)
  })

  it('rejects inconsistent inputs and model answers', () => {
    expect(() => decoderIntegratedGradients({ ...linear, z: [] })).toThrow(/at least one/)
    expect(() =>
      decoderIntegratedGradients({ ...linear, z: [Float64Array.of(1, 2, 3), Float64Array.of(1, 2)] }),
    ).toThrow(/expected 3/)
    expect(() =>
      decoderIntegratedGradients({ ...linear, z: [Float64Array.of(1, 2, 3)], baseline: Float64Array.of(0) }),
    ).toThrow(ExplainInputError)
    expect(() =>
      decoderIntegratedGradients({
        decode: linear.decode,
        jacobian: nonlinear.jacobian,
        z: [Float64Array.of(1, 2, 3)],
      }),
    ).toThrow(/expected 15/)
    expect(() =>
      decoderIntegratedGradients({ ...linear, z: [Float64Array.of(1, Number.POSITIVE_INFINITY, 3)] }),
    ).toThrow(/finite/)
  })
})

describe('generatorSurrogate', () => {
  it('linear decoder: weights = A rows, intercept = b, R^2 = 1', () => {
    const result = generatorSurrogate({
      decode: linear.decode,
      latentDim: 3,
      featureNames: FEATURES,
      seed: 1,
    })
    expect(result.draws).toBe(2000)
    result.features.forEach((f, i) => {
      expect(f.feature).toBe(FEATURES[i])
      expectClose(f.weights, A[i] as number[], 1e-12)
      expect(Math.abs(f.intercept - (B[i] as number))).toBeLessThan(1e-12)
      expect(f.fidelityR2).toBeGreaterThan(1 - 1e-12)
    })
    expect(result.overallR2).toBeGreaterThan(1 - 1e-12)
  })

  it('nonlinear decoder: R^2 < 1, near its population value, and equal to 1 - SSE/SST on the draws', () => {
    const dec = recording(nonlinear.decode)
    const draws: Float64Array[] = []
    const decode: Decode = (z) => {
      draws.push(...z)
      return dec.fn(z)
    }
    const result = generatorSurrogate({ decode, latentDim: 2, featureNames: ['g1', 'g2', 'g3'], seed: 'nl' })
    const [g1, g2, g3] = result.features as [
      (typeof result.features)[number],
      (typeof result.features)[number],
      (typeof result.features)[number],
    ]
    // z1^2 z2 on N(0, I): Cov with z2 is E z1^2 = 1, Var = E z1^4 E z2^2 = 3, so population R^2 = 1/3.
    expect(g1.fidelityR2).toBeLessThan(0.6)
    expect(Math.abs(g1.fidelityR2 - 1 / 3)).toBeLessThan(0.1)
    expect(Math.abs((g1.weights[1] as number) - 1)).toBeLessThan(0.15)
    // tanh(z1): slope E[sech^2 z] (Stein), R^2 = E[sech^2 z]^2 / E[tanh^2 z]; integrals by a fine trapezoid.
    let eSech2 = 0
    let eTanh2 = 0
    const h = 1e-3
    for (let x = -12; x <= 12; x += h) {
      const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)
      eSech2 += h * pdf * sech2(x)
      eTanh2 += h * pdf * Math.tanh(x) ** 2
    }
    expect(g2.fidelityR2).toBeLessThan(0.99)
    expect(Math.abs(g2.fidelityR2 - (eSech2 * eSech2) / eTanh2)).toBeLessThan(0.02)
    expect(Math.abs((g2.weights[0] as number) - eSech2)).toBeLessThan(0.03)
    expect(Math.abs(g2.weights[1] as number)).toBeLessThan(0.03)
    // A constant output is fitted exactly by its intercept: R^2 = 1 by convention.
    expect(g3.fidelityR2).toBe(1)
    expect(g3.intercept).toBeCloseTo(5, 12)
    expectClose(g3.weights, [0, 0], 1e-12)

    // Recompute R^2 from the draws the decoder actually saw.
    expect(draws).toHaveLength(2000)
    let sseTotal = 0
    let sstTotal = 0
    result.features.forEach((f, i) => {
      const targets = draws.map((z) => (nonlinear.decode([z])[0] as Float64Array)[i] as number)
      const m = sum(targets) / targets.length
      let sse = 0
      let sst = 0
      draws.forEach((z, r) => {
        const fitted =
          f.intercept +
          (f.weights[0] as number) * (z[0] as number) +
          (f.weights[1] as number) * (z[1] as number)
        sse += ((targets[r] as number) - fitted) ** 2
        sst += ((targets[r] as number) - m) ** 2
      })
      sseTotal += sse
      sstTotal += sst
      if (i < 2) expect(f.fidelityR2).toBeCloseTo(1 - sse / sst, 10)
    })
    expect(result.overallR2).toBeCloseTo(1 - sseTotal / sstTotal, 10)
    expect(result.overallR2).toBeLessThan(1)
  })

  it('draws z from a standard normal, seeded', () => {
    const draws: Float64Array[] = []
    const decode: Decode = (z) => {
      draws.push(...z.map((row) => Float64Array.from(row)))
      return linear.decode(z)
    }
    const first = generatorSurrogate({ decode, latentDim: 3, featureNames: FEATURES, draws: 4000, seed: 9 })
    expect(draws).toHaveLength(4000)
    for (let j = 0; j < 3; j++) {
      const values = draws.map((z) => z[j] as number)
      const m = sum(values) / values.length
      const v = sum(values.map((x) => (x - m) ** 2)) / values.length
      expect(Math.abs(m)).toBeLessThan(0.06)
      expect(Math.abs(v - 1)).toBeLessThan(0.08)
      // Fourth moment 3: a uniform or a badly transformed draw would fail here.
      const kurtosis = sum(values.map((x) => (x - m) ** 4)) / values.length / (v * v)
      expect(Math.abs(kurtosis - 3)).toBeLessThan(0.35)
    }
    const firstDraws = draws.splice(0)
    const again = generatorSurrogate({ decode, latentDim: 3, featureNames: FEATURES, draws: 4000, seed: 9 })
    expect(draws).toEqual(firstDraws)
    expect(again).toEqual(first)
    draws.length = 0
    generatorSurrogate({ decode, latentDim: 3, featureNames: FEATURES, draws: 4000, seed: 10 })
    expect(draws).not.toEqual(firstDraws)
  })

  it('the nonlinear fit is deterministic for a seed and changes with it', () => {
    const run = (seed: number) =>
      generatorSurrogate({
        decode: nonlinear.decode,
        latentDim: 2,
        featureNames: ['g1', 'g2', 'g3'],
        draws: 500,
        seed,
      })
    expect(run(3)).toEqual(run(3))
    expect(run(3).features[0]?.weights).not.toEqual(run(4).features[0]?.weights)
  })

  it('decodes the draws in calls bounded by maxBatchRows', () => {
    const { fn, sizes } = recording(linear.decode)
    const all = generatorSurrogate({ decode: fn, latentDim: 3, featureNames: FEATURES, seed: 2 })
    expect(sizes).toEqual([2000])
    sizes.length = 0
    const split = generatorSurrogate({
      decode: fn,
      latentDim: 3,
      featureNames: FEATURES,
      seed: 2,
      maxBatchRows: 500,
    })
    expect(sizes).toEqual([500, 500, 500, 500])
    expect(split).toEqual(all)
  })

  it('rejects too few draws and outputs that do not match the feature names', () => {
    expect(() =>
      generatorSurrogate({ decode: linear.decode, latentDim: 3, featureNames: FEATURES, draws: 4, seed: 1 }),
    ).toThrow(/draws/)
    expect(() =>
      generatorSurrogate({ decode: linear.decode, latentDim: 3, featureNames: ['a', 'b'], seed: 1 }),
    ).toThrow(/expected 2/)
    expect(() =>
      generatorSurrogate({ decode: linear.decode, latentDim: 3, featureNames: [], seed: 1 }),
    ).toThrow(ExplainInputError)
  })
})

describe('column spaces of the decoder explanations', () => {
  it('sensitivity and surrogate weights of g(z) = A M z span the column space of A (principal angles ~0)', () => {
    // Latents mixed by an invertible M: the matrices change, their column space does not.
    const M = [
      [0.9, -0.4, 1.1],
      [0.3, 1.2, -0.5],
      [-0.7, 0.2, 0.8],
    ]
    const AM = A.map((row) => M[0]!.map((_, j) => row.reduce((s, v, k) => s + v * at(M, k, j), 0)))
    const mixed = linearDecoder(AM, B)
    const { entries } = decoderSensitivity({
      jacobian: mixed.jacobian,
      z: randomRows(4, 3, 'mixed'),
      latentDim: 3,
      featureNames: FEATURES,
    })
    const sensitivity = FEATURES.map((f) =>
      [0, 1, 2].map((j) => entries.find((e) => e.feature === f && e.latent === j)!.value),
    )
    const surrogate = generatorSurrogate({
      decode: mixed.decode,
      latentDim: 3,
      featureNames: FEATURES,
      seed: 5,
    })
    const weights = surrogate.features.map((f) => f.weights)
    for (const m of [sensitivity, weights]) {
      const angles = principalAngles(m, A)
      expect(angles).toHaveLength(3)
      angles.forEach((t) => expect(t).toBeLessThan(1e-8))
    }
    // The check can fail: a decoder whose third direction is not A's leaves one angle well away from 0.
    const other = A.map((row, i) => [row[0] as number, row[1] as number, [1, 0, 0, 0, 1][i] as number])
    const angles = principalAngles(other, A)
    expect(angles[0]).toBeLessThan(1e-8)
    expect(angles[2]).toBeGreaterThan(10)
  })
})

describe('encoderAttribution', () => {
  // mu(x) = W x + c: 2 latents, 4 features.
  const W = [
    [0.8, -1.3, 0, 2.2],
    [-0.4, 0.6, 1.7, -0.9],
  ]
  const c = [0.3, -0.2]
  const muOf = (x: Float64Array): Float64Array =>
    Float64Array.from(W, (wj, j) => wj.reduce((s, wji, i) => s + wji * (x[i] as number), c[j] as number))
  const encode: Encode = (rows) => ({ mean: rows.map(muOf), logVar: rows.map(() => new Float64Array(2)) })
  const jacobian: EncoderJacobian = (rows) => rows.map(() => Float64Array.from(W.flat()))
  const names = ['x1', 'x2', 'x3', 'x4']
  const rows = randomRows(6, 4, 'encoder', 3)
  const baseline = Float64Array.of(0.5, -1, 2, 0.1)

  it("linear encoder: value = mean |W_ji (x_i - x'_i)|, gaps ~0", () => {
    const result = encoderAttribution({ encode, jacobian, rows, baseline, featureNames: names, latentDim: 2 })
    expect(result.entries).toHaveLength(8)
    result.entries.forEach((e, n) => {
      expect(e.latent).toBe(Math.floor(n / 4))
      const i = n % 4
      expect(e.feature).toBe(names[i])
      const expected =
        sum(rows.map((x) => Math.abs(at(W, e.latent, i) * ((x[i] as number) - (baseline[i] as number))))) /
        rows.length
      expect(Math.abs(e.value - expected)).toBeLessThanOrEqual(1e-12)
    })
    // The feature latent 0 ignores gets exactly 0.
    expect(result.entries[2]?.value).toBe(0)
    expectClose(result.baselineMean, muOf(baseline), 1e-15)
    expect(result.check.maxGap).toBeLessThan(1e-12)
    expect(result.check.meanGap).toBeLessThan(1e-12)
    expect(result.check.relativeMaxGap).toBeLessThan(1e-12)
  })

  it('mu_1 = x1 x2 from baseline r: IG = ((x1 - r1)(x2 + r2)/2, (x2 - r2)(x1 + r1)/2)', () => {
    const productEncode: Encode = (xs) => ({
      mean: xs.map((x) => Float64Array.of((x[0] as number) * (x[1] as number))),
      logVar: xs.map(() => new Float64Array(1)),
    })
    const productJacobian: EncoderJacobian = (xs) =>
      xs.map((x) => Float64Array.of(x[1] as number, x[0] as number))
    const x = Float64Array.of(2.5, 3)
    const r = Float64Array.of(0.4, -1.1)
    const result = encoderAttribution({
      encode: productEncode,
      jacobian: productJacobian,
      rows: [x],
      baseline: r,
      featureNames: ['x1', 'x2'],
      latentDim: 1,
    })
    expectClose(
      result.attributions[0] as Float64Array,
      [((2.5 - 0.4) * (3 - 1.1)) / 2, ((3 + 1.1) * (2.5 + 0.4)) / 2],
      1e-12,
    )
    expect(result.check.maxGap).toBeLessThan(1e-12)
  })

  it('batches encode and Jacobian calls and rejects mismatched answers', () => {
    const enc = recording(encode)
    const jac = recording(jacobian)
    encoderAttribution({
      encode: enc.fn,
      jacobian: jac.fn,
      rows,
      baseline,
      featureNames: names,
      latentDim: 2,
      steps: 10,
    })
    expect(enc.sizes).toEqual([7])
    expect(jac.sizes).toEqual([60])
    jac.sizes.length = 0
    encoderAttribution({
      encode: enc.fn,
      jacobian: jac.fn,
      rows,
      baseline,
      featureNames: names,
      latentDim: 2,
      steps: 10,
      maxBatchRows: 25,
    })
    expect(jac.sizes).toEqual([20, 20, 20])
    expect(() =>
      encoderAttribution({ encode, jacobian, rows, baseline, featureNames: names, latentDim: 3 }),
    ).toThrow(/expected 3/)
    expect(() =>
      encoderAttribution({
        encode,
        jacobian,
        rows,
        baseline: Float64Array.of(0),
        featureNames: names,
        latentDim: 2,
      }),
    ).toThrow(ExplainInputError)
    expect(() =>
      encoderAttribution({ encode, jacobian, rows: [], baseline, featureNames: names, latentDim: 2 }),
    ).toThrow(/at least one/)
  })
})

describe('activeUnits', () => {
  const ln2 = Math.log(2)
  // Latent 0 moves its mean, latent 1 is collapsed, latent 2 only widens its variance.
  const mean = [Float64Array.of(1, 0, 0), Float64Array.of(-1, 0, 0), Float64Array.of(2, 0, 0)]
  const logVar = [Float64Array.of(0, 0, ln2), Float64Array.of(0, 0, ln2), Float64Array.of(0, 0, ln2)]

  it('KL and Burda variance computed by hand', () => {
    const [u0, u1, u2] = activeUnits({ mean, logVar }) as [
      ReturnType<typeof activeUnits>[number],
      ReturnType<typeof activeUnits>[number],
      ReturnType<typeof activeUnits>[number],
    ]
    // 0.5 mu^2 per row with log sigma^2 = 0: (0.5 + 0.5 + 2) / 3 = 1.
    expect(u0.kl).toBeCloseTo(1, 15)
    // Means 1, -1, 2: mean 2/3, population variance 14/9.
    expect(u0.variance).toBeCloseTo(14 / 9, 15)
    expect(u0.active).toBe(true)
    expect(u1).toEqual({ latent: 1, kl: 0, variance: 0, active: false })
    // 0.5 (2 - ln 2 - 1) = 0.1534: active by KL, yet Burda's statistic is 0.
    expect(u2.kl).toBeCloseTo(0.5 * (1 - ln2), 15)
    expect(u2.variance).toBe(0)
    expect(u2.active).toBe(true)
  })

  it('mu = 1, log sigma^2 = 0 gives 0.5 nats; the threshold is inclusive', () => {
    const [unit] = activeUnits({ mean: [Float64Array.of(1)], logVar: [Float64Array.of(0)], threshold: 0.5 })
    expect(unit).toEqual({ latent: 0, kl: 0.5, variance: 0, active: true })
    const [above] = activeUnits({ mean: [Float64Array.of(1)], logVar: [Float64Array.of(0)], threshold: 0.51 })
    expect(above?.active).toBe(false)
    // A nearly collapsed latent: sigma^2 = 0.98, KL = 0.5 (expm1(lv) - lv) ~ 1e-4, below the default 0.01.
    const [faint] = activeUnits({ mean: [Float64Array.of(0)], logVar: [Float64Array.of(Math.log(0.98))] })
    expect(faint?.kl).toBeCloseTo(0.5 * (0.98 - Math.log(0.98) - 1), 15)
    expect(faint?.active).toBe(false)
  })

  it('rejects inconsistent inputs', () => {
    expect(() => activeUnits({ mean: [], logVar: [] })).toThrow(/at least one/)
    expect(() => activeUnits({ mean, logVar: logVar.slice(1) })).toThrow(ExplainInputError)
    expect(() =>
      activeUnits({ mean, logVar: [Float64Array.of(0), Float64Array.of(0), Float64Array.of(0)] }),
    ).toThrow(/expected 3/)
    expect(() => activeUnits({ mean: [Float64Array.of(Number.NaN)], logVar: [Float64Array.of(0)] })).toThrow(
      /finite/,
    )
  })
})
