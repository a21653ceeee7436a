import { parseSweepConfig, SweepConfigError, toSweepInput } from '../../src/cli/sweep-config'
import { AppError } from '../../src/errors'
import { SweepMethod } from '../../src/modules/sweep/sweep.enums'
import { gridPoint, parseParameters } from '../../src/modules/sweep/sweep.params'

const y = (lines: string[]) => lines.join('\n') + '\n'

describe('sweeping SEQUENCE runs', () => {
  it('the server takes architecture values and contextLength values or ranges', () => {
    const params = parseParameters(
      [
        { name: 'architecture', values: ['RNN_GRU', 'WINDOW_MLP'] },
        { name: 'contextLength', values: [8, 16] },
      ],
      SweepMethod.GRID,
    )
    expect(gridPoint(params, 3)).toEqual({ architecture: 'WINDOW_MLP', contextLength: 16 })
    expect(parseParameters([{ name: 'contextLength', min: 4, max: 64 }], SweepMethod.RANDOM)).toEqual([
      { name: 'contextLength', kind: 'range', min: 4, max: 64, distribution: 'INT_UNIFORM' },
    ])
    expect(() => parseParameters([{ name: 'architecture', values: ['LSTM'] }], SweepMethod.GRID)).toThrow(
      AppError,
    )
    expect(() => parseParameters([{ name: 'contextLength', values: [2.5] }], SweepMethod.GRID)).toThrow(
      AppError,
    )
    expect(() => parseParameters([{ name: 'architecture', min: 1, max: 2 }], SweepMethod.RANDOM)).toThrow(
      AppError,
    )
  })

  it('a sweep file sweeps architecture and context_length of a sequence base, ranked by val_perplexity', () => {
    const config = parseSweepConfig(
      y([
        'method: grid',
        'metric: {name: val_perplexity, goal: minimize}',
        'parameters:',
        '  architecture: {values: [rnn_gru, WINDOW_MLP]}',
        '  context_length: {values: [8, 32]}',
        'base:',
        '  family: sequence',
        '  hidden_layers: [64]',
      ]),
      'text.yaml',
    )
    expect(config).toMatchObject({
      metric: 'valPerplexity',
      parameters: [
        { name: 'architecture', values: ['RNN_GRU', 'WINDOW_MLP'] },
        { name: 'contextLength', values: [8, 32] },
      ],
      base: { family: 'SEQUENCE', hiddenLayers: [64] },
    })
    expect(toSweepInput(config, 'text.yaml', { dataset: 'd', experiment: 'e' })).toMatchObject({
      metric: 'valPerplexity',
      base: { datasetId: 'd', family: 'SEQUENCE' },
    })
  })

  it('refuses sequence settings on other families, perplexity for an MLP, and out-of-range context lengths', () => {
    const refused = (lines: string[]) => () => parseSweepConfig(y(lines), 'bad.yaml')
    expect(
      refused([
        'method: grid',
        'metric: {name: val_loss, goal: minimize}',
        'parameters:',
        '  context_length: {values: [8]}',
      ]),
    ).toThrow(SweepConfigError)
    expect(
      refused([
        'method: grid',
        'metric: {name: perplexity, goal: minimize}',
        'parameters:',
        '  seed: {values: [1]}',
      ]),
    ).toThrow(SweepConfigError)
    expect(
      refused([
        'method: grid',
        'metric: {name: val_loss, goal: minimize}',
        'parameters:',
        '  context_length: {values: [0]}',
        'base: {family: sequence}',
      ]),
    ).toThrow(SweepConfigError)
  })
})
