import {
  dciFromImportance,
  discretize,
  discretizeFactor,
  disentanglement,
  entropy,
  mig,
  mutualInformation,
  sap,
  sapScoreMatrix,
  type DisentanglementResult,
} from '../../../src/explain/disentanglement'
import { ExplainInputError } from '../../../src/explain/errors'
import { createRng, type Rng } from '../../../src/explain/random'

const BINS = 20

/** rows x width of independent uniform levels 0..levels-1. */
function levelRows(n: number, width: number, levels: number, rng: Rng): Float64Array[] {
  return Array.from({ length: n }, () =>
    Float64Array.from({ length: width }, () => Math.floor(rng() * levels)),
  )
}

const names = (K: number): string[] => Array.from({ length: K }, (_, k) => `v${k + 1}`)

/** Every score of a result, in a fixed order, for comparing two runs. */
function allScores(r: DisentanglementResult): number[] {
  return [
    r.mig,
    r.sap,
    r.dciDisentanglement,
    r.dciCompleteness,
    r.dciInformativeness,
    ...r.factors.flatMap((f) => [f.mig, f.sap, f.completeness, f.informativeness, f.entropy]),
  ]
}

/** log base 3 of 2: completeness of a factor shared equally by two of three latents is 1 - this. */
const LOG3_2 = Math.log(2) / Math.log(3)

describe('discretisation, entropy and mutual information', () => {
  it('bins equal-width over the observed range, the maximum in the last bin; a constant is one bin', () => {
    // Edges 0, 2, 4 as numpy.histogram([0..4], 2): [0, 2) and [2, 4].
    expect(Array.from(discretize([0, 1, 2, 3, 4], 2))).toEqual([0, 0, 1, 1, 1])
    expect(Array.from(discretize([-1, -0.5, 0.49, 0.5, 1], 4))).toEqual([0, 1, 2, 3, 3])
    expect(Array.from(discretize([7, 7, 7], 20))).toEqual([0, 0, 0])
  })

  it('keeps a factor with at most `bins` distinct values as its own classes, bins the others', () => {
    // Equal-width bins would merge 10 and 11 (and leave a gap); classes do not.
    expect(Array.from(discretizeFactor([10, -1, 10, 11], 3))).toEqual([1, 0, 1, 2])
    expect(Array.from(discretizeFactor([0, 1, 2, 3, 4], 2))).toEqual([0, 0, 1, 1, 1])
  })

  it('plug-in entropy in nats', () => {
    expect(entropy([0, 0, 1, 1])).toBeCloseTo(Math.log(2), 14)
    expect(entropy([5, 5, 5, 9])).toBeCloseTo(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)), 14)
    expect(entropy([3, 3, 3])).toBe(0)
  })

  it('plug-in mutual information matches a contingency table worked by hand', () => {
    expect(mutualInformation([0, 0, 1, 1], [4, 4, 7, 7])).toBeCloseTo(Math.log(2), 14)
    expect(mutualInformation([0, 0, 1, 1], [0, 1, 0, 1])).toBe(0)
    // Cells (0,0) = 2, (0,1) = 1, (1,1) = 1; marginals (3/4, 1/4) and (1/2, 1/2).
    const byHand =
      0.5 * Math.log(0.5 / (0.75 * 0.5)) + 0.25 * Math.log(0.25 / (0.75 * 0.5)) + 0.25 * Math.log(2)
    expect(byHand).toBeCloseTo(0.2157615543, 9) // sklearn mutual_info_score([0,0,0,1], [0,0,1,1])
    expect(mutualInformation([0, 0, 0, 1], [0, 0, 1, 1])).toBeCloseTo(byHand, 14)
    expect(mutualInformation([0, 0, 1, 1], [0, 0, 0, 1])).toBeCloseTo(byHand, 14)
  })
})

