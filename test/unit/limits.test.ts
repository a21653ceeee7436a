import { buildSchema, parse, specifiedRules, validate } from 'graphql'
import { ConfigError, loadConfig } from '../../src/config'
import { ModelFamily } from '../../src/models/family.enums'
import { buildModel } from '../../src/models/mlp/network'
import { familyOf } from '../../src/models/registry'
import { buildVae } from '../../src/models/vae/network'
import { hostAllowed, originAllowed } from '../../src/server/guard'
import { boundFormattedError, limitRules } from '../../src/server/limits'
import { selectBackend } from '../../src/training/backend'

describe('parameterCount', () => {
  beforeAll(async () => {
    await selectBackend('cpu')
  })
  const base = { activation: 'RELU', epochs: 1, batchSize: 8, learningRate: 0.01, optimizer: 'ADAM' } as const
  const shapes: [number, number[]][] = [
    [10, [128, 64, 32, 16]],
    [3, []],
    [256, [7]],
  ]

  it.each(shapes)('counts what the MLP network holds (%i features, %j)', (features, hiddenLayers) => {
    const model = buildModel(
      { ...base, task: 'REGRESSION', hiddenLayers, validationSplit: 0, seed: 1 },
      features,
    )
    const counted = familyOf(ModelFamily.MLP).parameterCount({ hiddenLayers, latentDim: null }, features)
    expect(counted).toBe(model.countParams())
    model.dispose()
  })

  it.each(shapes)(
    'counts what the VAE encoder and decoder hold (%i features, %j)',
    (features, hiddenLayers) => {
      const nets = buildVae(
        {
          ...base,
          hiddenLayers,
          validationSplit: 0,
          seed: 1,
          latentDim: 6,
          beta: 1,
          likelihood: 'GAUSSIAN' as never,
        },
        features,
      )
      const counted = familyOf(ModelFamily.VAE).parameterCount({ hiddenLayers, latentDim: 6 }, features)
      expect(counted).toBe(nets.encoder.countParams() + nets.decoder.countParams())
      nets.encoder.dispose()
      nets.decoder.dispose()
    },
  )
})

describe('Host and Origin checks', () => {
  const opts = {
    host: '0.0.0.0',
    allowedHosts: ['lab.example.com'],
    allowedOrigins: ['https://app.example.com'],
  }

  it.each([
    ['127.0.0.1:4000', true],
    ['localhost:4000', true],
    ['LOCALHOST', true],
    ['[::1]:4000', true],
    ['10.1.2.3:4000', true],
    ['lab.example.com', true],
    ['evil.example:4000', false],
    ['lab.example.com.evil.example', false],
    ['', false],
    [undefined, false],
  ])('Host %j allowed: %s', (host, allowed) => {
    expect(hostAllowed(host, opts)).toBe(allowed)
  })

  it('allows no Origin, the own origin and listed ones only', () => {
    expect(originAllowed(undefined, 'lab.example.com', opts)).toBe(true)
    expect(originAllowed('https://lab.example.com', 'lab.example.com', opts)).toBe(true)
    expect(originAllowed('http://127.0.0.1:4000', '127.0.0.1:4000', opts)).toBe(true)
    expect(originAllowed('https://app.example.com', 'lab.example.com', opts)).toBe(true)
    expect(originAllowed('https://evil.example', 'lab.example.com', opts)).toBe(false)
    expect(originAllowed('http://127.0.0.1:4001', '127.0.0.1:4000', opts)).toBe(false)
    expect(originAllowed('null', '127.0.0.1:4000', opts)).toBe(false)
  })
})

