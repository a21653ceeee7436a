import { parseTask } from '../../../src/cli/commands/datasets'
import { parseLimit, parseSort, parseStatuses, runsTable } from '../../../src/cli/commands/runs'
import { rankRuns, sweepTable } from '../../../src/cli/commands/sweep'
import { epochLine, exitCodeFor } from '../../../src/cli/commands/watch'
import type { MetricValue, RunView } from '../../../src/cli/api'
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
    family: 'MLP',
    learningRate: 0.01,
    batchSize: 16,
    hiddenLayers: [4],
    activation: 'RELU',
    optimizer: 'ADAM',
    validationSplit: 0.2,
    seed: 1,
    latentDim: null,
    beta: null,
    likelihood: null,
    summary: {
      metrics: [],
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
    expect(header).toMatch(/^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+EPOCHS\s+LOSS\s+VAL LOSS\s+CREATED\s+FAMILY$/)
    expect(line).toMatch(/^id-r1\s+r1\s+exp\s+RUNNING\s+1\/2\s+0\.5\s+0\.75\s+2025-11-29 19:47\s+MLP$/)
  })

  it('adds FAMILY last, so the columns before it stay where they were', () => {
    const mlp = run('mlp', { finalLoss: 0.5, finalValLoss: 0.75 })
    const vae = run('vae', { finalLoss: 12.5, finalValLoss: 13 }, { family: 'VAE', latentDim: 2, beta: 1 })
    const lines = runsTable([mlp, vae]).split('\n')
    expect(lines[1]).toMatch(/\s0\.75\s+2025-11-29 19:47\s+MLP$/)
    expect(lines[2]).toMatch(/^id-vae\s+vae\s+exp\s+SUCCEEDED\s+2\/2\s+12\.5\s+13\s+2025-11-29 19:47\s+VAE$/)
    // Column positions do not depend on the family.
    expect(lines[1]!.indexOf('2025')).toBe(lines[2]!.indexOf('2025'))
  })

  it('ranks by a named metric from summary.metrics, e.g. a VAE’s val reconstruction or kl_0', () => {
    const metrics = (values: Record<string, number>): MetricValue[] =>
      Object.entries(values).map(([name, value]) => ({ name, value }))
    const vae = (name: string, values: Record<string, number>, latentDim: number) =>
      // finalValLoss disagrees on purpose: only the named values may decide.
      run(name, { metrics: metrics(values), finalValLoss: -latentDim }, { family: 'VAE', latentDim })
    const runs = [
      vae('z1', { valLoss: 5, valReconstruction: 4.5, kl_0: 0.5 }, 1),
      vae('z2', { valLoss: 4, valReconstruction: 3, kl_0: 0.25, kl_1: 0.75 }, 2),
      run('failed', {}, { status: 'FAILED', family: 'VAE' }),
    ]
    expect(rankRuns(runs, 'valReconstruction', 'MINIMIZE').map((r) => [r.name, r.metricValue])).toEqual([
      ['z2', 3],
      ['z1', 4.5],
      ['failed', null],
    ])
    expect(rankRuns(runs, 'kl_0', 'MAXIMIZE').map((r) => r.name)).toEqual(['z1', 'z2', 'failed'])
    expect(rankRuns(runs, 'kl_1', 'MINIMIZE').map((r) => r.metricValue)).toEqual([0.75, null, null])
    const table = sweepTable(
      rankRuns(runs, 'valReconstruction', 'MINIMIZE'),
      ['latentDim'],
      'valReconstruction',
    )
    expect(table.split('\n')[0]).toMatch(/^RUN\s+STATUS\s+latentDim\s+valReconstruction$/)
    expect(table.split('\n')[1]).toMatch(/^z2\s+SUCCEEDED\s+2\s+3$/)
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

  it('prints every named metric of an epoch in lab watch lines, snake_case', () => {
    const epoch = { epoch: 3, loss: 1.2, valLoss: 1.5, accuracy: null, valAccuracy: null }
    expect(
      epochLine(
        {
          ...epoch,
          values: [
            { name: 'loss', value: 1.2 },
            { name: 'reconstruction', value: 0.9 },
            { name: 'kl', value: 0.3 },
            { name: 'valLoss', value: 1.5 },
            { name: 'valReconstruction', value: 1.25 },
            { name: 'valKl', value: 0.25 },
            { name: 'kl_0', value: 0.2 },
            { name: 'kl_1', value: 0.1 },
          ],
        },
        20,
      ),
    ).toBe(
      'epoch 3/20 loss 1.2 reconstruction 0.9 kl 0.3 val_loss 1.5 val_reconstruction 1.25 val_kl 0.25 kl_0 0.2 kl_1 0.1',
    )
    // An MLP's regression epoch reads as it always did; without named values, loss and val loss.
    const mlp = [
      { name: 'loss', value: 1.2 },
      { name: 'valLoss', value: 1.5 },
    ]
    expect(epochLine({ ...epoch, values: mlp }, 20)).toBe('epoch 3/20 loss 1.2 val_loss 1.5')
    expect(epochLine({ ...epoch, values: [] }, 20)).toBe('epoch 3/20 loss 1.2 val_loss 1.5')
    expect(epochLine({ ...epoch, valLoss: null, values: [] }, 20)).toBe('epoch 3/20 loss 1.2')
  })

  it('maps final run statuses to exit codes', () => {
    expect(exitCodeFor('SUCCEEDED')).toBe(0)
    expect(exitCodeFor('FAILED')).toBe(1)
    expect(exitCodeFor('CANCELLED')).toBe(3)
  })
})
