/**
 * The SEQUENCE family's hyperparameters, defaults, metric names and parameter counts, and the validation split
 * by contiguous blocks. No TensorFlow.js here: the API validates and sizes a request with it.
 */
import { badInput } from '../../errors'
import { splitRows } from '../common/random'
import { denseParameters, TrainingError, validateCommonSpec, type CommonSpec } from '../common/spec'
import type { DatasetShape, FamilyArgs, TrainingWork } from '../family'
import { SequenceArchitecture } from '../family.enums'

export const SEQUENCE_DEFAULTS = {
  architecture: SequenceArchitecture.WINDOW_MLP,
  contextLength: 32,
  /** hiddenLayers when the request gives none: Dense layers of WINDOW_MLP, GRU layers of RNN_GRU. */
  hiddenLayers: { [SequenceArchitecture.WINDOW_MLP]: [128], [SequenceArchitecture.RNN_GRU]: [64] },
} as const

export const SEQUENCE_LIMITS = { minContextLength: 1, maxContextLength: 256 } as const

/** Everything one SEQUENCE training needs besides the corpus. */
export interface SequenceSpec extends CommonSpec {
  architecture: SequenceArchitecture
  contextLength: number
}

/** Metrics of a SEQUENCE epoch, in order; the validation ones only with a holdout. Losses in nats per character. */
export function sequenceMetricNames(spec: { validationSplit: number }): string[] {
  const val = spec.validationSplit > 0
  return [
    'loss',
    ...(val ? ['valLoss'] : []),
    'perplexity',
    ...(val ? ['valPerplexity'] : []),
    'accuracy',
    ...(val ? ['valAccuracy'] : []),
  ]
}

/** Checks the SEQUENCE part of a request and fills in its defaults. */
export function prepareSequence(args: FamilyArgs & { hiddenLayers?: number[] | null | undefined }): {
  architecture: SequenceArchitecture
  contextLength: number
} {
  const architecture = args.architecture ?? SEQUENCE_DEFAULTS.architecture
  if (!Object.values(SequenceArchitecture).includes(architecture)) {
    throw badInput(`unknown architecture ${String(architecture)}`, { field: 'architecture' })
  }
  const contextLength = args.contextLength ?? SEQUENCE_DEFAULTS.contextLength
  const { minContextLength: lo, maxContextLength: hi } = SEQUENCE_LIMITS
  if (!Number.isInteger(contextLength) || contextLength < lo || contextLength > hi) {
    throw badInput(`contextLength is ${contextLength}; it must be an integer from ${lo} to ${hi}`, {
      field: 'contextLength',
    })
  }
  if (architecture === SequenceArchitecture.RNN_GRU && args.hiddenLayers?.length === 0) {
    throw badInput('an RNN_GRU needs at least one GRU layer: hiddenLayers gives their units', {
      field: 'hiddenLayers',
    })
  }
  return { architecture, contextLength }
}

/** Weights of one tfjs GRU layer: kernel, recurrent kernel and bias for its three gates (no reset_after). */
export function gruParameters(inputs: number, units: number): number {
  return 3 * (units * (inputs + units) + units)
}

/** Weights and biases of the network a spec builds over `symbols` one-hot symbols (output: one logit each). */
export function sequenceParameters(
  spec: { hiddenLayers: readonly number[]; architecture: SequenceArchitecture; contextLength: number },
  symbols: number,
): number {
  if (spec.architecture === SequenceArchitecture.WINDOW_MLP) {
    return denseParameters([spec.contextLength * symbols, ...spec.hiddenLayers, symbols])
  }
  let total = 0
  let inputs = symbols
  for (const units of spec.hiddenLayers) {
    total += gruParameters(inputs, units)
    inputs = units
  }
  return total + denseParameters([inputs, symbols])
}

/** Characters per block of the validation split: a window and its target always fit in a few blocks. */
export function blockSize(contextLength: number): number {
  return Math.max(256, 4 * (contextLength + 1))
}

