/** A trained next-character model behind plain calls (the `AttributableTextModel` capability of a loaded model). */
import * as tf from '@tensorflow/tfjs'

import {
  stepScorer,
  type PositionScorer,
  type StepMasks,
  type StepScorers,
} from '../../explain/token-attribution'
import { applyModel } from '../common/tf'
import type { AttributableTextModel, ScoredStep } from '../family'
import type { SequenceArchitecture } from '../family.enums'
import { encodeContexts } from './network'
import { gruStackOf, sharedPrefixLogits, type GruStack, type PrefixRow } from './shared-prefixes'

// Bounds one forward (or gradient) pass. A GRU pass has a cost per kernel call (its cell runs once per
// position): on wasm, passes of 1,024 rows cost about 0.85x the CPU per row of passes of 512 (forward, GRU 64,
// context 32; 0.75x for the gradient); 2,048 gain nothing more and hold twice the unrolled steps in memory.
const CHUNK = 1024
// Rows per shared-prefix pass (see shared-prefixes.ts): more rows share more prefixes; a level holds at most this
// many states.
const SHARED_CHUNK = 4096

/** One mask of a request, as one input row. */
interface MaskRow {
  step: number
  mask: Float64Array
}

export interface SequenceModelOptions {
  /**
   * Score masks of a GRU stack with the shared-prefix pass (default true): the same scores to float32
   * rounding, fewer cell steps. False keeps the layers' own pass (for comparisons).
   */
  sharedPrefixes?: boolean
}

export class SequenceModel implements AttributableTextModel {
  private disposed = false
  /** The network as GRU cells and an output layer, when scores take the shared-prefix pass. */
  private readonly stack: GruStack | null

  constructor(
    readonly network: tf.LayersModel,
    readonly architecture: SequenceArchitecture,
    readonly contextLength: number,
    readonly vocabulary: readonly string[],
    options: SequenceModelOptions = {},
  ) {
    this.stack = (options.sharedPrefixes ?? true) ? gruStackOf(network) : null
  }

  /** Vocabulary size plus the unknown symbol: the one-hot width and the number of outputs. */
  get symbols(): number {
    return this.vocabulary.length + 1
  }

  nextDistributions(contexts: readonly (readonly number[])[]): Float64Array[] {
    if (this.disposed) throw new Error('model used after dispose()')
    const out: Float64Array[] = []
    const s = this.symbols
    for (let start = 0; start < contexts.length; start += CHUNK) {
      const chunk = contexts.slice(start, start + CHUNK)
      const probs = tf.tidy(() => {
        const x = tf.tensor3d(encodeContexts(chunk, this.contextLength, s), [
          chunk.length,
          this.contextLength,
          s,
        ])
        return tf.softmax(applyModel(this.network, x))
      })
      const values = probs.dataSync()
      probs.dispose()
      for (let i = 0; i < chunk.length; i++) out.push(Float64Array.from(values.subarray(i * s, (i + 1) * s)))
    }
    return out
  }

  /**
   * log p(target | context) as a function of masks over the context's positions (see PositionScorer): the
   * input row of position s is m_s times its one-hot character, so m = 1 is the context itself and m_s = 0
   * the all-zero baseline row. `context` is at most contextLength symbols, right-aligned like every context.
   */
  positionScorer(context: readonly number[], target: number): PositionScorer {
    return stepScorer(this.positionScorers([{ context, target }]), 0)
  }

