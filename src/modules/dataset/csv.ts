import { badInput } from '../../errors'
import {
  checkFactorNames,
  checkFeatureNames,
  checkImageShape,
  checkName,
  checkSize,
  checkTargetPresence,
  checkTargets,
  DatasetContent,
  DatasetLimits,
  pixelProblem,
  valueProblem,
} from './dataset.content'
import { Task } from './dataset.enums'

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/** Where a CSV column goes. */
type Role = 'feature' | 'target' | 'factor'

/**
 * Parses a numeric CSV (header line first, RFC 4180 quoting allowed) into dataset content: the target
 * column (none for UNSUPERVISED) and the factor columns are put aside, every other column is a feature.
 * Errors name the line (1 = header) and column (1-based, with its header name) of the bad cell.
 * Rows are counted and the size checked before the large arrays are allocated.
 */
export function parseCsvDataset(input: {
  task: Task
  csv: string
  targetColumn?: string | null | undefined
  factorColumns?: readonly string[] | null | undefined
  imageShape?: readonly number[] | null | undefined
  limits: DatasetLimits
}): DatasetContent {
  const targetColumn = input.targetColumn ?? null
  checkTargetPresence(
    input.task,
    { targetName: false, targets: targetColumn !== null },
    { targetName: 'targetColumn', targets: 'targetColumn' },
  )
  const lines = splitLines(input.csv)
  const headerLine = lines[0]
  if (headerLine === undefined) throw badInput('csv is empty', { field: 'csv' })
  const header = splitCells(headerLine.text, headerLine.number).map((h) => h.trim())
  const columnIndex = (name: string, field: string): number => {
    const index = header.indexOf(name)
    if (index < 0) {
      throw badInput(`${field} "${name}" is not a column of the csv (columns: ${header.join(', ')})`, {
        field,
      })
    }
    return index
  }
  const roles: Role[] = header.map(() => 'feature')
  const targetName = targetColumn === null ? null : checkName(targetColumn, 'targetColumn')
  if (targetName !== null) roles[columnIndex(targetName, 'targetColumn')] = 'target'
  const factorRequested = (input.factorColumns ?? []).map((c) => checkName(c, 'factorColumns'))
  for (const name of factorRequested) {
    const index = columnIndex(name, 'factorColumns')
    if (roles[index] === 'target') {
      throw badInput(`the factor "${name}" is also the target`, { field: 'factorColumns' })
    }
    roles[index] = 'factor'
  }
  const featureNames = checkFeatureNames(
    header.filter((_, i) => roles[i] === 'feature'),
    targetName,
  )
  const factorNames = checkFactorNames(factorRequested, featureNames, targetName, 'factorColumns')
  // Factors are stored in the order the client named them, not in column order.
  const factorSlot = header.map((name, i) => (roles[i] === 'factor' ? factorNames.indexOf(name) : -1))
  const m = featureNames.length
  const k = factorNames.length
  const n = lines.length - 1
  if (n === 0) throw badInput('csv has a header but no data rows', { field: 'csv' })
  checkSize(n, m, input.limits, k)
  const imageShape = checkImageShape(input.imageShape, m, 'imageShape')

  const features = new Float64Array(n * m)
  const targets = new Float64Array(targetName === null ? 0 : n)
  const factors = new Float64Array(n * k)
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
      const role = roles[c]!
      const problem = valueProblem(value) ?? (imageShape && role === 'feature' ? pixelProblem(value) : null)
      if (problem) {
        throw badInput(
          `line ${number}, column ${c + 1} ("${header[c]}"): ${JSON.stringify(cell)} ${problem}`,
          {
            field: 'csv',
            line: number,
            column: c + 1,
          },
        )
      }
      if (role === 'target') targets[r] = value
      else if (role === 'factor') factors[r * k + factorSlot[c]!] = value
      else features[r * m + j++] = value
    }
  }
  checkTargets(input.task, targets)
  return {
    task: input.task,
    featureNames,
    targetName,
    rowCount: n,
    features,
    targets,
    factorNames,
    factors,
    imageShape,
  }
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
