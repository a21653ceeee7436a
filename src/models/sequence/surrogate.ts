/**
 * Interpretability models of a next-character generator: simple models fitted to the generator's own
 * next-character distributions (soft labels), not to the text, so their fidelity says how much of what the
 * generator does a readable model captures. A softmax-linear model over the one-hot window (multinomial
 * logistic regression: its weights say which positions matter) and n-grams of soft counts with backoff.
 */
import * as tf from '@tensorflow/tfjs'

import { NextCharacterSurrogateKind } from '../../explain/types'
import { seededRandom, shuffledRange, yieldToEventLoop } from '../common/random'
import { encodeContexts } from './network'

/** GraphQL `NextCharacterSurrogate`. */
export interface NextCharacterSurrogate {
  kind: NextCharacterSurrogateKind
  /** NGRAM: n (it reads the previous n - 1 characters); null for SOFTMAX_LINEAR. */
  order: number | null
  /** SOFTMAX_LINEAR: the window positions it reads (the last ones); NGRAM: order - 1. */
  contextPositions: number
  /** Share of evaluation windows where the surrogate's most likely character is the generator's. */
  top1Agreement: number
  /** Mean KL(generator || surrogate) over the evaluation windows, nats. */
  meanKl: number
  fittedWindows: number
  evaluationWindows: number
  /** SOFTMAX_LINEAR: at distance d = index + 1, the mean over input characters of their largest |weight|. */
  weightByDistance: number[] | null
  /** NGRAM: share of evaluation windows whose (order - 1)-character context was never fitted (backed off). */
  backoffShare: number | null
}

/** A fitting set: contexts (each at most the model's contextLength symbols) and the generator's distributions. */
export interface SoftLabels {
  contexts: number[][]
  distributions: Float64Array[]
}

export interface SoftmaxLinearSettings {
  /** Window positions read, the last ones of the context. */
  positions: number
  epochs: number
  batchSize: number
  learningRate: number
  /** Weight of the mean squared weight in the loss: irrelevant positions shrink instead of fitting noise. */
  l2: number
  seed: number
  signal?: AbortSignal
}

/** Top-1 agreement and mean KL(p || q) of predicted distributions q against the generator's p. */
export function fidelity(
  generator: readonly Float64Array[],
  surrogate: readonly ArrayLike<number>[],
): { top1Agreement: number; meanKl: number } {
  let agree = 0
  let kl = 0
  generator.forEach((p, i) => {
    const q = surrogate[i]!
    if (argMax(p) === argMax(q)) agree++
    for (let c = 0; c < p.length; c++) {
      const pc = p[c]!
      // The floor only guards log(0): a softmax or an average of softmaxes is never 0 where p is not.
      if (pc > 0) kl += pc * (Math.log(pc) - Math.log(Math.max(q[c]!, 1e-30)))
    }
  })
  const n = Math.max(1, generator.length)
  return { top1Agreement: agree / n, meanKl: kl / n }
}

function argMax(values: ArrayLike<number>): number {
  let best = 0
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i
  return best
}

/**
 * Multinomial logistic regression q = softmax(b + W onehot(window)) fitted by Adam to minimise the
 * cross-entropy to the generator's distributions (KL plus the generator's entropy, a constant). Zero
 * initialisation keeps every input's weights centred over the outputs (softmax gradients sum to zero over
 * the outputs), so their sizes are not blurred by the softmax's shift invariance.
 */
export async function fitSoftmaxLinear(
  fit: SoftLabels,
  evaluation: SoftLabels,
  symbols: number,
  settings: SoftmaxLinearSettings,
): Promise<NextCharacterSurrogate> {
  const L = settings.positions
  const width = L * symbols
  const weights = tf.variable(tf.zeros([width, symbols]))
  const bias = tf.variable(tf.zeros([symbols]))
  const optimizer = tf.train.adam(settings.learningRate)
  const logits = (contexts: readonly number[][]) =>
    tf.add(
      tf.matMul(tf.tensor2d(encodeContexts(contexts, L, symbols), [contexts.length, width]), weights),
      bias,
    )
  try {
    const n = fit.contexts.length
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      settings.signal?.throwIfAborted()
      const order = shuffledRange(n, seededRandom(settings.seed, `softmax-surrogate/${epoch}`))
      for (let start = 0; start < n; start += settings.batchSize) {
        const picked = Array.from(order.subarray(start, start + settings.batchSize))
        tf.tidy(() => {
          const p = tf.tensor2d(
            flatten(
              picked.map((i) => fit.distributions[i]!),
              symbols,
            ),
            [picked.length, symbols],
          )
          const x = picked.map((i) => fit.contexts[i]!)
          optimizer.minimize(
            () =>
              tf.add(
                tf.neg(tf.mean(tf.sum(tf.mul(p, tf.logSoftmax(logits(x))), 1))),
                tf.mul(settings.l2, tf.sum(tf.square(weights))),
              ) as tf.Scalar,
            false,
            [weights, bias],
          )
        })
      }
      await yieldToEventLoop()
    }
    const predicted: Float32Array[] = []
    for (let start = 0; start < evaluation.contexts.length; start += 1024) {
      const part = evaluation.contexts.slice(start, start + 1024)
      const q = tf.tidy(() => tf.softmax(logits(part)))
      const values = q.dataSync() as Float32Array
      q.dispose()
      part.forEach((_, i) => predicted.push(values.subarray(i * symbols, (i + 1) * symbols)))
    }
    return {
      kind: NextCharacterSurrogateKind.SOFTMAX_LINEAR,
      order: null,
      contextPositions: L,
      ...fidelity(evaluation.distributions, predicted),
      fittedWindows: n,
      evaluationWindows: evaluation.contexts.length,
      weightByDistance: weightsByDistance(weights.dataSync(), L, symbols),
      backoffShare: null,
    }
  } finally {
    optimizer.dispose()
    weights.dispose()
    bias.dispose()
  }
}