  /**
   * The position scorers of many (context, target) steps at once: one forward (or gradient) pass per CHUNK
   * masks, whichever steps they belong to. On a GRU a pass of 16 rows costs far more than a 64th of one of 1,024.
   */
  positionScorers(steps: readonly ScoredStep[]): StepScorers {
    const L = this.contextLength
    const S = this.symbols
    for (const { context, target } of steps) {
      if (context.length < 1 || context.length > L)
        throw new RangeError(`a scored context has 1 to ${L} symbols, got ${context.length}`)
      if (!Number.isInteger(target) || target < 0 || target >= S)
        throw new RangeError(`symbol ${target} is out of range`)
    }
    // Every mask of the requests becomes one input row: m_s times its step's one-hot character at slot
    // L - n + s, with its step's target one-hot beside it.
    const targetsOf = (rows: readonly MaskRow[]) => {
      const y = new Float32Array(rows.length * S)
      rows.forEach(({ step }, i) => (y[i * S + steps[step]!.target] = 1))
      return tf.tensor2d(y, [rows.length, S])
    }
    const encode = (rows: readonly MaskRow[]) => {
      const x = new Float32Array(rows.length * L * S)
      rows.forEach(({ step, mask }, i) => {
        const { context } = steps[step]!
        const offset = L - context.length
        for (let j = 0; j < context.length; j++) x[(i * L + offset + j) * S + context[j]!] = mask[j]!
      })
      return { x: tf.tensor3d(x, [rows.length, L, S]), y: targetsOf(rows) }
    }
    // A one-hot product rather than tf.gather: gather's gradient needs a kernel the wasm backend lacks.
    const targetLogProb = (logits: tf.Tensor2D, y: tf.Tensor2D) => tf.sum(tf.mul(tf.logSoftmax(logits), y), 1)
    const logProb = (x: tf.Tensor3D, y: tf.Tensor2D) =>
      targetLogProb(applyModel(this.network, x) as tf.Tensor2D, y)
    const valuesOf = (compute: () => tf.Tensor) => {
      const y = tf.tidy(compute)
      const values = Array.from(y.dataSync())
      y.dispose()
      return values
    }
    const score = (rows: readonly MaskRow[]) =>
      valuesOf(() => {
        const input = encode(rows)
        return logProb(input.x, input.y)
      })
    // The same scores through the shared-prefix pass: position slot t of a row is its step's symbol there
    // (none before the context starts) times the mask.
    const sharedScore = (stack: GruStack) => (rows: readonly MaskRow[]) => {
      const prefixRows: PrefixRow[] = rows.map(({ step, mask }) => {
        const { context } = steps[step]!
        const offset = L - context.length
        const symbols = new Int32Array(L).fill(-1)
        const values = new Float32Array(L)
        for (let j = 0; j < context.length; j++) {
          symbols[offset + j] = context[j]!
          values[offset + j] = mask[j]!
        }
        return { symbols, values }
      })
      return valuesOf(() => targetLogProb(sharedPrefixLogits(stack, prefixRows, L, S), targetsOf(rows)))
    }
    const stack = this.stack
    const gradient = (rows: readonly MaskRow[]) => {
      const g = tf.tidy(() => {
        const input = encode(rows)
        return tf.grad((x: tf.Tensor) => tf.sum(logProb(x as tf.Tensor3D, input.y)))(input.x)
      })
      const values = g.dataSync()
      g.dispose()
      return rows.map(({ step }, i) => {
        const { context } = steps[step]!
        const offset = L - context.length
        return Float64Array.from(context, (symbol, j) => values[(i * L + offset + j) * S + symbol]!)
      })
    }
    return {
      positions: steps.map((s) => s.context.length),
      score: (requests) =>
        (stack
          ? this.perRequest(requests, sharedScore(stack), SHARED_CHUNK)
          : this.perRequest(requests, score)
        ).map((values) => Float64Array.from(values)),
      gradient: (requests) => this.perRequest(requests, gradient),
    }
  }

  /** Answers the masks of all the requests in passes of at most CHUNK rows, then splits them per request. */
  private perRequest<T>(
    requests: readonly StepMasks[],
    pass: (rows: readonly MaskRow[]) => T[],
    chunk = CHUNK,
  ): T[][] {
    if (this.disposed) throw new Error('model used after dispose()')
    const rows = requests.flatMap(({ step, masks }) => masks.map((mask) => ({ step, mask })))
    const out: T[] = []
    for (let start = 0; start < rows.length; start += chunk)
      out.push(...pass(rows.slice(start, start + chunk)))
    let next = 0
    return requests.map(({ masks }) => out.slice(next, (next += masks.length)))
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.network.dispose()
  }
}
