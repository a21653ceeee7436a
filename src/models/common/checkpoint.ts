/**
 * Checkpoints for every family whose training is networks + one tfjs optimizer: the state at an epoch boundary
 * held in memory ({@link TrainingState}), serialised on request, and restored into freshly built networks.
 *
 * What "continue exactly" needs besides this is the family's own job: deriving everything random of an epoch
 * from (seed, epoch) rather than from a stream that has advanced through the earlier epochs.
 */
import * as tf from '@tensorflow/tfjs'

import type { Checkpoint } from '../family'
import type { OptimizerName } from './spec'

/** A checkpoint that does not fit the run (corrupt, another format, other shapes): the run starts from epoch 1. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError'
}

/** Bumped whenever the layout below changes; a checkpoint of another format is not used. */
const FORMAT = 1

/** The networks, optimizer and variable list of one training loop. */
export interface TrainingParts {
  /** Every network the loop trains, by a name stable across versions of the family. */
  networks: Record<string, tf.LayersModel>
  optimizer: tf.Optimizer
  optimizerName: OptimizerName
  /** The variables passed to optimizer.minimize, in that order (the optimizer's slots follow it). */
  variables: tf.Variable[]
}

type NamedTensor = { name: string; tensor: tf.Tensor }

interface StateMeta {
  format: number
  optimizer: OptimizerName
  /** Weight count of each network, in the order of TrainingParts.networks. */
  networks: { name: string; weights: number }[]
  /** The optimizer's getWeights(): the iteration counter, then its slots (Adam: first, then second moments). */
  optimizerWeights: number
  /** Optimizer scalars getWeights() leaves out (see OPTIMIZER_EXTRAS). */
  extras: string[]
  /** Whatever else the family keeps (JSON). */
  extra: Record<string, unknown>
}

/**
 * Optimizer variables tfjs does not save. Adam's bias corrections accBeta1/accBeta2 are beta^(t+1), updated by one
 * float32 multiplication per step; setWeights recomputes them with pow(), which can differ in the last bits, so a
 * resumed run would drift from an uninterrupted one. They are saved and put back as they were (when present).
 */
const OPTIMIZER_EXTRAS = ['accBeta1', 'accBeta2'] as const

function extraVariable(optimizer: tf.Optimizer, name: string): tf.Variable | undefined {
  const value = (optimizer as unknown as Record<string, unknown>)[name]
  return value instanceof tf.Variable ? value : undefined
}

/**
 * The state of a training at the end of an epoch, held in memory until it is replaced or disposed. tfjs tensors
 * are immutable and a clone shares its data, so holding one costs no copy: the optimizer's next step gives the
 * variables new data and this keeps the old.
 */
export class TrainingState {
  private constructor(
    readonly epoch: number,
    private readonly tensors: NamedTensor[],
    private readonly meta: StateMeta,
  ) {}

  static async capture(
    epoch: number,
    parts: TrainingParts,
    extra: Record<string, unknown> = {},
  ): Promise<TrainingState> {
    const tensors: NamedTensor[] = []
    const networks = Object.entries(parts.networks).map(([name, model]) => {
      const weights = model.getWeights()
      weights.forEach((w, i) => tensors.push({ name: `net/${name}/${i}`, tensor: tf.clone(w) }))
      return { name, weights: weights.length }
    })
    const optimizerWeights = await parts.optimizer.getWeights()
    optimizerWeights.forEach((w, i) =>
      // The iteration counter comes as a fresh scalar; the slots are the optimizer's live variables.
      tensors.push({ name: `opt/${i}`, tensor: i === 0 ? w.tensor : tf.clone(w.tensor) }),
    )
    const extras: string[] = []
    for (const name of OPTIMIZER_EXTRAS) {
      const v = extraVariable(parts.optimizer, name)
      if (!v) continue
      extras.push(name)
      tensors.push({ name: `extra/${name}`, tensor: tf.clone(v) })
    }
    return new TrainingState(epoch, tensors, {
      format: FORMAT,
      optimizer: parts.optimizerName,
      networks,
      optimizerWeights: optimizerWeights.length,
      extras,
      extra,
    })
  }

  /** Reads every tensor out (the expensive part) into a storable checkpoint. */
  async toCheckpoint(): Promise<Checkpoint> {
    const { data, specs } = await tf.io.encodeWeights(this.tensors)
    return {
      epoch: this.epoch,
      meta: { ...this.meta },
      weightSpecs: specs,
      weights: new Uint8Array(data),
    }
  }

  dispose(): void {
    tf.dispose(this.tensors.map((t) => t.tensor))
  }
}

/**
 * Loads a checkpoint into freshly built networks and a fresh optimizer (before any step) of a run of `epochs`
 * epochs. Returns its epoch and the family's extra JSON; throws {@link CheckpointError} when it does not fit,
 * leaving the parts untouched.
 */
