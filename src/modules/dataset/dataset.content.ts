import { createHash } from 'node:crypto'
import { badInput, tooLarge } from '../../errors'
import { Task } from './dataset.enums'
import type { TextCorpus } from './text'

/** Dataset content in the packed form it is stored and trained in. */
export interface DatasetContent {
  task: Task
  featureNames: string[]
  /** Null for UNSUPERVISED. */
  targetName: string | null
  rowCount: number
  /** Row-major, rowCount x featureNames.length. */
  features: Float64Array
  /** rowCount values; length 0 for UNSUPERVISED. */
  targets: Float64Array
  /** Known generative factors of each row: not features, never trained on, kept to judge what a model learnt. */
  factorNames: string[]
  /** Row-major, rowCount x factorNames.length; length 0 without factors. */
  factors: Float64Array
  /** [height, width] when the features are the pixels of an image (row-major, values in [0, 1]). */
  imageShape: [number, number] | null
  /** A TEXT dataset's corpus (its table parts are then empty); absent for a table. */
  text?: TextCorpus | undefined
}

/** One known factor of a dataset, column-wise as clients send it: one value per row. */
export interface FactorValues {
  name: string
  values: ArrayLike<number>
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
  /** Features per row (explanations and the first layer grow with it); unset: only the cell limit. */
  maxFeatures?: number
}

const NAME_MAX = 200

/**
 * The largest float32 magnitude. Models train in float32: a value above it is finite here but becomes
 * Infinity in a tensor, so it is refused like Infinity.
 */
export const FLOAT32_MAX = 3.4028234663852886e38

/** Why a value cannot be stored and trained on, or null when it can. */
export function valueProblem(v: number): string | null {
  if (!Number.isFinite(v)) return 'is not a finite number'
  if (Math.abs(v) > FLOAT32_MAX) return `is outside the float32 range (|v| <= ${FLOAT32_MAX})`
  return null
}

/** Checks a dataset, feature, target or factor name: non-empty, trimmed, no control characters, bounded. */
export function checkName(value: string, field: string): string {
  const name = value.trim()
  if (name.length === 0) throw badInput(`${field} must not be empty`, { field })
  if (name.length > NAME_MAX) throw badInput(`${field} is longer than ${NAME_MAX} characters`, { field })
  // \p{Cc}: C0 controls (NUL included - PostgreSQL text cannot hold it), DEL and C1 controls.
  if (/\p{Cc}/u.test(name)) throw badInput(`${field} contains control characters`, { field })
  return name
}

/**
 * Refuses sizes above the limits before any large allocation is made. Factors are stored beside the
 * features, so they count as cells too.
 */
export function checkSize(
  rowCount: number,
  featureCount: number,
  limits: DatasetLimits,
  factorCount = 0,
): void {
  if (limits.maxFeatures !== undefined && featureCount > limits.maxFeatures) {
    throw tooLarge(`dataset of ${featureCount} features is wider than the limit of ${limits.maxFeatures}`, {
      features: featureCount,
      maxFeatures: limits.maxFeatures,
    })
  }
  if (rowCount > limits.maxRows || rowCount * (featureCount + factorCount) > limits.maxCells) {
    const factors = factorCount > 0 ? ` + ${factorCount} factors` : ''
    throw tooLarge(
      `dataset of ${rowCount} rows x ${featureCount} features${factors} is larger than the limit ` +
        `(${limits.maxRows} rows, ${limits.maxCells} cells)`,
      {
        rows: rowCount,
        features: featureCount,
        factors: factorCount,
        maxRows: limits.maxRows,
        maxCells: limits.maxCells,
      },
    )
  }
}

/**
 * The target rule of each task: UNSUPERVISED has neither target name nor targets, every other task
 * needs targets. `fields` names the client's fields in the messages (CSV import has a target column).
 */
export function checkTargetPresence(
  task: Task,
  given: { targetName: boolean; targets: boolean },
  fields: { targetName: string; targets: string },
): void {
  if (task === Task.UNSUPERVISED) {
    if (given.targets) {
      throw badInput(`${fields.targets} must be omitted for UNSUPERVISED datasets (they have no target)`, {
        field: fields.targets,
      })
    }
    if (given.targetName) {
      throw badInput(`${fields.targetName} must be omitted for UNSUPERVISED datasets (they have no target)`, {
        field: fields.targetName,
      })
    }
  } else if (!given.targets) {
    throw badInput(`${fields.targets} is required for ${task} datasets`, { field: fields.targets })
  }
}