/**
 * Per window position, nearest first: the mean over input characters of their largest |weight| to any output
 * (each input's weights centred over the outputs first), i.e. how far the character there can move some logit.
 * Not the mean |weight| over all entries: a position that copies its character to the output has S large
 * weights among S^2, and that mean drowns them in the small ones (on COPY_TEXT it ranked a secondary position
 * above the copied one).
 */
function weightsByDistance(w: ArrayLike<number>, positions: number, symbols: number): number[] {
  const out: number[] = []
  for (let d = 1; d <= positions; d++) {
    const slot = positions - d
    let sum = 0
    for (let c = 0; c < symbols; c++) {
      const row = (slot * symbols + c) * symbols
      let mean = 0
      for (let k = 0; k < symbols; k++) mean += w[row + k]!
      mean /= symbols
      let largest = 0
      for (let k = 0; k < symbols; k++) largest = Math.max(largest, Math.abs(w[row + k]! - mean))
      sum += largest
    }
    out.push(sum / symbols)
  }
  return out
}

function flatten(rows: readonly ArrayLike<number>[], width: number): Float32Array {
  const out = new Float32Array(rows.length * width)
  rows.forEach((r, i) => {
    for (let j = 0; j < width; j++) out[i * width + j] = r[j]!
  })
  return out
}

/**
 * The n-gram of order n of the generator: the mean generator distribution over the fitted windows that end
 * in the same n - 1 characters (soft counts), backing off to order n - 1, ... 1 (the mean distribution) for a
 * context never fitted.
 */
export function fitNgram(fit: SoftLabels, evaluation: SoftLabels, order: number): NextCharacterSurrogate {
  const tables = Array.from({ length: order }, (_, k) => softCounts(fit, k))
  let backedOff = 0
  const predicted = evaluation.contexts.map((context) => {
    for (let k = order - 1; k >= 0; k--) {
      const hit = tables[k]!.get(keyOf(context, k))
      if (hit) return hit
      if (k === order - 1) backedOff++
    }
    // Unreachable: the order-1 table has the empty context, seen by every fitted window.
    throw new Error('an n-gram without its unigram')
  })
  return {
    kind: NextCharacterSurrogateKind.NGRAM,
    order,
    contextPositions: order - 1,
    ...fidelity(evaluation.distributions, predicted),
    fittedWindows: fit.contexts.length,
    evaluationWindows: evaluation.contexts.length,
    weightByDistance: null,
    backoffShare: evaluation.contexts.length > 0 ? backedOff / evaluation.contexts.length : 0,
  }
}

/** The last k symbols of a context; a shorter context (a segment's start) is a key of its own. */
function keyOf(context: readonly number[], k: number): string {
  return k === 0 ? '' : `${Math.min(k, context.length)}:${context.slice(-k).join(',')}`
}

function softCounts(fit: SoftLabels, k: number): Map<string, Float64Array> {
  const sums = new Map<string, { sum: Float64Array; count: number }>()
  fit.contexts.forEach((context, i) => {
    const p = fit.distributions[i]!
    const key = keyOf(context, k)
    let entry = sums.get(key)
    if (!entry) sums.set(key, (entry = { sum: new Float64Array(p.length), count: 0 }))
    for (let c = 0; c < p.length; c++) entry.sum[c] = entry.sum[c]! + p[c]!
    entry.count++
  })
  return new Map([...sums].map(([key, e]) => [key, e.sum.map((v) => v / e.count)]))
}