describe('MIG, SAP and DCI from their matrices', () => {
  it('MIG is the mean normalised gap; constant factors are skipped; one latent gives I / H', () => {
    const mi = [
      [1.0, 0.2, 0],
      [0.4, 0.2, 0],
      [0.1, 0.5, 0],
    ]
    // Factor 1: (1.0 - 0.4) / 2 = 0.3; factor 2: (0.5 - 0.2) / 0.5 = 0.6; factor 3 has H = 0.
    const r = mig(mi, [2, 0.5, 0])
    expect(r.perFactor[0]).toBeCloseTo(0.3, 14)
    expect(r.perFactor[1]).toBeCloseTo(0.6, 14)
    expect(r.perFactor[2]).toBe(0)
    expect(r.counted).toEqual([0, 1])
    expect(r.mig).toBeCloseTo(0.45, 14)
    expect(mig([[0.7]], [1.4]).mig).toBeCloseTo(0.5, 14)
  })

  it('SAP is the mean top-two gap of the one-latent R^2 scores', () => {
    const x = [1, 2, 3, 4]
    // dx = dy' = (-1.5, -0.5, 0.5, 1.5) up to order: cross 4, sums of squares 5, r = 0.8.
    const s = sapScoreMatrix([x, [5, 5, 5, 5]], [[1, 3, 2, 4], x.map((v) => 1 - 2 * v)])
    expect(s[0]![0]).toBeCloseTo(0.64, 14)
    expect(s[0]![1]).toBeCloseTo(1, 14)
    expect(s[1]).toEqual([0, 0])
    const r = sap([
      [0.9, 0.1],
      [0.3, 0.2],
    ])
    expect(r.perFactor[0]).toBeCloseTo(0.6, 14)
    expect(r.perFactor[1]).toBeCloseTo(0.1, 14)
    expect(r.sap).toBeCloseTo(0.35, 14)
    expect(sap([[0.9, 0.1]], [true, false]).sap).toBeCloseTo(0.9, 14)
  })

  it('D and C of a hand-made matrix', () => {
    // Latent 0 splits evenly: D_0 = 1 - H_2(1/2, 1/2) = 0; latent 1 serves factor 0 alone: D_1 = 1;
    // rho = (2/4, 2/4), so D = 0.5. Factor 0: (1/3, 2/3) -> H_2 = log2(3) - 2/3, C_0 = 5/3 - log2(3);
    // factor 1: (1, 0) -> C_1 = 1.
    const r = dciFromImportance([
      [1, 1],
      [2, 0],
    ])
    expect(r.perLatent.map((l) => l.disentanglement)).toEqual([0, 1])
    expect(r.perLatent.map((l) => l.weight)).toEqual([0.5, 0.5])
    expect(r.disentanglement).toBeCloseTo(0.5, 14)
    expect(r.perFactor[0]).toBeCloseTo(5 / 3 - Math.log2(3), 14)
    expect(r.perFactor[0]).toBeCloseTo(0.0817041659, 9)
    expect(r.perFactor[1]).toBe(1)
    expect(r.completeness).toBeCloseTo((8 / 3 - Math.log2(3)) / 2, 14)
  })

  it('codes [v1, v1, v2] with equal importances: C of v1 = 1 - log_3(2), every D_j stays 1', () => {
    const r = dciFromImportance([
      [0.5, 0],
      [0.5, 0],
      [0, 1],
    ])
    expect(r.perFactor[0]).toBeCloseTo(1 - LOG3_2, 14)
    expect(r.perFactor[0]).toBeCloseTo(0.369, 3)
    expect(r.perFactor[1]).toBe(1)
    expect(r.perLatent.map((l) => l.disentanglement)).toEqual([1, 1, 1])
    expect(r.disentanglement).toBe(1)
  })

  it('edge cases: one factor gives D_j = 1, one latent C_k = 1, an unused latent weight 0', () => {
    const one = dciFromImportance([[0.3], [0.7], [0]])
    expect(one.perLatent.map((l) => l.disentanglement)).toEqual([1, 1, 0])
    expect(one.perLatent.map((l) => l.weight)).toEqual([0.3, 0.7, 0])
    expect(one.disentanglement).toBe(1)
    const single = dciFromImportance([[0.2, 0.8, 0]])
    expect(single.perFactor).toEqual([1, 1, 0])
    // The factor nobody predicts is left out of the mean.
    expect(single.completeness).toBe(1)
    expect(() => dciFromImportance([[1, -0.1]])).toThrow(ExplainInputError)
  })
})

