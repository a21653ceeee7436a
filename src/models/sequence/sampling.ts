/**
 * Text generation from a {@link TextModel}: a pure function of (model, prompt, options), seeded, one token at a
 * time, so a caller can stream tokens as they are produced or move the whole computation elsewhere (a worker
 * thread). No TensorFlow.js here beyond what the model does inside nextDistributions.
 */
import { seededRandom } from '../common/random'
import { tokenOf as symbolToken } from '../../modules/dataset/text'
import type { TextModel } from '../family'

/** How many of the most likely tokens each generated token lists. */
export const ALTERNATIVES = 5

export interface SamplingOptions {
  maxTokens: number
  /** 0 is greedy (the most likely token, the lowest symbol on a tie); otherwise p^(1/T), renormalised. */
  temperature: number
  /** Sample among the k most likely tokens only; null: among all. */
  topK: number | null
  seed: number
}

export interface TokenProbability {
  token: string
  probability: number
}

/**
 * One generated token. `probability`, `entropy` (nats) and `alternatives` describe the model's own next-symbol
 * distribution (temperature 1, every symbol), whatever temperature and topK the sampling used.
 */
export interface GeneratedToken {
  token: string
  /** The symbol id (vocabulary.length is the unknown symbol). */
  symbol: number
  probability: number
  entropy: number
  alternatives: TokenProbability[]
}

/** The distribution sampling draws from: temperature and top-k applied to the model's probabilities. */
export function samplingDistribution(
  probabilities: ArrayLike<number>,
  temperature: number,
  topK: number | null,
): Float64Array {
  const n = probabilities.length
  const order = rankSymbols(probabilities)
  const allowed = new Uint8Array(n)
  const k = topK === null ? n : Math.min(topK, n)
  for (let i = 0; i < k; i++) allowed[order[i]!] = 1
  const out = new Float64Array(n)
  if (temperature === 0) {
    out[order[0]!] = 1
    return out
  }
  // In log space, shifted by the largest allowed log-probability, so small temperatures cannot underflow to 0/0.
  let top = -Infinity
  for (let i = 0; i < n; i++) if (allowed[i]) top = Math.max(top, Math.log(probabilities[i]!))
  let total = 0
  for (let i = 0; i < n; i++) {
    if (!allowed[i]) continue
    const w = Math.exp((Math.log(probabilities[i]!) - top) / temperature)
    out[i] = w
    total += w
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! / total
  return out
}

/** Symbols from most to least likely; ties by the lower symbol (so greedy decoding is deterministic). */
export function rankSymbols(probabilities: ArrayLike<number>): number[] {
  return Array.from({ length: probabilities.length }, (_, i) => i).sort(
    (a, b) => probabilities[b]! - probabilities[a]! || a - b,
  )
}

/** Shannon entropy in nats. */
export function entropy(probabilities: ArrayLike<number>): number {
  let h = 0
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!
    if (p > 0) h -= p * Math.log(p)
  }
  return h
}

/** Draws a symbol from a distribution with one uniform number in [0, 1). */
export function drawSymbol(distribution: ArrayLike<number>, u: number): number {
  let last = 0
  let acc = 0
  for (let i = 0; i < distribution.length; i++) {
    const p = distribution[i]!
    if (p <= 0) continue
    acc += p
    last = i
    if (u < acc) return i
  }
  // Rounding left the sum a hair below u: the last symbol that has mass.
  return last
}

/**
 * Generates up to `options.maxTokens` tokens after the prompt's symbols, yielding each as it is chosen. Each
 * step feeds the model the last contextLength symbols (prompt and generated ones). The same model, prompt and
 * options always give the same tokens.
 */
export function* generateTokens(
  model: TextModel,
  prompt: readonly number[],
  options: SamplingOptions,
): Generator<GeneratedToken, void, undefined> {
  const random = seededRandom(options.seed, 'generate')
  const context = [...prompt.slice(-model.contextLength)]
  const tokenOf = (id: number) => symbolToken(model.vocabulary, id)
  for (let step = 0; step < options.maxTokens; step++) {
    const probabilities = model.nextDistributions([context])[0]!
    const u = random()
    const symbol = drawSymbol(samplingDistribution(probabilities, options.temperature, options.topK), u)
    const alternatives = rankSymbols(probabilities)
      .slice(0, ALTERNATIVES)
      .map((id) => ({ token: tokenOf(id), probability: probabilities[id]! }))
    yield {
      token: tokenOf(symbol),
      symbol,
      probability: probabilities[symbol]!,
      entropy: entropy(probabilities),
      alternatives,
    }
    context.push(symbol)
    if (context.length > model.contextLength) context.shift()
  }
}
