import { prebuiltJsonList, SplicedLists } from '../../../src/modules/common/spliced-lists'

// Prebuilt JSON lists and their splicing into a response text (src/modules/common/spliced-lists.ts).

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

describe('prebuiltJsonList', () => {
  it('writes the text JSON.stringify writes for the same doubles, in shared memory', () => {
    const values = Float64Array.from([
      0,
      -0,
      0.1 + 0.2,
      1e-7,
      5e-324,
      -1.7976931348623157e308,
      123456789012345680000,
      1 / 3,
      -2.5e-10,
    ])
    const { json } = prebuiltJsonList(values)
    expect(json.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(text(json)).toBe(JSON.stringify(Array.from(values)))
    expect(text(prebuiltJsonList(new Float64Array(0)).json)).toBe('[]')
  })
})

describe('SplicedLists', () => {
  it('replaces each marker list by its prebuilt text, wherever the fields sit, keeping the text around', () => {
    const lists = new SplicedLists()
    const a = lists.add(prebuiltJsonList([1, 2.5]))
    const b = lists.add(prebuiltJsonList([-0, 3e-9]))
    expect(a).toHaveLength(1)
    expect(a[0]).not.toBe(b[0])
    const body = `${JSON.stringify({ data: { b, name: 'héllo ✓', a, again: [1] } })}\n`
    const spliced = lists.splice(body)
    expect(Buffer.isBuffer(spliced)).toBe(true)
    expect(spliced.toString()).toBe(
      `${JSON.stringify({ data: { b: [0, 3e-9], name: 'héllo ✓', a: [1, 2.5], again: [1] } })}\n`,
    )
  })

  it('leaves a text without its markers as it is (a field an error nulled)', () => {
    const lists = new SplicedLists()
    lists.add(prebuiltJsonList([1, 2]))
    const body = `${JSON.stringify({ errors: [{ message: 'no' }], data: null })}\n`
    expect(lists.splice(body)).toBe(body)
    expect(lists.size).toBe(1)
  })

  it('draws markers per registry: the same answer gets another marker in another request', () => {
    const markers = new Set(
      Array.from({ length: 200 }, () => new SplicedLists().add({ json: new Uint8Array() })[0]),
    )
    expect(markers.size).toBe(200)
    for (const m of markers) expect(m >= 1 && m < 2).toBe(true)
  })
})
