/**
 * Long numeric lists answered as JSON built off the API's event loop. A 10,000-row `predict` answers 10,000
 * Floats: graphql-js completes each (a path and a serialisation per item), Apollo `JSON.stringify`s them and
 * express encodes the text to UTF-8 - milliseconds of the loop per request, plus the garbage. Instead, the
 * query thread that computed the list serialises it too (`JSON.stringify` of the same doubles, so the text is
 * the one Apollo would have written), the resolver answers GraphQL a one-item list holding a marker, and the
 * HTTP layer replaces that one-item list in the response text by the prebuilt one (src/server/spliced-json.ts).
 *
 * A marker is a random double, unguessable and drawn per request: the response text `[marker]` stands for
 * nothing else. When the field's value does not reach the response (an error nulled its parent), the marker
 * is simply not found and nothing is spliced.
 */
import { randomBytes } from 'node:crypto'

/** Rows from which a predict answer is prebuilt off the loop; below, completing it costs less than the hand-off. */
export const SPLICE_MIN_ITEMS = 1_000

/** A JSON list's text as UTF-8 bytes (ASCII for numbers), in shared memory when a thread built it. */
export interface PrebuiltJson {
  json: Uint8Array
}

/**
 * `JSON.stringify(Array.from(values))` as bytes in a SharedArrayBuffer (crosses from a thread without a copy).
 * The text holds only digits, signs, `.`, `e`, `,` and brackets, so its length is its byte count.
 */
export function prebuiltJsonList(values: ArrayLike<number>): PrebuiltJson {
  const text = JSON.stringify(Array.from(values))
  const json = new Uint8Array(new SharedArrayBuffer(text.length))
  new TextEncoder().encodeInto(text, json)
  return { json }
}

/** The prebuilt lists of one HTTP request, by the marker that stands for each in the response. */
export class SplicedLists {
  private readonly lists = new Map<string, Uint8Array>()

  get size(): number {
    return this.lists.size
  }

  /**
   * Registers a prebuilt list; returns the one-item list GraphQL answers in its place (it serialises to
   * `[marker]`, which {@link splice} replaces).
   */
  add(prebuilt: PrebuiltJson): [number] {
    for (;;) {
      const marker = randomMarker()
      const key = `[${JSON.stringify(marker)}]`
      if (this.lists.has(key)) continue
      this.lists.set(key, prebuilt.json)
      return [marker]
    }
  }

  /**
   * The response text with every registered marker list replaced by its prebuilt JSON, as UTF-8 bytes; the
   * text itself when no marker is in it.
   */
  splice(body: string): string | Buffer {
    const found: { at: number; key: string; json: Uint8Array }[] = []
    for (const [key, json] of this.lists) {
      const at = body.indexOf(key)
      if (at >= 0) found.push({ at, key, json })
    }
    if (found.length === 0) return body
    found.sort((a, b) => a.at - b.at)
    const parts: Uint8Array[] = []
    let from = 0
    for (const { at, key, json } of found) {
      parts.push(Buffer.from(body.slice(from, at), 'utf8'), json)
      from = at + key.length
    }
    parts.push(Buffer.from(body.slice(from), 'utf8'))
    return Buffer.concat(parts)
  }
}

/** A double in [1, 2) with 52 random bits: its shortest JSON text has up to 17 digits. */
function randomMarker(): number {
  const b = randomBytes(8)
  const high = b.readUInt32BE(0) & 0xfffff
  const low = b.readUInt32BE(4)
  return 1 + (high * 2 ** 32 + low) / 2 ** 52
}
