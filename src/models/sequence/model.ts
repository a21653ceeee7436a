/** A trained next-character model behind plain calls (the `TextModel` capability of a loaded model). */
import * as tf from '@tensorflow/tfjs'

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

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.network.dispose()
  }
}
