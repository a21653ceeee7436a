import { formatDate, formatNumber, formatSetting, formatTable } from '../../../src/cli/table'

describe('formatTable', () => {
  it('aligns columns under their headers, numbers to the right, without trailing spaces', () => {
    const text = formatTable(
      [{ header: 'NAME' }, { header: 'LOSS', align: 'right' }, { header: 'STATUS' }],
      [
        ['a', '0.5', 'SUCCEEDED'],
        ['longer-name', '12.25', 'FAILED'],
      ],
    )
    expect(text).toBe(
      ['NAME          LOSS  STATUS', 'a              0.5  SUCCEEDED', 'longer-name  12.25  FAILED', ''].join(
        '\n',
      ),
    )
  })

  it('prints only the header for no rows, and treats missing cells as empty', () => {
    expect(formatTable([{ header: 'A' }, { header: 'B' }], [])).toBe('A  B\n')
    expect(formatTable([{ header: 'A' }, { header: 'B' }], [['x']])).toBe('A  B\nx\n')
  })

  it('cuts shrinkable columns, widest first, to fit maxWidth', () => {
    const rows = [['0123456789abcdef', 'a-rather-long-run-name-here', 'an-experiment-name', 'RUNNING']]
    const columns = [
      { header: 'ID' },
      { header: 'NAME', shrink: true },
      { header: 'EXPERIMENT', shrink: true },
      { header: 'STATUS' },
    ]
    const text = formatTable(columns, rows, { maxWidth: 60 })
    for (const line of text.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(60)
    expect(text).toContain('0123456789abcdef')
    expect(text).toContain('RUNNING')
    expect(text).toContain('a-rather-long-…')
    expect(text).toContain('an-experiment-n…')
  })

  it('stops shrinking at a floor rather than losing the columns', () => {
    const text = formatTable(
      [{ header: 'NAME', shrink: true }, { header: 'X' }],
      [['abcdefghijklmnop', 'y']],
      {
        maxWidth: 5,
      },
    )
    expect(text.split('\n')[1]).toBe('abcdefg…  y')
  })
})

describe('cell formats', () => {
  it.each([
    [null, '-'],
    [undefined, '-'],
    [Number.NaN, '-'],
    [0, '0'],
    [0.123456, '0.1235'],
    [12.3456, '12.35'],
    [1234.5, '1235'],
    [0.001, '0.001'],
    [0.0001, '1.00e-4'],
    [2.5e7, '2.50e+7'],
    [-0.5, '-0.5'],
    [Infinity, 'inf'],
  ])('formatNumber(%p) is %p', (value, text) => {
    expect(formatNumber(value)).toBe(text)
  })

  it('formats dates in UTC to the minute, and leaves what is not a date alone', () => {
    expect(formatDate('2025-11-29T19:47:31.123Z')).toBe('2025-11-29 19:47')
    expect(formatDate('yesterday')).toBe('yesterday')
    expect(formatDate(null)).toBe('-')
  })

  it('formats settings', () => {
    expect(formatSetting([64, 32])).toBe('[64,32]')
    expect(formatSetting('RELU')).toBe('RELU')
    expect(formatSetting(0.01)).toBe('0.01')
    expect(formatSetting(undefined)).toBe('-')
  })
})
