import { OVERLAP, renderChart } from '../../../src/cli/chart'

const loss = (n: number) => Array.from({ length: n }, (_, i) => 1 / (i + 1))

describe('renderChart', () => {
  it('always returns height + 3 lines, none wider than asked', () => {
    for (const [n, width, height] of [
      [0, 40, 4],
      [1, 40, 4],
      [20, 60, 10],
      [500, 50, 6],
    ] as const) {
      const lines = renderChart([{ label: 'loss', values: loss(n), glyph: '#' }], { width, height })
      expect(lines).toHaveLength(height + 3)
      for (const line of lines.slice(0, -1)) expect(line.length).toBeLessThanOrEqual(width)
    }
  })

  it('puts the first epoch top-left and the last bottom-right for a falling loss, axes labelled', () => {
    const lines = renderChart([{ label: 'loss', values: [4, 3, 2, 1], glyph: '#' }], { width: 30, height: 4 })
    const plot = lines.slice(0, 4)
    expect(plot[0]).toMatch(/^4 ┤#/)
    expect(plot[3]).toMatch(/^1 ┤.*#$/)
    expect(plot[3]!.length).toBe(30)
    expect(lines[4]).toBe('  └' + '─'.repeat(27))
    expect(lines[5]).toMatch(/^ {3}1 +4$/)
    expect(lines[6]).toBe('# loss 1')
  })

  it('joins steep drops into a connected line: every column and every row is drawn', () => {
    const lines = renderChart([{ label: 'loss', values: [10, 0], glyph: '#' }], { width: 12, height: 6 })
    const plot = lines
      .slice(0, 6)
      .map((l) => l.slice(l.indexOf('┤') >= 0 ? l.indexOf('┤') + 1 : l.indexOf('│') + 1))
    for (const row of plot) expect(row).toContain('#')
  })

  it('draws each series with its glyph and their overlaps with the overlap glyph', () => {
    const lines = renderChart(
      [
        { label: 'loss', values: [1, 1, 1], glyph: 'a' },
        { label: 'val loss', values: [1, 2, 3], glyph: 'b' },
      ],
      { width: 20, height: 5 },
    )
    const body = lines.slice(0, 5).join('\n')
    expect(body).toContain('a')
    expect(body).toContain('b')
    expect(body).toContain(OVERLAP)
    expect(lines.at(-1)).toBe('a loss 1   b val loss 3')
  })

  it('skips missing values and shows - for a series with none', () => {
    const lines = renderChart(
      [
        { label: 'loss', values: [2, 1], glyph: 'a' },
        { label: 'val loss', values: [null, null], glyph: 'b' },
      ],
      { width: 20, height: 3 },
    )
    expect(lines.slice(0, 3).join('')).not.toContain('b')
    expect(lines.at(-1)).toBe('a loss 1   b val loss -')
  })

  it('centres a flat line', () => {
    const lines = renderChart([{ label: 'loss', values: [0.5, 0.5, 0.5], glyph: '#' }], {
      width: 20,
      height: 5,
    })
    expect(lines[2]).toMatch(/┤###/)
  })

  it('goes logarithmic when positive values span a wide range, keeping the labels in values', () => {
    const values = [1000, 100, 10, 1]
    const count = (line: string | undefined) => (line ?? '').split('#').length - 1
    const log = renderChart([{ label: 'loss', values, glyph: '#' }], { width: 30, height: 4 })
    expect(log[0]).toMatch(/^1000 ┤#/)
    expect(log[1]).toMatch(/^ 100 ┤/)
    expect(log[3]).toMatch(/^ {3}1 ┤ +#+$/)
    // Each decade gets a row: a straight line, as long in each middle row (the ends hold half a step).
    const perRow = log.slice(0, 4).map(count)
    expect(perRow[1]).toBe(perRow[2])
    expect(perRow[0]! + perRow[3]!).toBe(perRow[1])
    // Linearly, 100, 10 and 1 crowd the bottom row.
    const linear = renderChart([{ label: 'loss', values, glyph: '#' }], {
      width: 30,
      height: 4,
      scale: 'linear',
    })
    expect(count(linear[3])).toBeGreaterThan(2 * count(log[3]))
  })
})
