import { createHash } from 'node:crypto'
import { badInput, tooLarge } from '../../errors'
import { Task } from './dataset.enums'

/** Dataset content in the packed form it is stored and trained in. */
export interface DatasetContent {
  task: Task
  featureNames: string[]
  targetName: string
  rowCount: number
  /** Row-major, rowCount x featureNames.length. */
  features: Float64Array
  targets: Float64Array
}

export interface FeatureStatsValue {
  name: string
  mean: number
  std: number
  min: number
  max: number
}

export interface DatasetLimits {
  maxRows: number
  maxCells: number
}

const NAME_MAX = 200

/** Checks a dataset or feature name: non-empty, trimmed, printable, bounded. */
export function checkName(value: string, field: string): string {
  const name = value.trim()
  if (name.length === 0) throw badInput(`${field} must not be empty`, { field })
  if (name.length > NAME_MAX) throw badInput(`${field} is longer than ${NAME_MAX} characters`, { field })
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) throw badInput(`${field} contains control characters`, { field })
  return name
}

/** Refuses sizes above the limits before any large allocation is made. */
export function checkSize(rowCount: number, featureCount: number, limits: DatasetLimits): void {
  if (rowCount > limits.maxRows || rowCount * featureCount > limits.maxCells) {
    throw tooLarge(
      `dataset of ${rowCount} rows x ${featureCount} features is larger than the limit ` +
        `(${limits.maxRows} rows, ${limits.maxCells} cells)`,
      { rows: rowCount, features: featureCount, maxRows: limits.maxRows, maxCells: limits.maxCells },
    )
  }
}

/** Validates names, shape, values and targets; returns the packed content. */
export function buildContent(input: {
  task: Task
  featureNames: string[]
  targetName: string
  rows: ArrayLike<ArrayLike<number>>
  targets: ArrayLike<number>
  limits: DatasetLimits
}): DatasetContent {
  const featureNames = checkFeatureNames(input.featureNames, input.targetName)
  const targetName = checkName(input.targetName, 'targetName')
  const m = featureNames.length
  const n = input.rows.length
  if (n === 0) throw badInput('dataset has no rows', { field: 'rows' })
  checkSize(n, m, input.limits)
  if (input.targets.length !== n) {
    throw badInput(`targets has ${input.targets.length} values but there are ${n} rows`, { field: 'targets' })
  }
  const features = new Float64Array(n * m)
  for (let i = 0; i < n; i++) {
    const row = input.rows[i]!
    if (row.length !== m) {
      throw badInput(`row ${i} has ${row.length} values, expected ${m} (one per feature)`, {
        field: 'rows',
        row: i,
      })
    }
    for (let j = 0; j < m; j++) {
      const v = row[j]!
      if (!Number.isFinite(v)) {
        throw badInput(`row ${i}, feature "${featureNames[j]}": value ${v} is not a finite number`, {
          field: 'rows',
          row: i,
          column: j,
        })
      }
      features[i * m + j] = v
    }
  }
  const targets = Float64Array.from(input.targets)
  checkTargets(input.task, targets)
  return { task: input.task, featureNames, targetName, rowCount: n, features, targets }
}

export function checkFeatureNames(names: string[], targetName: string): string[] {
  if (names.length === 0) throw badInput('featureNames must not be empty', { field: 'featureNames' })
  const cleaned = names.map((n) => checkName(n, 'featureNames'))
  const seen = new Set<string>()
  for (const name of cleaned) {
    if (seen.has(name)) throw badInput(`duplicate feature name "${name}"`, { field: 'featureNames' })
    seen.add(name)
  }
  if (seen.has(targetName.trim())) {
    throw badInput(`the target "${targetName}" is also a feature`, { field: 'targetName' })
  }
  return cleaned
}

export function checkTargets(task: Task, targets: Float64Array): void {
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!
    if (!Number.isFinite(t)) {
      throw badInput(`target ${i}: value ${t} is not a finite number`, { field: 'targets', row: i })
    }
    if (task === Task.BINARY_CLASSIFICATION && t !== 0 && t !== 1) {
      throw badInput(`target ${i} is ${t}; BINARY_CLASSIFICATION targets must be 0 or 1`, {
        field: 'targets',
        row: i,
      })
    }
  }
  if (task === Task.BINARY_CLASSIFICATION && targets.length > 0) {
    let ones = 0
    for (const t of targets) ones += t
    if (ones === 0 || ones === targets.length) {
      throw badInput('BINARY_CLASSIFICATION needs both classes (0 and 1) among the targets', {
        field: 'targets',
      })
    }
  }
}

/**
 * SHA-256 of the canonical content: a JSON header (task, names) followed by the float64
 * little-endian bytes of features and targets. Equal content gives an equal hash, whatever form
 * (rows, CSV, generator) it arrived in.
 */
export function contentHash(c: DatasetContent): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify({ task: c.task, featureNames: c.featureNames, targetName: c.targetName }))
  hash.update(toBytes(c.features))
  hash.update(toBytes(c.targets))
  return hash.digest('hex')
}

/** Mean, population std, min and max per feature, in one pass (Welford). */
export function featureStats(c: DatasetContent): FeatureStatsValue[] {
  const m = c.featureNames.length
  return c.featureNames.map((name, j) => {
    let mean = 0
    let m2 = 0
    let min = Infinity
    let max = -Infinity
    for (let i = 0; i < c.rowCount; i++) {
      const v = c.features[i * m + j]!
      const delta = v - mean
      mean += delta / (i + 1)
      m2 += delta * (v - mean)
      if (v < min) min = v
      if (v > max) max = v
    }
    return { name, mean, std: Math.sqrt(m2 / c.rowCount), min, max }
  })
}

/** Little-endian bytes of a Float64Array (the platforms we run on are little-endian). */
export function toBytes(values: Float64Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength)
}

export function fromBytes(bytes: Uint8Array): Float64Array {
  // Copy: the driver's buffer may not be 8-byte aligned.
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return new Float64Array(copy.buffer)
}
