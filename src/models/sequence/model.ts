/** A trained next-character model behind plain calls (the `TextModel` capability of a loaded model). */
import * as tf from '@tensorflow/tfjs'

import type { PositionScorer } from '../../explain/token-attribution'
import { applyModel } from '../common/tf'
import type { TextModel } from '../family'
import type { SequenceArchitecture } from '../family.enums'
import { encodeContexts } from './network'

// Bounds one forward pass.
const CHUNK = 512

export class SequenceModel implements TextModel {
  private disposed = false

  constructor(
    readonly network: tf.LayersModel,
    readonly architecture: SequenceArchitecture,
    readonly contextLength: number,
    readonly vocabulary: readonly string[],
  ) {}

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
    const L = this.contextLength
    const S = this.symbols
    const n = context.length
    if (n < 1 || n > L) throw new RangeError(`a scored context has 1 to ${L} symbols, got ${n}`)
    if (!Number.isInteger(target) || target < 0 || target >= S)
      throw new RangeError(`symbol ${target} is out of range`)
    const offset = L - n
    const encode = (masks: readonly ArrayLike<number>[]) => {
      const x = new Float32Array(masks.length * L * S)
      masks.forEach((m, i) => {
        for (let j = 0; j < n; j++) x[(i * L + offset + j) * S + context[j]!] = m[j]!
      })
      return tf.tensor3d(x, [masks.length, L, S])
    }
    // A one-hot product rather than tf.gather: gather's gradient needs a kernel the wasm backend lacks.
    const logProb = (x: tf.Tensor3D) =>
      tf.sum(tf.mul(tf.logSoftmax(applyModel(this.network, x) as tf.Tensor2D), tf.oneHot([target], S)), 1)
    const chunked = <T>(
      masks: readonly ArrayLike<number>[],
      one: (part: readonly ArrayLike<number>[]) => T[],
    ) => {
      if (this.disposed) throw new Error('model used after dispose()')
      const out: T[] = []
      for (let start = 0; start < masks.length; start += CHUNK)
        out.push(...one(masks.slice(start, start + CHUNK)))
      return out
    }
    return {
      positions: n,
      score: (masks) =>
        Float64Array.from(
          chunked(masks, (part) => {
            const y = tf.tidy(() => logProb(encode(part)))
            const values = Array.from(y.dataSync())
            y.dispose()
            return values
          }),
        ),
      gradient: (masks) =>
        chunked(masks, (part) => {
          const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(logProb(x as tf.Tensor3D)))(encode(part)))
          const values = g.dataSync()
          g.dispose()
          return part.map((_, i) => {
            const row = new Float64Array(n)
            for (let j = 0; j < n; j++) row[j] = values[(i * L + offset + j) * S + context[j]!]!
            return row
          })
        }),
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.network.dispose()
  }
}
