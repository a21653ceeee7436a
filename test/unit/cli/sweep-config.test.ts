import {
  formatIssue,
  gridSize,
  metricValue,
  parseSweepConfig,
  SweepConfigError,
  toCamelCase,
  toSnakeCase,
  toSweepInput,
} from '../../../src/cli/sweep-config'
import { ExitCode } from '../../../src/cli/errors'

/** The issues of a file that must not parse, as `line:column: path: message` lines. */
function issuesOf(yaml: string): string[] {
  try {
    parseSweepConfig(yaml, 'f.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(SweepConfigError)
    return (err as SweepConfigError).issues.map((i) => formatIssue('f.yaml', i).replace(/^f\.yaml:?\s?/, ''))
  }
  throw new Error('expected the file to be refused')
}

const y = (lines: string[]) => lines.join('\n') + '\n'

describe('parseSweepConfig: W&B-style files', () => {
  it('converts a grid file with snake_case keys, fixed values and a base', () => {
    const config = parseSweepConfig(
      y([
        'program: train.py # W&B keys that mean nothing here are ignored',
        'name: lr-grid',
        'method: grid',
        'metric:',
        '  name: val_loss',
        '  goal: minimize',
        'max_concurrent: 2',
        'dataset: 0b7a8d7e-0000-4000-8000-000000000001',
        'experiment: lr-grid',
        'parameters:',
        '  learning_rate:',
        '    values: [0.01, 0.001]',
        '  hidden_layers:',
        '    values: [[64, 32], [32], 16]',
        '  activation:',
        '    values: [relu, Tanh]',
        '  epochs:',
        '    value: 5',
        'base:',
        '  batch_size: 16',
        '  optimizer: adam',
        '  validation_split: 0.25',
        '  explain: []',
        '  tags: [sweep]',
      ]),
      'grid.yaml',
    )
    expect(config).toEqual({
      method: 'GRID',
      metric: 'valLoss',
      goal: 'MINIMIZE',
      maxConcurrent: 2,
      datasetId: '0b7a8d7e-0000-4000-8000-000000000001',
      experiment: 'lr-grid',
      parameters: [
        { name: 'learningRate', values: [0.01, 0.001] },
        // A bare number is one hidden layer of that size.
        { name: 'hiddenLayers', values: [[64, 32], [32], [16]] },
        { name: 'activation', values: ['RELU', 'TANH'] },
      ],
      base: {
        batchSize: 16,
        optimizer: 'ADAM',
        validationSplit: 0.25,
        explain: [],
        tags: ['sweep'],
        epochs: 5,
      },
    })
    expect(gridSize(config.parameters)).toBe(12)
    const input = toSweepInput(config, 'grid.yaml')
    expect(input).toEqual({
      experiment: 'lr-grid',
      datasetId: '0b7a8d7e-0000-4000-8000-000000000001',
      method: 'GRID',
      metric: 'valLoss',
      goal: 'MINIMIZE',
      maxConcurrent: 2,
      parameters: config.parameters,
      // base carries the sweep's dataset because StartRunInput requires one.
      base: { datasetId: '0b7a8d7e-0000-4000-8000-000000000001', ...config.base },
    })
  })

  it('converts a random file with ranges, log_uniform_values, int ranges, a seed and median stopping', () => {
    const config = parseSweepConfig(
      y([
        'method: random',
        'metric: { name: val_loss, goal: minimize }',
        'run_cap: 20',
        'seed: 42',
        'parameters:',
        '  learning_rate: { min: 0.0001, max: 0.1, distribution: log_uniform_values }',
        '  batch_size: { min: 8, max: 128 }',
        '  validation_split: { min: 0.1, max: 0.3 }',
        '  epochs: { min: 5, max: 50, distribution: int_uniform }',
        '  optimizer: { values: [adam, sgd, rmsprop] }',
        'early_terminate:',
        '  type: median_stop',
        '  min_epochs: 3',
      ]),
      'random.yaml',
    )
    expect(config).toMatchObject({
      method: 'RANDOM',
      metric: 'valLoss',
      runCap: 20,
      seed: 42,
      earlyTerminate: { type: 'MEDIAN_STOP', minEpochs: 3 },
      parameters: [
        { name: 'learningRate', min: 0.0001, max: 0.1, distribution: 'LOG_UNIFORM' },
        // W&B infers int_uniform for integer parameters, uniform for the rest.
        { name: 'batchSize', min: 8, max: 128, distribution: 'INT_UNIFORM' },
        { name: 'validationSplit', min: 0.1, max: 0.3, distribution: 'UNIFORM' },
        { name: 'epochs', min: 5, max: 50, distribution: 'INT_UNIFORM' },
        { name: 'optimizer', values: ['ADAM', 'SGD', 'RMSPROP'] },
      ],
      base: {},
    })
    expect(gridSize(config.parameters)).toBeUndefined()
    // No base settings: no base sent.
    expect(toSweepInput(config, 'random.yaml', { dataset: 'd', experiment: 'e' })).not.toHaveProperty('base')
  })

  it('accepts camelCase keys and maximize goals', () => {
    const config = parseSweepConfig(
      y([
        'method: RANDOM',
        'metric: { name: valAccuracy, goal: MAXIMIZE }',
        'runCap: 4',
        'maxConcurrent: 1',
        'parameters:',
        '  learningRate: { min: 0.001, max: 0.01, distribution: log_uniform }',
        '  hiddenLayers: { values: [[8], [8, 8]] }',
        'earlyTerminate: { type: MEDIAN_STOP }',
      ]),
      'camel.yaml',
    )
    expect(config).toMatchObject({
      method: 'RANDOM',
      metric: 'valAccuracy',
      goal: 'MAXIMIZE',
      runCap: 4,
      maxConcurrent: 1,
      earlyTerminate: { type: 'MEDIAN_STOP' },
    })
  })

  it('leaves run_cap to the server when not given, for random search too', () => {
    const config = parseSweepConfig(
      y(['method: random', 'metric: {name: loss}', 'parameters:', '  learning_rate: {min: 0.001, max: 0.1}']),
      'r.yaml',
    )
    expect(config).not.toHaveProperty('runCap')
    expect(config.parameters).toEqual([
      { name: 'learningRate', min: 0.001, max: 0.1, distribution: 'UNIFORM' },
    ])
  })

  it('lets --dataset and --experiment override the file, and requires both from somewhere', () => {
    const config = parseSweepConfig(
      y([
        'method: grid',
        'metric: {name: loss}',
        'dataset: from-file',
        'parameters:',
        '  seed: {values: [1, 2]}',
      ]),
      's.yaml',
    )
    expect(toSweepInput(config, 's.yaml', { dataset: 'from-flag', experiment: 'x' })).toMatchObject({
      datasetId: 'from-flag',
      experiment: 'x',
      goal: 'MINIMIZE',
    })
    expect(() => toSweepInput(config, 's.yaml')).toThrow(/^s\.yaml: experiment: no experiment/)
    const noDataset = parseSweepConfig(
      y(['method: grid', 'metric: {name: loss}', 'parameters:', '  seed: {values: [1]}']),
      's.yaml',
    )
    expect(() => toSweepInput(noDataset, 's.yaml', { experiment: 'x' })).toThrow(/no dataset.*--dataset ID/)
  })
})

describe('parseSweepConfig: refused files, with line and column', () => {
  it('reports YAML syntax errors where YAML finds them', () => {
    const issues = issuesOf(
      y(['method: grid', 'parameters:', '  learning_rate: {values: [0.1, 0.2]', 'x: 1']),
    )
    expect(issues[0]).toMatch(/^\d+:\d+: /)
    expect(issues.join('\n')).toMatch(/flow/i)
  })

  it('reports duplicate keys', () => {
    expect(issuesOf(y(['method: grid', 'method: random'])).join('\n')).toMatch(/^2:1: .*unique/m)
  })

  it('refuses an empty file and a file that is not a map', () => {
    expect(issuesOf('')).toEqual(['the file is empty'])
    expect(issuesOf('- a\n- b\n')[0]).toMatch(/is a YAML map/)
  })

  it('lists every problem, each at its line, in file order', () => {
    const issues = issuesOf(
      y([
        'method: bayes', // 1
        'metric:', // 2
        '  name: val_los', // 3
        '  goal: minimise', // 4
        'run_cap: 0', // 5
        'parameters:', // 6
        '  learning_rate:', // 7
        '    values: [0.1, -1]', // 8
        '  hidden_layer:', // 9
        '    values: [[4]]', // 10
        '  batch_size:', // 11
        '    values: [16, 3.5]', // 12
        '  activation: relu', // 13
        'early_terminate: {type: hyperband, min_iter: 3}', // 14
        'colour: blue', // 15
      ]),
    )
    expect(issues).toEqual([
      '1:1: method: bayes is not supported: use grid or random',
      expect.stringMatching(/^3:3: metric\.name: unknown metric val_los \(did you mean val_loss\?\)/),
      '4:3: metric.goal: must be minimize or maximize',
      '5:1: run_cap: must be at least 1',
      '8:19: parameters.learning_rate.values[1]: must be greater than 0',
      expect.stringMatching(
        /^9:3: parameters\.hidden_layer: unknown parameter hidden_layer \(did you mean hidden_layers\?\)/,
      ),
      '12:18: parameters.batch_size.values[1]: must be an integer',
      expect.stringMatching(/^13:3: parameters\.activation: must be a map with value, values or min\/max/),
      '14:19: early_terminate.type: only median_stop is supported, not hyperband',
      '14:36: early_terminate.min_iter: unknown key min_iter (early_terminate has type and min_epochs)',
      expect.stringMatching(/^15:1: colour: unknown key colour/),
    ])
  })

  it.each([
    [
      'a range in a grid',
      ['method: grid', 'metric: {name: loss}', 'parameters:', '  learning_rate: {min: 0.001, max: 0.1}'],
      /4:19: parameters\.learning_rate\.min: grid search needs a list of values/,
    ],
    [
      "W&B's log_uniform exponents",
      [
        'method: random',
        'run_cap: 3',
        'metric: {name: loss}',
        'parameters:',
        '  learning_rate: {min: -9.2, max: -2.3, distribution: log_uniform}',
      ],
      /5:19: parameters\.learning_rate\.min: log_uniform bounds are values, not exponents/,
    ],
    [
      'min above max',
      [
        'method: random',
        'run_cap: 3',
        'metric: {name: loss}',
        'parameters:',
        '  learning_rate: {min: 0.1, max: 0.01}',
      ],
      /min \(0\.1\) is above max \(0\.01\)/,
    ],
    [
      'a range for a list-valued parameter',
      [
        'method: random',
        'run_cap: 3',
        'metric: {name: loss}',
        'parameters:',
        '  hidden_layers: {min: 1, max: 3}',
      ],
      /hidden_layers takes value or values, not a min\/max range/,
    ],
    [
      'a continuous distribution for an integer',
      [
        'method: random',
        'run_cap: 3',
        'metric: {name: loss}',
        'parameters:',
        '  batch_size: {min: 8, max: 64, distribution: uniform}',
      ],
      /batch_size is an integer: use int_uniform/,
    ],
    [
      'an unsupported W&B distribution',
      [
        'method: random',
        'run_cap: 3',
        'metric: {name: loss}',
        'parameters:',
        '  learning_rate: {min: 0.1, max: 1, distribution: q_log_uniform_values}',
      ],
      /distribution q_log_uniform_values is not supported/,
    ],
    [
      'value and values together',
      ['method: grid', 'metric: {name: loss}', 'parameters:', '  seed: {value: 1, values: [1, 2]}'],
      /4:3: parameters\.seed: give only one of value, values, or min\/max/,
    ],
    [
      'an empty values list',
      ['method: grid', 'metric: {name: loss}', 'parameters:', '  seed: {values: []}'],
      /must be a non-empty list/,
    ],
    [
      'an unknown activation',
      ['method: grid', 'metric: {name: loss}', 'parameters:', '  activation: {values: [relu, gelu]}'],
      /activation\.values\[1\]: must be one of elu, relu, sigmoid, tanh/,
    ],
    [
      'validation_split out of range',
      ['method: grid', 'metric: {name: loss}', 'parameters:', '  validation_split: {values: [0.2, 0.9]}'],
      /must be less than 0\.9/,
    ],
    [
      'only fixed values',
      ['method: grid', 'metric: {name: loss}', 'parameters:', '  epochs: {value: 3}'],
      /3:1: parameters: nothing to sweep/,
    ],
    [
      'a parameter both swept and in base',
      [
        'method: grid',
        'metric: {name: loss}',
        'base: {epochs: 3}',
        'parameters:',
        '  epochs: {values: [3, 4]}',
      ],
      /5:3: parameters\.epochs: epochs is swept here and also set in base/,
    ],
    [
      'dataset inside base',
      [
        'method: grid',
        'metric: {name: loss}',
        'base: {dataset_id: x}',
        'parameters:',
        '  seed: {values: [1]}',
      ],
      /base\.dataset_id: set dataset at the top level/,
    ],
    [
      'two spellings of one key',
      [
        'method: grid',
        'metric: {name: loss}',
        'run_cap: 2',
        'runCap: 3',
        'parameters:',
        '  seed: {values: [1]}',
      ],
      /4:1: runCap: runCap is also given as run_cap/,
    ],
    ['a missing metric', ['method: grid', 'parameters:', '  seed: {values: [1]}'], /metric is missing/],
    [
      'a missing method',
      ['metric: {name: loss}', 'parameters:', '  seed: {values: [1]}'],
      /method is missing/,
    ],
  ])('refuses %s', (_label, lines, message) => {
    expect(issuesOf(y(lines)).join('\n')).toMatch(message)
  })

  it('is a usage error: exit code 2, every issue in the message', () => {
    try {
      parseSweepConfig('method: grid\n', 'sweep.yaml')
      throw new Error('expected a SweepConfigError')
    } catch (err) {
      expect(err).toBeInstanceOf(SweepConfigError)
      expect((err as SweepConfigError).exitCode).toBe(ExitCode.USAGE)
      expect((err as SweepConfigError).message).toMatch(
        /^sweep\.yaml: metric is missing.*\nsweep\.yaml: parameters is missing/,
      )
    }
  })
})

describe('helpers', () => {
  it('converts key spellings', () => {
    expect(toCamelCase('learning_rate')).toBe('learningRate')
    expect(toCamelCase('validation-split')).toBe('validationSplit')
    expect(toCamelCase('hiddenLayers')).toBe('hiddenLayers')
    expect(toSnakeCase('finalValLoss')).toBe('final_val_loss')
  })

  it('reads a run’s metric value from its summary', () => {
    const summary = {
      finalLoss: 1,
      finalValLoss: 2,
      bestValLoss: 1.5,
      finalAccuracy: null,
      finalValAccuracy: 0.9,
    }
    expect(metricValue(summary, 'valLoss')).toBe(2)
    expect(metricValue(summary, 'val_loss')).toBe(2)
    expect(metricValue(summary, 'loss')).toBe(1)
    // Only EpochMetric fields rank a sweep.
    expect(metricValue(summary, 'bestValLoss')).toBeNull()
    expect(metricValue(summary, 'accuracy')).toBeNull()
    expect(metricValue(summary, 'val_accuracy')).toBe(0.9)
    expect(metricValue(summary, 'perplexity')).toBeNull()
  })
})
