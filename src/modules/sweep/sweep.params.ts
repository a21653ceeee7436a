import seedrandom from 'seedrandom'
import { badInput } from '../../errors'
import { Likelihood, SequenceArchitecture } from '../../models/family.enums'
import { Distribution, SweepMethod } from './sweep.enums'

/** A parameter as the client gave it. */
export interface ParameterSpec {
  name: string
  values?: unknown[] | null | undefined
  min?: number | null | undefined
  max?: number | null | undefined
  distribution?: Distribution | null | undefined
}

/** A validated parameter: either a list of values or a range with its distribution. */
export type Parameter =
  | { name: SweepableName; kind: 'values'; values: unknown[] }
  | { name: SweepableName; kind: 'range'; min: number; max: number; distribution: Distribution }

type Kind = 'float' | 'int' | 'layers' | 'activation' | 'optimizer' | 'likelihood' | 'architecture'

/** StartRunInput fields a sweep may vary, and what their values are. */
const SWEEPABLE = {
  learningRate: 'float',
  validationSplit: 'float',
  batchSize: 'int',
  epochs: 'int',
  seed: 'int',
  hiddenLayers: 'layers',
  activation: 'activation',
  optimizer: 'optimizer',
  latentDim: 'int',
  beta: 'float',
  likelihood: 'likelihood',
  architecture: 'architecture',
  contextLength: 'int',
} as const satisfies Record<string, Kind>

export type SweepableName = keyof typeof SWEEPABLE

/** Largest grid a sweep may have. */
export const MAX_GRID = 10_000
/** Runs of a RANDOM sweep without runCap. */
export const DEFAULT_RANDOM_RUN_CAP = 20

/** A value as an error message quotes it: never the whole of a large one. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 80)}...` : text
}

function checkValue(name: SweepableName, value: unknown): void {
  const kind: Kind = SWEEPABLE[name]
  const ok =
    kind === 'float'
      ? typeof value === 'number' && Number.isFinite(value)
      : kind === 'int'
        ? Number.isInteger(value)
        : kind === 'layers'
          ? Array.isArray(value) && value.every((u) => Number.isInteger(u))
          : kind === 'activation'
            ? ['RELU', 'TANH', 'SIGMOID', 'ELU'].includes(value as string)
            : kind === 'optimizer'
              ? ['ADAM', 'SGD', 'RMSPROP'].includes(value as string)
              : kind === 'likelihood'
                ? (Object.values(Likelihood) as unknown[]).includes(value)
                : (Object.values(SequenceArchitecture) as unknown[]).includes(value)
  if (!ok) {
    throw badInput(`parameter ${name}: ${preview(value)} is not a valid ${kind} value`, {
      field: 'parameters',
    })
  }
}

/** Checks names, values, bounds and distributions; the run-level checks come later (RunService.prepare). */
export function parseParameters(specs: readonly ParameterSpec[], method: SweepMethod): Parameter[] {
  if (specs.length === 0) throw badInput('a sweep needs at least one parameter', { field: 'parameters' })
  const seen = new Set<string>()
  return specs.map((p) => {
    if (!(p.name in SWEEPABLE)) {
      throw badInput(`${preview(p.name)} cannot be swept; use one of ${Object.keys(SWEEPABLE).join(', ')}`, {
        field: 'parameters',
      })
    }
    if (seen.has(p.name)) throw badInput(`parameter ${p.name} is given twice`, { field: 'parameters' })
    seen.add(p.name)
    const name = p.name as SweepableName
    const hasRange = p.min != null || p.max != null
    if (p.values != null) {
      if (hasRange || p.distribution != null) {
        throw badInput(`parameter ${name}: give either values or min/max, not both`, { field: 'parameters' })
      }
      if (p.values.length === 0) throw badInput(`parameter ${name}: values is empty`, { field: 'parameters' })
      p.values.forEach((v) => checkValue(name, v))
      return { name, kind: 'values', values: [...p.values] }
    }
    if (p.min == null || p.max == null) {
      throw badInput(`parameter ${name}: give values, or both min and max`, { field: 'parameters' })
    }
    if (method === SweepMethod.GRID) {
      throw badInput(`parameter ${name}: a GRID sweep needs a list of values, not a range`, {
        field: 'parameters',
      })
    }
    const kind = SWEEPABLE[name]
    if (kind !== 'float' && kind !== 'int') {
      throw badInput(`parameter ${name} takes values, not a range`, { field: 'parameters' })
    }
    const { min, max } = p
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
      throw badInput(`parameter ${name}: min and max must be finite`, { field: 'parameters' })
    }
    if (min > max)
      throw badInput(`parameter ${name}: min ${min} is above max ${max}`, { field: 'parameters' })
    const distribution = p.distribution ?? (kind === 'int' ? Distribution.INT_UNIFORM : Distribution.UNIFORM)
    if (distribution === Distribution.LOG_UNIFORM && min <= 0) {
      throw badInput(`parameter ${name}: LOG_UNIFORM needs positive bounds, got min ${min}`, {
        field: 'parameters',
      })
    }
    if (kind === 'int' && distribution !== Distribution.INT_UNIFORM) {
      throw badInput(`parameter ${name} is an integer: use INT_UNIFORM`, { field: 'parameters' })
    }
    if (distribution === Distribution.INT_UNIFORM && (!Number.isInteger(min) || !Number.isInteger(max))) {
      throw badInput(`parameter ${name}: INT_UNIFORM needs integer bounds`, { field: 'parameters' })
    }
    return { name, kind: 'range', min, max, distribution }
  })
}

/** Number of combinations of a grid. */
export function gridSize(params: readonly Parameter[]): number {
  return params.reduce((n, p) => n * (p.kind === 'values' ? p.values.length : Infinity), 1)
}

/** The i-th grid combination (last parameter varies fastest), deterministic. */
export function gridPoint(params: readonly Parameter[], index: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let rest = index
  for (let j = params.length - 1; j >= 0; j--) {
    const p = params[j]!
    if (p.kind !== 'values') throw new Error('grid parameters have values')
    out[p.name] = p.values[rest % p.values.length]
    rest = Math.floor(rest / p.values.length)
  }
  return out
}

/** The i-th random draw of a sweep: a function of (seed, index) only, so a restarted driver draws the same. */
export function randomPoint(
  params: readonly Parameter[],
  seed: number,
  index: number,
): Record<string, unknown> {
  const rng = seedrandom(`sweep:${seed}:${index}`)
  const out: Record<string, unknown> = {}
  for (const p of params) {
    if (p.kind === 'values') {
      out[p.name] = p.values[Math.floor(rng() * p.values.length)]
      continue
    }
    const u = rng()
    switch (p.distribution) {
      case Distribution.UNIFORM:
        out[p.name] = p.min + u * (p.max - p.min)
        break
      case Distribution.LOG_UNIFORM:
        out[p.name] = Math.exp(Math.log(p.min) + u * (Math.log(p.max) - Math.log(p.min)))
        break
      case Distribution.INT_UNIFORM:
        out[p.name] = p.min + Math.floor(u * (p.max - p.min + 1))
        break
    }
  }
  return out
}

/** Parameter sets that bound what a sweep can ask for: every grid point, or each range's ends. */
export function extremePoints(params: readonly Parameter[], method: SweepMethod): Record<string, unknown>[] {
  if (method === SweepMethod.GRID) {
    return Array.from({ length: gridSize(params) }, (_, i) => gridPoint(params, i))
  }
  return params.flatMap((p) =>
    p.kind === 'values' ? p.values.map((v) => ({ [p.name]: v })) : [{ [p.name]: p.min }, { [p.name]: p.max }],
  )
}