describe('disentanglement: known answers', () => {
  it('(a) codes equal to the factors: MIG 1 less the plug-in bias, SAP, D, C and informativeness 1', () => {
    const n = 5000
    const levels = 16
    const factors = levelRows(n, 4, levels, createRng(1, 'a'))
    const codes = factors.map((r) => Float64Array.from(r))
    const r = disentanglement({ codes, factors, factorNames: names(4), seed: 1 })
    // The matching latent has I = H(v) exactly (16 levels fall in 16 different bins); the runner-up is an
    // independent latent whose plug-in I is pure bias, about (bins - 1)(levels - 1) / (2N) nats.
    const h = Math.log(levels)
    const bias = ((BINS - 1) * (levels - 1)) / (2 * n)
    for (const f of r.factors) {
      expect(f.entropy).toBeGreaterThan(h - 0.01)
      expect(1 - f.mig).toBeGreaterThan((0.4 * bias) / h)
      expect(1 - f.mig).toBeLessThan((1.5 * bias) / h)
    }
    expect(r.mig).toBeGreaterThan(1 - (1.5 * bias) / h)
    expect(r.sap).toBeGreaterThan(0.995)
    expect(r.dciDisentanglement).toBeGreaterThan(0.99)
    expect(r.dciCompleteness).toBeGreaterThan(0.99)
    expect(r.dciInformativeness).toBeGreaterThan(0.99)
    for (const e of r.importance) {
      if (e.factor === `v${e.latent + 1}`) expect(e.value).toBeGreaterThan(0.99)
    }
    expect(r.rows).toBe(n)
    expect(r.bins).toBe(BINS)
  })

  it('(b) codes independent of the factors: MIG, SAP and informativeness near 0, D and C small', () => {
    const n = 5000
    const levels = 16
    const factors = levelRows(n, 4, levels, createRng(2, 'factors'))
    const codes = levelRows(n, 4, levels, createRng(2, 'codes'))
    const r = disentanglement({ codes, factors, factorNames: names(4), seed: 2 })
    // Every I is plug-in bias, so the gap between the top two is far below the bias itself.
    const bias = ((BINS - 1) * (levels - 1)) / (2 * n)
    expect(r.mig).toBeLessThan(bias / Math.log(levels))
    // Each R^2 of independent columns is about chi^2_1 / N.
    expect(r.sap).toBeLessThan(25 / n)
    // Held-out R^2 of a forest fit to noise: at or below 0.
    expect(r.dciInformativeness).toBeLessThan(0.02)
    // A forest fit to noise spreads its importance almost evenly, so every P_j. and R_.k is near uniform and
    // D and C are near 0 - but not 0: entropy reaches its maximum only at exactly uniform importances.
    for (const e of r.importance) expect(Math.abs(e.value - 1 / 4)).toBeLessThan(0.1)
    expect(r.dciDisentanglement).toBeGreaterThan(0)
    expect(r.dciDisentanglement).toBeLessThan(0.05)
    expect(r.dciCompleteness).toBeGreaterThan(0)
    expect(r.dciCompleteness).toBeLessThan(0.05)
  })

  it('(c) codes [v1, v1, v2]: MIG of v1 is 0, v1 is shared (C near 1 - log_3 2), D per code stays 1', () => {
    const n = 4000
    const factors = levelRows(n, 2, 16, createRng(3, 'c'))
    const codes = factors.map((v) => Float64Array.of(v[0]!, v[0]!, v[1]!))
    const r = disentanglement({ codes, factors, factorNames: ['v1', 'v2'], seed: 3 })
    const [v1, v2] = r.factors
    // The two copies have exactly the same I: a gap of 0, not merely small.
    expect(v1!.mig).toBe(0)
    expect(v2!.mig).toBeGreaterThan(0.98)
    expect(v1!.sap).toBeLessThan(1e-12)
    // Split between two latents, C_v1 is at least 1 - log_3 2, reached at an even split.
    expect(v1!.completeness).toBeGreaterThanOrEqual(1 - LOG3_2 - 1e-9)
    expect(v1!.completeness).toBeLessThan(1 - LOG3_2 + 0.05)
    expect(v2!.completeness).toBeGreaterThan(0.99)
    expect(v2!.completeness - v1!.completeness).toBeGreaterThan(0.5)
    const share = r.importance.filter((e) => e.factor === 'v1' && e.latent < 2).map((e) => e.value)
    expect(Math.abs(share[0]! - share[1]!)).toBeLessThan(0.2)
    for (const l of r.latents) expect(l.disentanglement).toBeGreaterThan(0.99)
  })

  it('(d) a 45-degree rotation of two continuous factors: MIG falls to a numerical reference', () => {
    // Truncated exponential factors on [0, 1]: with a symmetric density the rotation would give both
    // latents the same I by symmetry (reference 0); the skew makes v1 - v2 more informative than v1 + v2.
    const lambda = 6
    const density = (v: number): number => Math.exp(-lambda * v)
    const draw = (u: number): number => -Math.log(1 - u * (1 - Math.exp(-lambda))) / lambda
    const rng = createRng(4, 'rotation')
    const n = 50000
    const factors = Array.from({ length: n }, () => Float64Array.of(draw(rng()), draw(rng())))
    const codes = factors.map(([a, b]) => Float64Array.of((a! + b!) / Math.SQRT2, (a! - b!) / Math.SQRT2))
    const r = disentanglement({ codes, factors, factorNames: ['v1', 'v2'], seed: 4 })
    const unrotated = disentanglement({ codes: factors, factors, factorNames: ['v1', 'v2'], seed: 4 })

    // Reference: the population mutual information of the very bins the definition uses (20 equal-width bins
    // over each column's observed range), by midpoint integration of the joint density on a 1000 x 1000 grid.
    const range = (rows: Float64Array[], j: number): [number, number] => {
      let lo = Infinity
      let hi = -Infinity
      for (const row of rows) {
        lo = Math.min(lo, row[j]!)
        hi = Math.max(hi, row[j]!)
      }
      return [lo, hi]
    }
    const grid = 1000
    const nodes = Float64Array.from({ length: grid }, (_, i) => (i + 0.5) / grid)
    const weights = nodes.map(density)
    const populationMi = (factor: 0 | 1, latent: 0 | 1): { mi: number; h: number } => {
      const [fLo, fHi] = range(factors, factor)
      const [zLo, zHi] = range(codes, latent)
      // Local names: looking up the global Math inside jest's sandbox costs microseconds, 4 million times.
      const { floor, SQRT2 } = Math
      const binOf = (x: number, lo: number, hi: number): number => {
        const bin = floor(((x - lo) / (hi - lo)) * BINS)
        return bin < 0 ? 0 : bin > BINS - 1 ? BINS - 1 : bin
      }
      const joint = new Float64Array(BINS * BINS)
      let total = 0
      for (let i = 0; i < grid; i++) {
        const a = nodes[i]!
        for (let j = 0; j < grid; j++) {
          const b = nodes[j]!
          const w = weights[i]! * weights[j]!
          const z = latent === 0 ? (a + b) / SQRT2 : (a - b) / SQRT2
          const cell = binOf(factor === 0 ? a : b, fLo, fHi) * BINS + binOf(z, zLo, zHi)
          joint[cell] = joint[cell]! + w
          total += w
        }
      }
      const pf = new Float64Array(BINS)
      const pz = new Float64Array(BINS)
      joint.forEach((w, cell) => {
        const f = Math.floor(cell / BINS)
        pf[f] = pf[f]! + w / total
        pz[cell % BINS] = pz[cell % BINS]! + w / total
      })
      let mi = 0
      joint.forEach((w, cell) => {
        const p = w / total
        if (p > 0) mi += p * Math.log(p / (pf[Math.floor(cell / BINS)]! * pz[cell % BINS]!))
      })
      let h = 0
      for (const p of pf) if (p > 0) h -= p * Math.log(p)
      return { mi, h }
    }
    const reference = ([0, 1] as const).map((f) => {
      const sum = populationMi(f, 0)
      const difference = populationMi(f, 1)
      return Math.abs(sum.mi - difference.mi) / sum.h
    })
    // The reference is about 0.04; the plug-in biases of the two latents cancel in the gap, and the sampling
    // error of the gap at N = 50,000 is about 0.002.
    reference.forEach((ref) => expect(ref).toBeGreaterThan(0.03))
    r.factors.forEach((f, k) => expect(Math.abs(f.mig - reference[k]!)).toBeLessThan(0.006))
    expect(Math.abs(r.mig - (reference[0]! + reference[1]!) / 2)).toBeLessThan(0.005)
    expect(unrotated.mig).toBeGreaterThan(0.95)
    // Swapping v1 and v2 maps z2 to -z2, so each latent matters equally for both factors: D collapses. C does
    // not: for skewed factors the difference latent carries more about each factor than the sum (as MIG
    // says), so R_.k is uneven, but it stays far from the unrotated 1.
    expect(r.dciDisentanglement).toBeLessThan(0.05)
    expect(r.dciCompleteness).toBeLessThan(0.3)
    expect(unrotated.dciCompleteness).toBeGreaterThan(0.95)
    expect(r.dciInformativeness).toBeGreaterThan(0.9)
  })
})