export async function restoreTrainingState(
  checkpoint: Checkpoint,
  parts: TrainingParts,
  epochs: number,
): Promise<{ epoch: number; extra: Record<string, unknown> }> {
  const fail = (why: string): never => {
    throw new CheckpointError(`checkpoint of epoch ${checkpoint.epoch} cannot be used: ${why}`)
  }
  if (!Number.isInteger(checkpoint.epoch) || checkpoint.epoch < 1 || checkpoint.epoch > epochs)
    fail(`the run has epochs 1 to ${epochs}`)
  const meta = checkpoint.meta as Partial<StateMeta>
  if (meta.format !== FORMAT) fail(`format ${String(meta.format)}, expected ${FORMAT}`)
  if (meta.optimizer !== parts.optimizerName)
    fail(`it was taken with ${String(meta.optimizer)}, the run uses ${parts.optimizerName}`)
  const names = Object.keys(parts.networks)
  const networks = meta.networks ?? []
  if (networks.length !== names.length || networks.some((n, i) => n.name !== names[i]))
    fail('it holds other networks')
  const tensors = decode(checkpoint, fail)
  const take = (name: string): tf.Tensor => {
    const t = tensors.get(name)
    if (!t) return fail(`tensor ${name} is missing`)
    tensors.delete(name)
    return t
  }
  const taken: tf.Tensor[] = []
  try {
    const weightsOf = networks.map((n) =>
      Array.from({ length: n.weights }, (_, i) => take(`net/${n.name}/${i}`)),
    )
    taken.push(...weightsOf.flat())
    const optimizerWeights = Array.from({ length: meta.optimizerWeights ?? 0 }, (_, i) => take(`opt/${i}`))
    taken.push(...optimizerWeights)
    const extras = (meta.extras ?? []).map((name) => ({ name, tensor: take(`extra/${name}`) }))
    taken.push(...extras.map((e) => e.tensor))
    if (tensors.size > 0) fail(`it holds unexpected tensors (${[...tensors.keys()].join(', ')})`)

    names.forEach((name, i) => {
      const model = parts.networks[name]!
      const expected = model.getWeights()
      const given = weightsOf[i]!
      if (given.length !== expected.length || given.some((g, j) => !sameShape(g, expected[j]!)))
        fail(`the weights of ${name} have other shapes`)
    })
    const iterations = optimizerWeights[0]
    if (!iterations || iterations.dtype !== 'int32' || iterations.size !== 1)
      fail('it holds no optimizer step count')
    const slots = optimizerWeights.slice(1)
    const n = parts.variables.length
    if (slots.length % Math.max(1, n) !== 0 || slots.some((s, j) => !sameShape(s, parts.variables[j % n]!)))
      fail("the optimizer's slots do not match the variables")
    for (const e of extras) {
      if (!extraVariable(parts.optimizer, e.name) || e.tensor.size !== 1)
        fail(`the optimizer has no scalar ${e.name}`)
    }

    names.forEach((name, i) => parts.networks[name]!.setWeights(weightsOf[i]!))
    // setWeights makes variables that share the given tensors' data; those tensors are disposed below.
    await parts.optimizer.setWeights(optimizerWeights.map((tensor, j) => ({ name: `opt/${j}`, tensor })))
    for (const e of extras) extraVariable(parts.optimizer, e.name)!.assign(e.tensor as tf.Scalar)
    return { epoch: checkpoint.epoch, extra: meta.extra ?? {} }
  } finally {
    tf.dispose([...taken, ...tensors.values()])
  }
}

const sameShape = (a: tf.Tensor, b: tf.Tensor) =>
  a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])

/** The checkpoint's tensors by name, after checking the manifest against the bytes. */
function decode(checkpoint: Checkpoint, fail: (why: string) => never): Map<string, tf.Tensor> {
  const specs = checkpoint.weightSpecs
  if (!Array.isArray(specs)) return fail('its weight manifest is not a list')
  let bytes = 0
  const names = new Set<string>()
  for (const spec of specs as unknown[]) {
    const s = spec as Partial<tf.io.WeightsManifestEntry> | null
    const valid =
      s !== null &&
      typeof s.name === 'string' &&
      (s.dtype === 'float32' || s.dtype === 'int32') &&
      s.quantization === undefined &&
      Array.isArray(s.shape) &&
      s.shape.every((d) => Number.isInteger(d) && d >= 0)
    if (!valid || names.has(s.name as string)) return fail('its weight manifest has an invalid entry')
    names.add(s.name as string)
    bytes += 4 * (s.shape as number[]).reduce((a, d) => a * d, 1)
  }
  const { weights } = checkpoint
  if (weights.byteLength !== bytes)
    return fail(`it holds ${weights.byteLength} bytes of tensors, its manifest describes ${bytes}`)
  // A Buffer may be a view into a larger pooled ArrayBuffer: copy out exactly its bytes.
  const data = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  ) as ArrayBuffer
  const decoded = tf.io.decodeWeights(data, specs as tf.io.WeightsManifestEntry[])
  return new Map(Object.entries(decoded))
}
