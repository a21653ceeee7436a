import { AppError, ErrorCode } from '../../src/errors'
import { contentHash } from '../../src/modules/dataset/dataset.content'
import { COPY_TEXT, copyText } from '../../src/modules/dataset/generators'
import {
  buildTextContent,
  buildVocabulary,
  characters,
  encodeCharacters,
  encodeCorpus,
  MAX_VOCABULARY,
  tokenOf,
  UNKNOWN_TOKEN,
} from '../../src/modules/dataset/text'
import { blockSize, splitText } from '../../src/models/sequence/spec'
import { examplesOf } from '../../src/models/sequence/train'

const limits = { maxTextBytes: 1_000_000 }

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof AppError) return err.code
    throw err
  }
  return undefined
}

describe('text corpora', () => {
  it('builds the vocabulary of characters seen minCount times, in code point order', () => {
    const chars = characters('banana bread')
    expect(buildVocabulary(chars, 1)).toEqual([' ', 'a', 'b', 'd', 'e', 'n', 'r'])
    // a x4, b x2, n x2, r x1, e x1, d x1, space x1.
    expect(buildVocabulary(chars, 2)).toEqual(['a', 'b', 'n'])
    expect(buildVocabulary(chars, 4)).toEqual(['a'])
  })

  it('counts a character outside the BMP as one character', () => {
    const text = 'a😀b😀'
    expect(text.length).toBe(6)
    expect(characters(text)).toEqual(['a', '😀', 'b', '😀'])
    const content = buildTextContent(text, 1, limits)
    expect(content.rowCount).toBe(4)
    expect(content.text!.vocabulary).toEqual(['a', 'b', '😀'])
  })

  it('maps characters below minCount to the one unknown symbol', () => {
    const content = buildTextContent('aaabbbcd', 2, limits)
    expect(content.text!.vocabulary).toEqual(['a', 'b'])
    const ids = encodeCorpus(content.text!)
    expect(Array.from(ids)).toEqual([0, 0, 0, 1, 1, 1, 2, 2])
    expect(tokenOf(content.text!.vocabulary, 2)).toBe(UNKNOWN_TOKEN)
    expect(Array.from(encodeCharacters(['b', 'z'], ['a', 'b']))).toEqual([1, 2])
  })

  it('refuses empty texts, tiny vocabularies, bad minCounts, NUL and unpaired surrogates', () => {
    expect(codeOf(() => buildTextContent('', 1, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('aaaa', 1, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('aab', 2, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('ab', 0, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('ab', 1.5, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('a\u0000b', 1, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('ab\ud800', 1, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    const wide = Array.from({ length: MAX_VOCABULARY + 1 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join(
      '',
    )
    expect(codeOf(() => buildTextContent(wide, 1, limits))).toBe(ErrorCode.BAD_USER_INPUT)
    expect(codeOf(() => buildTextContent('ab', 1, limits))).toBeUndefined()
  })

  it('refuses a corpus above the byte limit with PAYLOAD_TOO_LARGE, counting UTF-8 bytes', () => {
    expect(codeOf(() => buildTextContent('ab'.repeat(50), 1, { maxTextBytes: 100 }))).toBeUndefined()
    expect(codeOf(() => buildTextContent('ab'.repeat(50) + 'c', 1, { maxTextBytes: 100 }))).toBe(
      ErrorCode.PAYLOAD_TOO_LARGE,
    )
    // 40 characters of 3 bytes each.
    expect(codeOf(() => buildTextContent('日本'.repeat(20), 1, { maxTextBytes: 100 }))).toBe(
      ErrorCode.PAYLOAD_TOO_LARGE,
    )
  })

  it('hashes by content: same text and minCount alike, a change of either not', () => {
    const hash = (text: string, minCount: number) => contentHash(buildTextContent(text, minCount, limits))
    expect(hash('hello world', 1)).toBe(hash('hello world', 1))
    expect(hash('hello world', 1)).not.toBe(hash('hello world!', 1))
    expect(hash('hello world', 1)).not.toBe(hash('hello world', 2))
  })
})

describe('the block split', () => {
  it('covers the corpus with disjoint segments of whole blocks, held-out share near validationSplit', () => {
    const length = 100_000
    const ctx = 16
    const size = blockSize(ctx)
    const split = splitText(length, ctx, 0.2, 7)
    const all = [
      ...split.train.map((s) => ({ ...s, side: 0 })),
      ...split.holdout.map((s) => ({ ...s, side: 1 })),
    ]
    all.sort((a, b) => a.start - b.start)
    let at = 0
    for (const s of all) {
      expect(s.start).toBe(at)
      expect(s.start % size).toBe(0)
      at = s.end
    }
    expect(at).toBe(length)
    // Neighbouring segments are on different sides (maximal runs).
    for (let i = 1; i < all.length; i++) expect(all[i]!.side).not.toBe(all[i - 1]!.side)
    const held = split.holdout.reduce((n, s) => n + s.end - s.start, 0)
    expect(held / length).toBeGreaterThan(0.15)
    expect(held / length).toBeLessThan(0.25)
    // Many segments: the held-out blocks are spread over the corpus, not one tail.
    expect(split.holdout.length).toBeGreaterThan(5)
  })

  it('never puts a held-out character in the context of a training target, nor the reverse', () => {
    const length = 20_000
    const ctx = 32
    const split = splitText(length, ctx, 0.3, 3)
    const side = new Int8Array(length)
    for (const s of split.holdout) side.fill(1, s.start, s.end)
    let crossing = 0
    let checked = 0
    for (const [segments, expected] of [
      [split.train, 0],
      [split.holdout, 1],
    ] as const) {
      const { targets, starts } = examplesOf(segments)
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i]!
        const first = Math.max(starts[i]!, t - ctx)
        for (let p = first; p <= t; p++, checked++) if (side[p] !== expected) crossing++
      }
    }
    expect(checked).toBeGreaterThan(length * ctx * 0.9)
    expect(crossing).toBe(0)
    expect(examplesOf(split.train).targets.length).toBe(split.trainExamples)
    expect(examplesOf(split.holdout).targets.length).toBe(split.holdoutExamples)
  })

  it('is seeded: the same seed gives the same split, another seed another one', () => {
    expect(splitText(50_000, 8, 0.2, 1)).toEqual(splitText(50_000, 8, 0.2, 1))
    expect(splitText(50_000, 8, 0.2, 2).holdout).not.toEqual(splitText(50_000, 8, 0.2, 1).holdout)
  })

  it('holds nothing out with validationSplit 0', () => {
    const split = splitText(5000, 8, 0, 1)
    expect(split.holdout).toEqual([])
    expect(split.train).toEqual([{ start: 0, end: 5000 }])
    expect(split.trainExamples).toBe(4999)
  })
})

describe('COPY_TEXT', () => {
  it.each([
    [5, 0.2],
    [3, 0.05],
    [1, 0.5],
  ])('copies the character lag %d back at the rate 1 - noise (noise %d)', (lag, noise) => {
    const n = 40_000
    const text = copyText(n, lag, noise, 11)
    expect(text).toHaveLength(n)
    expect(new Set(text)).toEqual(new Set(COPY_TEXT.alphabet))
    let copies = 0
    for (let t = lag; t < n; t++) if (text[t] === text[t - lag]) copies++
    const rate = copies / (n - lag)
    // Binomial sd is at most 0.0025 here: 4 sd of margin.
    expect(Math.abs(rate - (1 - noise))).toBeLessThan(0.01)
    // No other lag carries the signal.
    let other = 0
    for (let t = lag + 1; t < n; t++) if (text[t] === text[t - lag - 1]) other++
    expect(other / (n - lag - 1)).toBeLessThan(1 - noise - 0.05)
  })

  it('is seeded', () => {
    expect(copyText(500, 4, 0.1, 9)).toBe(copyText(500, 4, 0.1, 9))
    expect(copyText(500, 4, 0.1, 9)).not.toBe(copyText(500, 4, 0.1, 10))
  })
})