describe('limit rules', () => {
  const schema = buildSchema(`type Query { a: A, n: Int } type A { a: A, n: Int }`)
  const limits = {
    maxDepth: 3,
    maxIntrospectionDepth: 15,
    maxAliases: 2,
    maxTokens: 1000,
    maxCost: 1000,
    introspection: true,
  }
  const errors = (query: string, l = limits) =>
    validate(schema, parse(query), [...specifiedRules, ...limitRules(l)]).map((e) => e.message)

  it('follows fragments for depth and aliases', () => {
    expect(errors(`{ a { a { n } } }`)).toEqual([])
    expect(errors(`{ a { ...F } } fragment F on A { a { a { n } } }`)).toEqual([
      'Query depth limit of 3 exceeded, found 4.',
    ])
    expect(errors(`{ ...G } fragment G on Query { x: n y: n z: n }`)).toEqual([
      'Aliases limit of 2 exceeded, found 3.',
    ])
  })

  it('counts aliases of __typename too, and each spread of a fragment', () => {
    expect(errors(`{ x: __typename y: __typename }`)).toEqual([])
    expect(errors(`{ x: __typename y: __typename z: __typename }`)).toEqual([
      'Aliases limit of 2 exceeded, found 3.',
    ])
    expect(errors(`{ a { x: __typename ... on A { y: __typename z: n } } }`)).toEqual([
      'Aliases limit of 2 exceeded, found 3.',
    ])
    // One alias in a fragment spread three times is three aliases.
    expect(
      errors(
        `{ a { ...F a { ...F } } ...G } fragment F on A { t: __typename } fragment G on Query { u: __typename }`,
      ),
    ).toEqual(['Aliases limit of 2 exceeded, found 3.'])
    // Per operation: two operations of two aliases each are both within the limit.
    expect(errors(`query P { x: n y: n } query Q { x: n y: n }`)).toEqual([])
  })

  it('removes suggestions and bounds long messages and extensions', () => {
    const formatted = {
      message: 'Cannot query field "m" on type "Query". Did you mean "n"?',
      extensions: { id: 'x'.repeat(10_000) },
    }
    expect(boundFormattedError(formatted, { hideSuggestions: true }).message).toBe(
      'Cannot query field "m" on type "Query".',
    )
    expect(boundFormattedError(formatted, { hideSuggestions: false }).message).toMatch(/Did you mean/)
    const long = boundFormattedError(
      { message: 'y'.repeat(100_000), extensions: formatted.extensions },
      { hideSuggestions: false },
    )
    expect(long.message.length).toBeLessThan(1100)
    expect(String(long.extensions!['id']).length).toBeLessThan(600)
  })
})

describe('loadConfig limits', () => {
  it('turns introspection on for loopback only, unless told', () => {
    expect(loadConfig({}).introspection).toBe(true)
    expect(loadConfig({ HOST: '0.0.0.0' }).introspection).toBe(false)
    expect(loadConfig({ HOST: '0.0.0.0', LAB_INTROSPECTION: 'on' }).introspection).toBe(true)
    expect(loadConfig({ LAB_INTROSPECTION: 'off' }).introspection).toBe(false)
  })

  it('parses origin and host lists', () => {
    const c = loadConfig({
      LAB_ALLOWED_ORIGINS: 'https://a.example, http://b.example:8080',
      LAB_ALLOWED_HOSTS: 'a.example',
    })
    expect(c.allowedOrigins).toEqual(['https://a.example', 'http://b.example:8080'])
    expect(c.allowedHosts).toEqual(['a.example'])
  })

  it.each([
    [{ LAB_INTROSPECTION: 'maybe' }, /LAB_INTROSPECTION must be on or off/],
    [{ LAB_ALLOWED_ORIGINS: 'https://a.example/path' }, /LAB_ALLOWED_ORIGINS must be a comma-separated list/],
    [{ LAB_ALLOWED_ORIGINS: '*' }, /LAB_ALLOWED_ORIGINS/],
    [{ LAB_ALLOWED_HOSTS: 'a.example:80' }, /LAB_ALLOWED_HOSTS/],
    [{ LAB_MAX_MODEL_PARAMETERS: '0' }, /LAB_MAX_MODEL_PARAMETERS must be an integer/],
    [{ LAB_HTTP_HEADERS_TIMEOUT_MS: '5000', LAB_HTTP_REQUEST_TIMEOUT_MS: '1000' }, /must not exceed/],
    [{ LAB_WS_MAX_PAYLOAD_BYTES: '10' }, /LAB_WS_MAX_PAYLOAD_BYTES/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })
})