/** Validates names, shape, values, targets, factors and image shape; returns the packed content. */
export function buildContent(input: {
  task: Task
  featureNames: string[]
  /** Null exactly for UNSUPERVISED. */
  targetName: string | null
  rows: ArrayLike<ArrayLike<number>>
  /** Null exactly for UNSUPERVISED. */
  targets: ArrayLike<number> | null
  factors?: readonly FactorValues[] | null | undefined
  imageShape?: readonly number[] | null | undefined
  limits: DatasetLimits
}): DatasetContent {
  checkTargetPresence(
    input.task,
    { targetName: input.targetName !== null, targets: input.targets !== null },
    { targetName: 'targetName', targets: 'targets' },
  )
  const targetName = input.targetName === null ? null : checkName(input.targetName, 'targetName')
  const featureNames = checkFeatureNames(input.featureNames, targetName)
  const factorInput = input.factors ?? []
  const factorNames = checkFactorNames(
    factorInput.map((f) => f.name),
    featureNames,
    targetName,
    'factors',
  )
  const m = featureNames.length
  const k = factorNames.length
  const n = input.rows.length
  if (n === 0) throw badInput('dataset has no rows', { field: 'rows' })
  checkSize(n, m, input.limits, k)
  if (input.targets !== null && input.targets.length !== n) {
    throw badInput(`targets has ${input.targets.length} values but there are ${n} rows`, { field: 'targets' })
  }
  const imageShape = checkImageShape(input.imageShape, m, 'imageShape')
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
      const problem = valueProblem(v) ?? (imageShape ? pixelProblem(v) : null)
      if (problem) {
        throw badInput(`row ${i}, feature "${featureNames[j]}": value ${v} ${problem}`, {
          field: 'rows',
          row: i,
          column: j,
        })
      }
      features[i * m + j] = v
    }
  }
  const factors = new Float64Array(n * k)
  factorInput.forEach((factor, j) => {
    if (factor.values.length !== n) {
      throw badInput(
        `factor "${factorNames[j]}" has ${factor.values.length} values but there are ${n} rows (one per row)`,
        { field: 'factors', factor: factorNames[j] },
      )
    }
    for (let i = 0; i < n; i++) {
      const v = factor.values[i]!
      const problem = valueProblem(v)
      if (problem) {
        throw badInput(`factor "${factorNames[j]}", row ${i}: value ${v} ${problem}`, {
          field: 'factors',
          factor: factorNames[j],
          row: i,
        })
      }
      factors[i * k + j] = v
    }
  })
  const targets = input.targets === null ? new Float64Array(0) : Float64Array.from(input.targets)
  checkTargets(input.task, targets)
  return {
    task: input.task,
    featureNames,
    targetName,
    rowCount: n,
    features,
    targets,
    factorNames,
    factors,
    imageShape,
  }
}

export function checkFeatureNames(names: string[], targetName: string | null): string[] {
  if (names.length === 0) throw badInput('featureNames must not be empty', { field: 'featureNames' })
  const cleaned = names.map((n) => checkName(n, 'featureNames'))
  const seen = new Set<string>()
  for (const name of cleaned) {
    if (seen.has(name)) throw badInput(`duplicate feature name "${name}"`, { field: 'featureNames' })
    seen.add(name)
  }
  if (targetName !== null && seen.has(targetName.trim())) {
    throw badInput(`the target "${targetName}" is also a feature`, { field: 'targetName' })
  }
  return cleaned
}

/** Factor names follow the feature rules, and are distinct from every feature and from the target. */
export function checkFactorNames(
  names: string[],
  featureNames: string[],
  targetName: string | null,
  field: string,
): string[] {
  const cleaned = names.map((n) => checkName(n, field))
  const features = new Set(featureNames)
  const seen = new Set<string>()
  for (const name of cleaned) {
    if (seen.has(name)) throw badInput(`duplicate factor name "${name}"`, { field })
    if (features.has(name)) throw badInput(`the factor "${name}" is also a feature`, { field })
    if (name === targetName) throw badInput(`the factor "${name}" is also the target`, { field })
    seen.add(name)
  }
  return cleaned
}

/**
 * An image shape is [height, width], two positive integers whose product is the feature count
 * (the features are the pixels, row-major). Null or absent: not an image.
 */
export function checkImageShape(
  shape: readonly number[] | null | undefined,
  featureCount: number,
  field: string,
): [number, number] | null {
  if (shape === null || shape === undefined) return null
  const [height, width] = shape
  if (shape.length !== 2 || height === undefined || width === undefined) {
    throw badInput(`${field} must be [height, width]: exactly 2 numbers, got ${shape.length}`, { field })
  }
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw badInput(`${field} [${height}, ${width}] must be 2 positive integers`, { field })
  }
  if (height * width !== featureCount) {
    throw badInput(
      `${field} [${height}, ${width}] has ${height * width} pixels but there are ${featureCount} features`,
      { field },
    )
  }
  return [height, width]
}

/** Pixels are intensities in [0, 1] (what a Bernoulli likelihood models). */
export function pixelProblem(v: number): string | null {
  return v >= 0 && v <= 1 ? null : 'is outside [0, 1], the range of an image pixel'
}

export function checkTargets(task: Task, targets: Float64Array): void {
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!
    const problem = valueProblem(t)
    if (problem) {
      throw badInput(`target ${i}: value ${t} ${problem}`, { field: 'targets', row: i })
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
 * little-endian bytes of features, targets and factors. Equal content gives an equal hash, whatever
 * form (rows, CSV, generator) it arrived in.
 *
 * Content without factors and image shape hashes exactly as it did before those existed (header
 * `{task, featureNames, targetName}`, then features and targets), so datasets stored then are still
 * found again by content. With either, the header also carries `factorNames` and `imageShape`: the
 * two headers are different JSON, so the two forms cannot collide.
 */
export function contentHash(c: DatasetContent): string {
  const hash = createHash('sha256')
  if (c.text) {
    // A third header form, so a corpus can never hash like a table.
    hash.update(JSON.stringify({ kind: 'TEXT', minCount: c.text.minCount }))
    hash.update(c.text.text, 'utf8')
    return hash.digest('hex')
  }
  const legacy = c.factorNames.length === 0 && c.imageShape === null
  const header = legacy
    ? { task: c.task, featureNames: c.featureNames, targetName: c.targetName }
    : {
        task: c.task,
        featureNames: c.featureNames,
        targetName: c.targetName,
        factorNames: c.factorNames,
        imageShape: c.imageShape,
      }
  hash.update(JSON.stringify(header))
  hash.update(toBytes(c.features))
  hash.update(toBytes(c.targets))
  if (!legacy) hash.update(toBytes(c.factors))
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
