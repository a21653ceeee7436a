/**
 * Text corpora: the vocabulary of characters (Unicode code points), the encoding of a text into symbol ids, and
 * the checks an import goes through. No GraphQL and no TensorFlow here: the trainer imports it.
 */
import { badInput, tooLarge } from '../../errors'
import type { DatasetContent } from './dataset.content'
import { Task } from './dataset.enums'

/** A corpus as stored: the text and the characters it is modelled over. */
export interface TextCorpus {
  text: string
  /** Characters seen at least `minCount` times, in code point order. Symbol i is vocabulary[i]. */
  vocabulary: string[]
  minCount: number
}

export interface TextLimits {
  /** Largest corpus, in UTF-8 bytes (LAB_MAX_TEXT_BYTES). */
  maxTextBytes: number
}

/** Default of ImportTextDatasetInput.minCount. */
export const DEFAULT_MIN_COUNT = 1
/**
 * Most characters a vocabulary may hold: every one is a one-hot input and an output of the network, so a
 * corpus of many rare characters is better imported with a higher minCount.
 */
export const MAX_VOCABULARY = 2000
/** How the unknown symbol (id vocabulary.length) is written in generated text. */
export const UNKNOWN_TOKEN = '\uFFFD'

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The characters of a text: code points, so a character outside the BMP is one character, not two. */
export function characters(text: string): string[] {
  return Array.from(text)
}

/** Characters seen at least `minCount` times, sorted by code point. */
export function buildVocabulary(chars: readonly string[], minCount: number): string[] {
  const counts = new Map<string, number>()
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1)
  return [...counts]
    .filter(([, n]) => n >= minCount)
    .map(([c]) => c)
    .sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)
}

/** Symbol ids of `chars`; a character outside the vocabulary becomes the unknown symbol, vocabulary.length. */
export function encodeCharacters(chars: readonly string[], vocabulary: readonly string[]): Int32Array {
  const index = new Map(vocabulary.map((c, i) => [c, i]))
  const unknown = vocabulary.length
  return Int32Array.from(chars, (c) => index.get(c) ?? unknown)
}

/** The corpus's symbol ids, for training. */
export function encodeCorpus(corpus: TextCorpus): Int32Array {
  return encodeCharacters(characters(corpus.text), corpus.vocabulary)
}

/** The character of a symbol id (the unknown symbol as {@link UNKNOWN_TOKEN}). */
export function tokenOf(vocabulary: readonly string[], id: number): string {
  return vocabulary[id] ?? UNKNOWN_TOKEN
}

/**
 * Checks a corpus and builds its content: PAYLOAD_TOO_LARGE above the size limit (checked first, before any
 * per-character work), BAD_USER_INPUT for an empty text, a NUL or an unpaired surrogate (PostgreSQL text holds
 * neither), a minCount below 1, or a vocabulary of fewer than 2 characters.
 */
export function buildTextContent(text: string, minCount: number, limits: TextLimits): DatasetContent {
  // UTF-16 units bound the UTF-8 size from below (1-3 bytes each): a cheap first refusal of a huge string.
  if (text.length > limits.maxTextBytes || Buffer.byteLength(text, 'utf8') > limits.maxTextBytes) {
    throw tooLarge(`the text is larger than the limit of ${limits.maxTextBytes} bytes (LAB_MAX_TEXT_BYTES)`, {
      field: 'text',
      maxBytes: limits.maxTextBytes,
    })
  }
  if (text.length === 0) throw badInput('text must not be empty', { field: 'text' })
  if (!Number.isInteger(minCount) || minCount < 1) {
    throw badInput(`minCount is ${minCount}; it must be a positive integer`, { field: 'minCount' })
  }
  if (text.includes('\u0000')) throw badInput('text contains a NUL character', { field: 'text' })
  if (LONE_SURROGATE.test(text)) {
    throw badInput('text contains an unpaired surrogate (it is not valid Unicode)', { field: 'text' })
  }
  const chars = characters(text)
  const vocabulary = buildVocabulary(chars, minCount)
  if (vocabulary.length < 2) {
    throw badInput(
      `the vocabulary has ${vocabulary.length} character${vocabulary.length === 1 ? '' : 's'} seen at least ` +
        `${minCount} times; a text model needs at least 2`,
      { field: vocabulary.length === 0 ? 'minCount' : 'text' },
    )
  }
  if (vocabulary.length > MAX_VOCABULARY) {
    throw badInput(
      `the vocabulary has ${vocabulary.length} characters; at most ${MAX_VOCABULARY} (raise minCount to map ` +
        'rare characters to the unknown symbol)',
      { field: 'minCount' },
    )
  }
  return {
    task: Task.UNSUPERVISED,
    featureNames: [],
    targetName: null,
    rowCount: chars.length,
    features: new Float64Array(0),
    targets: new Float64Array(0),
    factorNames: [],
    factors: new Float64Array(0),
    imageShape: null,
    text: { text, vocabulary, minCount },
  }
}
