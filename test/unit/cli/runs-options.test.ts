import { parseTask } from '../../../src/cli/commands/datasets'
import { parseLimit, parseSort, parseStatuses, runsTable } from '../../../src/cli/commands/runs'
import { rankRuns, sweepTable } from '../../../src/cli/commands/sweep'
import { exitCodeFor } from '../../../src/cli/commands/watch'
import type { RunView } from '../../../src/cli/api'
import { UsageError } from '../../../src/cli/errors'

describe('lab runs options', () => {
  it('parses --status lists in any case', () => {
    expect(parseStatuses('running,FAILED, succeeded')).toEqual(['RUNNING', 'FAILED', 'SUCCEEDED'])
    expect(parseStatuses('failed,failed')).toEqual(['FAILED'])
    expect(() => parseStatuses('done')).toThrow(/unknown status done \(one of: queued, running/)
    expect(() => parseStatuses(',')).toThrow(UsageError)
  })

  it.each([
    ['created', { field: 'CREATED_AT', direction: 'DESC' }],
    ['created_at:asc', { field: 'CREATED_AT', direction: 'ASC' }],
    ['final_val_loss', { field: 'FINAL_VAL_LOSS', direction: 'ASC' }],
    ['finalValLoss:desc', { field: 'FINAL_VAL_LOSS', direction: 'DESC' }],
    ['BEST_VAL_LOSS:DESC', { field: 'BEST_VAL_LOSS', direction: 'DESC' }],
    ['learning-rate', { field: 'LEARNING_RATE', direction: 'ASC' }],
  ])('parses --sort %s', (value, order) => {
    expect(parseSort(value)).toEqual(order)
  })

  it.each(['loss', 'final_loss:up', 'name:asc:desc', ''])('refuses --sort %p', (value) => {
    expect(() => parseSort(value)).toThrow(UsageError)
  })

  it('parses --limit and --task', () => {
    expect(parseLimit('250')).toBe(250)
    expect(() => parseLimit('0')).toThrow(/positive integer/)
    expect(() => parseLimit('2.5')).toThrow(UsageError)
    expect(parseTask('binary_classification')).toBe('BINARY_CLASSIFICATION')
    expect(parseTask('Regression')).toBe('REGRESSION')
    expect(parseTask('unsupervised')).toBe('UNSUPERVISED')
    expect(() => parseTask('clustering')).toThrow(/regression, binary_classification or unsupervised/)
  })
})

function run(name: string, values: Partial<RunView['summary']>, extra: Partial<RunView> = {}): RunView {
  return {
    id: `id-${name}`,
    name,
    status: 'SUCCEEDED',
    error: null,
    epochs: 2,
    lastEpoch: 2,
    createdAt: '2025-11-29T19:47:00.000Z',
    experiment: { name: 'exp' },
    tags: [],
    learningRate: 0.01,
    batchSize: 16,
    hiddenLayers: [4],
    activation: 'RELU',
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 1,
    summary: {
      finalLoss: null,
      finalValLoss: null,
      bestValLoss: null,
      bestEpoch: null,
      finalAccuracy: null,
      finalValAccuracy: null,
      ...values,
    },
    ...extra,
  }
}

describe('tables', () => {
  it('shows a run per line with epochs done and final losses', () => {
    const text = runsTable([
      run('r1', { finalLoss: 0.5, finalValLoss: 0.75 }, { lastEpoch: 1, status: 'RUNNING' }),
    ])
    const [header, line] = text.split('\n')
    expect(header).toMatch(/^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+EPOCHS\s+LOSS\s+VAL LOSS\s+CREATED$/)
    expect(line).toMatch(/^id-r1\s+r1\s+exp\s+RUNNING\s+1\/2\s+0\.5\s+0\.75\s+2025-11-29 19:47$/)
  })

  it('ranks sweep runs best first by the goal, runs without a value last', () => {
    const runs = [
      run('mid', { finalValLoss: 0.5 }),
      run('none', {}, { status: 'FAILED' }),
      run('best', { finalValLoss: 0.1 }),
      run('worst', { finalValLoss: 0.9 }),
    ]
    expect(rankRuns(runs, 'valLoss', 'MINIMIZE').map((r) => r.name)).toEqual(['best', 'mid', 'worst', 'none'])
    expect(rankRuns(runs, 'valLoss', 'MAXIMIZE').map((r) => r.name)).toEqual(['worst', 'mid', 'best', 'none'])
    const table = sweepTable(
      rankRuns(runs, 'valLoss', 'MINIMIZE'),
      ['learningRate', 'hiddenLayers'],
      'valLoss',
    )
    expect(table.split('\n')[0]).toMatch(/^RUN\s+STATUS\s+learningRate\s+hiddenLayers\s+valLoss$/)
    expect(table.split('\n')[1]).toMatch(/^best\s+SUCCEEDED\s+0\.01\s+\[4\]\s+0\.1$/)
    expect(table.split('\n')[4]).toMatch(/^none\s+FAILED\s+0\.01\s+\[4\]\s+-$/)
  })

  it('maps final run statuses to exit codes', () => {
    expect(exitCodeFor('SUCCEEDED')).toBe(0)
    expect(exitCodeFor('FAILED')).toBe(1)
    expect(exitCodeFor('CANCELLED')).toBe(3)
  })
})
