import { badInput } from '../../errors'
import {
  checkFeatureNames,
  checkName,
  checkSize,
  checkTargets,
  DatasetContent,
  DatasetLimits,
} from './dataset.content'
import { Task } from './dataset.enums'

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * Parses a numeric CSV (header line first, RFC 4180 quoting allowed) into dataset content.
 * Errors name the line (1 = header) and column (1-based, with its header name) of the bad cell.
 * Rows are counted and the size checked before the large arrays are allocated.
 */
export function parseCsvDataset(input: {
  task: Task
  csv: string
  targetColumn: string
  limits: DatasetLimits
}): DatasetContent {
  const lines = splitLines(input.csv)
  const headerLine = lines[0]
  if (headerLine === undefined) throw badInput('csv is empty', { field: 'csv' })
  const header = splitCells(headerLine.text, headerLine.number).map((h) => h.trim())
  const targetName = checkName(input.targetColumn, 'targetColumn')
  const targetIndex = header.indexOf(targetName)
  if (targetIndex < 0) {
    throw badInput(
      `targetColumn "${targetName}" is not a column of the csv (columns: ${header.join(', ')})`,
      {
        field: 'targetColumn',
      },
    )
  }
  const featureNames = checkFeatureNames(
    header.filter((_, i) => i !== targetIndex),
    targetName,
  )
  const m = featureNames.length
  const n = lines.length - 1
  if (n === 0) throw badInput('csv has a header but no data rows', { field: 'csv' })
  checkSize(n, m, input.limits)

  const features = new Float64Array(n * m)
  const targets = new Float64Array(n)
  for (let r = 0; r < n; r++) {
    const { text, number } = lines[r + 1]!
    const cells = splitCells(text, number)
    if (cells.length !== header.length) {
      throw badInput(`line ${number} has ${cells.length} columns, the header has ${header.length}`, {
        field: 'csv',
        line: number,
      })
    }
    let j = 0
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c]!.trim()
      const value = NUMBER.test(cell) ? Number(cell) : NaN
      if (!Number.isFinite(value)) {
        throw badInput(
          `line ${number}, column ${c + 1} ("${header[c]}"): ${JSON.stringify(cell)} is not a finite number`,
          { field: 'csv', line: number, column: c + 1 },
        )
      }
      if (c === targetIndex) targets[r] = value
      else features[r * m + j++] = value
    }
  }
  checkTargets(input.task, targets)
  return { task: input.task, featureNames, targetName, rowCount: n, features, targets }
}

interface Line {
  text: string
  /** 1-based line number in the original text. */
  number: number
}

/** Splits on LF or CRLF, dropping blank lines (a trailing newline is common). */
function splitLines(csv: string): Line[] {
  const out: Line[] = []
  let start = 0
  let number = 1
  while (start <= csv.length) {
    let end = csv.indexOf('\n', start)
    if (end < 0) end = csv.length
    let text = csv.slice(start, end)
    if (text.endsWith('\r')) text = text.slice(0, -1)
    if (text.trim().length > 0) out.push({ text, number })
    start = end + 1
    number++
  }
  return out
}

function splitCells(line: string, lineNumber: number): string[] {
  if (!line.includes('"')) return line.split(',')
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      cells.push(cell)
      cell = ''
    } else cell += ch
  }
  if (quoted) throw badInput(`line ${lineNumber} has an unclosed quote`, { field: 'csv', line: lineNumber })
  cells.push(cell)
  return cells
}