/** A maximal run of consecutive blocks on one side of the split: [start, end) in characters. */
export interface Segment {
  start: number
  end: number
}

export interface TextSplit {
  train: Segment[]
  holdout: Segment[]
  /** Prediction targets per side: every character of a segment but its first. */
  trainExamples: number
  holdoutExamples: number
}

/**
 * The validation split of a corpus of `length` characters: it is cut into blocks of {@link blockSize}
 * characters, the blocks are split like rows (seeded shuffle, the last `validationSplit` share held out, at
 * least one block kept for training), and neighbouring blocks on the same side are joined into segments.
 * A training example is a target character with the characters before it in its own segment (at most
 * contextLength, zero-padded on the left at a segment's start), so no window ever reads across the split:
 * a held-out character is never in the context of a training target, nor the reverse.
 */
export function splitText(
  length: number,
  contextLength: number,
  validationSplit: number,
  seed: number,
): TextSplit {
  const size = blockSize(contextLength)
  const blocks = Math.ceil(length / size)
  const { holdoutIndices } = splitRows(blocks, validationSplit, seed)
  const held = new Uint8Array(blocks)
  for (const b of holdoutIndices) held[b] = 1
  const train: Segment[] = []
  const holdout: Segment[] = []
  for (let b = 0; b < blocks;) {
    let e = b
    while (e + 1 < blocks && held[e + 1] === held[b]) e++
    ;(held[b] ? holdout : train).push({ start: b * size, end: Math.min(length, (e + 1) * size) })
    b = e + 1
  }
  const examples = (segments: Segment[]) => segments.reduce((n, s) => n + Math.max(0, s.end - s.start - 1), 0)
  return { train, holdout, trainExamples: examples(train), holdoutExamples: examples(holdout) }
}

/**
 * An epoch's examples and their cost for the training-step cap: a GRU step runs its cells once per context
 * character, so each of its batches counts contextLength steps. BAD_USER_INPUT when the corpus is too short
 * for the split (no training target, or a validation split that holds no block).
 */
export function sequenceWork(
  spec: { validationSplit: number; seed: number; architecture: SequenceArchitecture; contextLength: number },
  dataset: Pick<DatasetShape, 'rowCount'>,
): TrainingWork {
  const split = splitText(dataset.rowCount, spec.contextLength, spec.validationSplit, spec.seed)
  if (split.trainExamples < 1) {
    throw badInput(`the corpus of ${dataset.rowCount} characters has no training target`, {
      field: 'datasetId',
    })
  }
  if (spec.validationSplit > 0 && split.holdoutExamples < 1) {
    throw badInput(
      `the validation split holds out whole blocks of ${blockSize(spec.contextLength)} characters; a corpus ` +
        `of ${dataset.rowCount} has too few for validationSplit ${spec.validationSplit} (use a longer text ` +
        'or validationSplit 0)',
      { field: 'validationSplit' },
    )
  }
  return {
    examples: split.trainExamples,
    stepsPerBatch: spec.architecture === SequenceArchitecture.RNN_GRU ? spec.contextLength : 1,
  }
}

/** Throws INVALID_SPEC unless the spec can be trained with. */
export function validateSequenceSpec(spec: SequenceSpec): void {
  validateCommonSpec(spec)
  const fail = (message: string): never => {
    throw new TrainingError(`invalid training spec: ${message}`, 'INVALID_SPEC')
  }
  if (!Object.values(SequenceArchitecture).includes(spec.architecture))
    fail(`unknown architecture ${String(spec.architecture)}`)
  const { minContextLength: lo, maxContextLength: hi } = SEQUENCE_LIMITS
  if (!Number.isInteger(spec.contextLength) || spec.contextLength < lo || spec.contextLength > hi)
    fail(`contextLength must be an integer from ${lo} to ${hi}, got ${spec.contextLength}`)
  if (spec.architecture === SequenceArchitecture.RNN_GRU && spec.hiddenLayers.length === 0)
    fail('an RNN_GRU needs at least one GRU layer')
}