describe('disentanglement: invariances, determinism, cost and input checks', () => {
  /** Continuous factors, codes that mix them a little plus a nuisance latent. */
  function mixed(n: number, seed: number): { codes: Float64Array[]; factors: Float64Array[] } {
    const rng = createRng(seed, 'mixed')
    const factors = Array.from({ length: n }, () => Float64Array.of(rng(), rng(), rng()))
    const codes = factors.map(([a, b, c]) =>
      Float64Array.of(a! + 0.3 * b!, b! - 0.2 * c!, c! + 0.1 * rng(), rng(), 0.5 * a! + 0.5 * c!),
    )
    return { codes, factors }
  }

  it('permuting the latents leaves every score unchanged and permutes the per-latent ones', () => {
    const { codes, factors } = mixed(1500, 5)
    const order = [3, 0, 4, 2, 1]
    const permuted = codes.map((row) => Float64Array.from(order, (j) => row[j]!))
    const a = disentanglement({ codes, factors, factorNames: names(3), seed: 9 })
    const b = disentanglement({ codes: permuted, factors, factorNames: names(3), seed: 9 })
    const sa = allScores(a)
    const sb = allScores(b)
    sa.forEach((v, i) => expect(sb[i]).toBeCloseTo(v, 10))
    order.forEach((j, position) => {
      expect(b.latents[position]!.disentanglement).toBeCloseTo(a.latents[j]!.disentanglement, 10)
      expect(b.latents[position]!.weight).toBeCloseTo(a.latents[j]!.weight, 10)
    })
    expect(a.mig).toBeGreaterThan(0.05)
    expect(a.dciDisentanglement).toBeGreaterThan(0.3)
  })

  it('is deterministic for a seed, and the seed matters', () => {
    const { codes, factors } = mixed(600, 6)
    const run = (seed: number | string): DisentanglementResult =>
      disentanglement({ codes, factors, factorNames: names(3), seed })
    expect(run('s')).toEqual(run('s'))
    const other = run('t')
    expect(other.importance.map((e) => e.value)).not.toEqual(run('s').importance.map((e) => e.value))
    // MIG and SAP use no randomness at all.
    expect(other.mig).toBe(run('s').mig)
    expect(other.sap).toBe(run('s').sap)
  })

  // Its cost is measured in bench/vae.ts (the DISENTANGLEMENT row), not here: timings in tests are noise.
  it('scores 2,000 rows x 10 latents x 5 factors: one importance per latent and factor, from the forest', () => {
    const rng = createRng(7, 'cost')
    const factors = Array.from({ length: 2000 }, () => Float64Array.from({ length: 5 }, () => rng()))
    const codes = factors.map((v) =>
      Float64Array.from({ length: 10 }, (_, j) => (j < 5 ? v[j]! + 0.1 * rng() : rng())),
    )
    const r = disentanglement({ codes, factors, factorNames: names(5), seed: 7 })
    expect(r.importance).toHaveLength(50)
    expect(r.importanceModel).toContain('random forest')
    expect(r.dciCompleteness).toBeGreaterThan(0.9)
  })

  it('subsamples rows above the cap for the forest and says so', () => {
    const factors = levelRows(3000, 2, 8, createRng(8, 'cap'))
    const r = disentanglement({ codes: factors, factors, factorNames: names(2), seed: 8 })
    expect(r.rows).toBe(3000)
    expect(r.importanceModel).toContain('2000 rows')
    expect(r.importanceModel).toContain('other 400')
  })

  it('leaves a constant factor out of every mean', () => {
    const base = levelRows(1000, 1, 16, createRng(9, 'const'))
    const factors = base.map((v) => Float64Array.of(v[0]!, 3))
    const codes = base.map((v) => Float64Array.of(v[0]!, 0.5))
    const r = disentanglement({ codes, factors, factorNames: ['v', 'constant'], seed: 1 })
    const constant = r.factors[1]!
    expect(constant.entropy).toBe(0)
    expect([constant.mig, constant.sap, constant.completeness]).toEqual([0, 0, 0])
    expect(r.mig).toBe(r.factors[0]!.mig)
    expect(r.sap).toBe(r.factors[0]!.sap)
    expect(r.dciCompleteness).toBe(r.factors[0]!.completeness)
    expect(r.dciInformativeness).toBe(r.factors[0]!.informativeness)
    // The constant latent has no importance for anything: weight 0.
    expect(r.latents[1]!.weight).toBe(0)
  })

  it('rejects inconsistent input with ExplainInputError', () => {
    const rows = levelRows(10, 2, 4, createRng(10, 'bad'))
    const ok = { codes: rows, factors: rows, factorNames: names(2) }
    const bad = (patch: Partial<typeof ok> & { bins?: number }): (() => unknown) => {
      return () => disentanglement({ ...ok, ...patch })
    }
    expect(bad({ factors: rows.slice(1) })).toThrow(/rows/)
    expect(bad({ codes: rows.slice(0, 1), factors: rows.slice(0, 1) })).toThrow(/at least 2 rows/)
    expect(bad({ factorNames: ['only'] })).toThrow(/factor names/)
    expect(bad({ codes: [...rows.slice(1), Float64Array.of(1)] })).toThrow(/expected 2/)
    expect(bad({ codes: [...rows.slice(1), Float64Array.of(1, Number.NaN)] })).toThrow(/finite/)
    expect(bad({ bins: 1 })).toThrow(/bins/)
    expect(bad({ bins: 2.5 })).toThrow(ExplainInputError)
  })
})
