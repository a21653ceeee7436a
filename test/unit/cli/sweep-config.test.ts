import {
  formatIssue,
  gridSize,
  metricName,
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

describe('parseSweepConfig: VAE sweeps', () => {
  const vae = (parameters: string[], extra: string[] = [], metric = 'val_reconstruction') =>
    y([
      'method: grid',
      `metric: {name: ${metric}, goal: minimize}`,
      'parameters:',
      ...parameters,
      'base:',
      '  family: vae',
      ...extra,
    ])

  it('sweeps latent_dim, beta and likelihood of a VAE base, ranked by a named metric', () => {
    const config = parseSweepConfig(
      y([
        'method: grid',
        'metric: {name: val_reconstruction, goal: minimize}',
        'parameters:',
        '  latent_dim: {values: [1, 2, 64]}',
        '  beta: {values: [0.5, 4]}',
        '  likelihood: {values: [Gaussian, BERNOULLI]}',
        'base:',
        '  family: VAE',
        '  hidden_layers: [16]',
        '  explain: [latent_traversal, ACTIVE_UNITS, sample-fidelity, disentanglement]',
      ]),
      'vae.yaml',
    )
    expect(config).toMatchObject({
      metric: 'valReconstruction',
      parameters: [
        { name: 'latentDim', values: [1, 2, 64] },
        { name: 'beta', values: [0.5, 4] },
        { name: 'likelihood', values: ['GAUSSIAN', 'BERNOULLI'] },
      ],
      base: {
        family: 'VAE',
        hiddenLayers: [16],
        explain: ['LATENT_TRAVERSAL', 'ACTIVE_UNITS', 'SAMPLE_FIDELITY', 'DISENTANGLEMENT'],
      },
    })
    expect(gridSize(config.parameters)).toBe(12)
    expect(toSweepInput(config, 'vae.yaml', { dataset: 'd', experiment: 'e' })).toMatchObject({
      metric: 'valReconstruction',
      base: { datasetId: 'd', family: 'VAE', hiddenLayers: [16] },
    })
  })

  it('takes the VAE settings fixed or in base, and ranges for latent_dim and beta', () => {
    const config = parseSweepConfig(
      y([
        'method: random',
        'run_cap: 4',
        'metric: {name: valKl}',
        'parameters:',
        '  latentDim: {min: 2, max: 8}',
        '  beta: {min: 0.1, max: 10, distribution: log_uniform_values}',
        '  likelihood: {value: gaussian}',
        'base: {family: vae}',
      ]),
      'r.yaml',
    )
    expect(config).toMatchObject({
      metric: 'valKl',
      parameters: [
        { name: 'latentDim', min: 2, max: 8, distribution: 'INT_UNIFORM' },
        { name: 'beta', min: 0.1, max: 10, distribution: 'LOG_UNIFORM' },
      ],
      base: { family: 'VAE', likelihood: 'GAUSSIAN' },
    })
    expect(
      parseSweepConfig(vae(['  learning_rate: {values: [0.01]}'], ['  latent_dim: 3', '  beta: 2']), 'b.yaml')
        .base,
    ).toEqual({ family: 'VAE', latentDim: 3, beta: 2 })
    // family: mlp is the default, said out loud.
    expect(
      parseSweepConfig(
        y([
          'method: grid',
          'metric: {name: loss}',
          'parameters:',
          '  seed: {values: [1]}',
          'base: {family: mlp}',
        ]),
        'm.yaml',
      ).base,
    ).toEqual({ family: 'MLP' })
  })

  it.each([
    ['latent_dim 0', ['  latent_dim: {values: [0, 2]}'], /latent_dim\.values\[0\]: must be at least 1/],
    ['latent_dim 65', ['  latent_dim: {values: [65]}'], /latent_dim\.values\[0\]: must be at most 64/],
    ['a fractional latent_dim', ['  latent_dim: {values: [1.5]}'], /must be an integer/],
    ['beta 0', ['  beta: {values: [0, 1]}'], /beta\.values\[0\]: must be greater than 0/],
    [
      'an unknown likelihood',
      ['  likelihood: {values: [poisson]}'],
      /likelihood\.values\[0\]: must be one of gaussian, bernoulli/,
    ],
    [
      'a range of likelihoods',
      ['  likelihood: {min: 0, max: 1}'],
      /parameters\.likelihood\.min: likelihood takes value or values, not a min\/max range/,
    ],
  ])('refuses %s', (_label, parameters, message) => {
    expect(issuesOf(vae(parameters)).join('\n')).toMatch(message)
  })

  it('keeps family in base: sweeping it is refused, saying where it goes', () => {
    const issues = issuesOf(
      y([
        'method: grid',
        'metric: {name: loss}',
        'parameters:',
        '  family: {values: [mlp, vae]}',
        '  learning_rate: {values: [0.1]}',
      ]),
    )
    expect(issues).toEqual([
      '4:3: parameters.family: family cannot be swept: every run of a sweep is of one family; set it in base (base: { family: vae })',
    ])
    expect(issuesOf(vae(['  seed: {values: [1]}']).replace('family: vae', 'family: gan'))).toEqual([
      '6:3: base.family: must be one of mlp, vae, sequence',
    ])
  })

  it('refuses VAE settings for an MLP, in base or swept', () => {
    const issues = issuesOf(
      y([
        'method: grid',
        'metric: {name: loss}',
        'parameters:',
        '  beta: {values: [0.5, 1]}',
        'base:',
        '  latent_dim: 2',
      ]),
    )
    expect(issues).toEqual([
      '4:3: parameters.beta: beta applies to VAE runs, not MLP: set family: vae in base',
      '6:3: base.latent_dim: latent_dim applies to VAE runs, not MLP: set family: vae in base',
    ])
  })

  it('ranks by any named metric, in snake or camel case, kl_N included', () => {
    const metricOf = (name: string) =>
      parseSweepConfig(vae(['  latent_dim: {values: [2, 3]}'], [], name), 'f.yaml').metric
    expect(metricOf('val_reconstruction')).toBe('valReconstruction')
    expect(metricOf('valReconstruction')).toBe('valReconstruction')
    expect(metricOf('reconstruction')).toBe('reconstruction')
    expect(metricOf('kl')).toBe('kl')
    expect(metricOf('val_kl')).toBe('valKl')
    expect(metricOf('kl_0')).toBe('kl_0')
    expect(metricOf('kl1')).toBe('kl_1')
    expect(metricOf('val_loss')).toBe('valLoss')
    expect(metricName('val_accuracy')).toBe('valAccuracy')
    expect(metricName('kl_12')).toBe('kl_12')
    expect(metricName('perplexity')).toBe('perplexity')
    expect(metricName('bleu')).toBeUndefined()
  })

  it('refuses kl_N for a latent some run does not have', () => {
    expect(issuesOf(vae(['  latent_dim: {values: [4, 2]}'], [], 'kl_3'))).toEqual([
      '2:10: metric.name: kl_3 is the KL of latent 3, which a run with latent_dim 2 does not have: every run needs latent_dim above 3',
    ])
    // Without latent_dim, runs have the server's default of 4.
    expect(issuesOf(vae(['  beta: {values: [1, 2]}'], [], 'kl_4')).join('\n')).toMatch(
      /kl_4 is the KL of latent 4, .*latent_dim 4 .*\(the default latent_dim is 4\)/,
    )
    expect(parseSweepConfig(vae(['  beta: {values: [1, 2]}'], [], 'kl_3'), 'f.yaml').metric).toBe('kl_3')
  })

  it("refuses another family's metric, and suggests the name meant for a typo", () => {
    expect(
      issuesOf(
        y(['method: grid', 'metric: {name: val_reconstruction}', 'parameters:', '  seed: {values: [1]}']),
      ),
    ).toEqual([
      '2:10: metric.name: val_reconstruction is not reported by MLP runs (they report loss, val_loss, accuracy, val_accuracy): set family: vae in base',
    ])
    expect(issuesOf(vae(['  beta: {values: [1]}'], [], 'accuracy')).join('\n')).toMatch(
      /accuracy is not reported by VAE runs \(they report loss, reconstruction, kl, val_loss, val_reconstruction, val_kl, kl_N\): set family: mlp in base/,
    )
    const typo = issuesOf(vae(['  beta: {values: [1]}'], [], 'val_reconstuction'))
    expect(typo).toEqual([
      expect.stringMatching(
        /^2:10: metric\.name: unknown metric val_reconstuction \(did you mean val_reconstruction\?\) \(one of: loss, val_loss, accuracy, val_accuracy, reconstruction, kl, val_reconstruction, val_kl, perplexity, val_perplexity, or kl_N/,
      ),
    ])
    expect(issuesOf(vae(['  beta: {values: [1]}'], [], 'valReconstuction'))[0]).toMatch(
      /did you mean valReconstruction\?/,
    )
  })

  it('suggests VAE parameter names too', () => {
    expect(issuesOf(vae(['  latent_dims: {values: [1]}'])).join('\n')).toMatch(
      /unknown parameter latent_dims \(did you mean latent_dim\?\)/,
    )
    expect(issuesOf(vae(['  beta: {values: [1]}'], ['  famly: vae'])).join('\n')).toMatch(
      /unknown run setting famly \(did you mean family\?\)/,
    )
    expect(issuesOf(vae(['  beta: {values: [1]}'], ['  explain: [latent_travesal]'])).join('\n')).toMatch(
      /base\.explain\[0\]: must be one of .*latent_traversal, latent_sensitivity, generator_surrogate, encoder_attribution, active_units, disentanglement, sample_fidelity/,
    )
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

  it('reads a named metric from summary.metrics first, whatever the old fields say', () => {
    const summary = {
      metrics: [
        { name: 'loss', value: 3 },
        { name: 'reconstruction', value: 2.5 },
        { name: 'valLoss', value: 4 },
        { name: 'valReconstruction', value: 3.25 },
        { name: 'kl_0', value: 0.5 },
      ],
      finalLoss: 30,
      finalValLoss: 40,
    }
    expect(metricValue(summary, 'valReconstruction')).toBe(3.25)
    expect(metricValue(summary, 'val_reconstruction')).toBe(3.25)
    expect(metricValue(summary, 'kl_0')).toBe(0.5)
    expect(metricValue(summary, 'kl0')).toBe(0.5)
    expect(metricValue(summary, 'valLoss')).toBe(4)
    // Not reported by this run.
    expect(metricValue(summary, 'kl_1')).toBeNull()
    expect(metricValue(summary, 'valKl')).toBeNull()
    // Old fields still answer when the list lacks the name.
    expect(metricValue({ metrics: [], finalValLoss: 0.25 }, 'val_loss')).toBe(0.25)
  })
})
