import path from 'node:path'
import { ConfigError, isLoopbackHost, loadConfig } from '../../src/config'

describe('loadConfig', () => {
  it('has defaults that need nothing installed', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      workers: 1,
      logLevel: 'info',
    })
    expect(c.dataDir).toBe(path.resolve('.lab/postgres'))
    expect(c.embeddedPgPort).not.toBe(5432)
  })

  it.each([
    [{ PORT: 'abc' }, /PORT must be an integer/],
    [{ PORT: '70000' }, /PORT must be an integer between 0 and 65535/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgresql/],
    [{ LAB_EMBEDDED_PG_PORT: '5432' }, /must not be 5432/],
    [{ LAB_TF_BACKEND: 'gpu' }, /LAB_TF_BACKEND must be one of/],
  ])('refuses %j at start-up', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })
})

describe('LAB_AUTH', () => {
  const key = 'k'.repeat(24)

  it.each(['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]'])(
    'treats %s as loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true)
    },
  )

  it.each(['0.0.0.0', '::', '192.168.1.5', 'lab.example.com', '128.0.0.1', '127.0.0.1.nip.io'])(
    'does not treat %s as loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false)
    },
  )

  it('defaults to off on loopback, so npm start needs no key', () => {
    expect(loadConfig({}).auth).toBe('off')
    expect(loadConfig({ HOST: '::1' }).auth).toBe('off')
  })

  it('defaults to required on any other host', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).auth).toBe('required')
    expect(loadConfig({ HOST: '10.0.0.7', LAB_ADMIN_KEY: key })).toMatchObject({
      auth: 'required',
      adminKey: key,
    })
  })

  it('allows required on loopback', () => {
    expect(loadConfig({ LAB_AUTH: 'required' }).auth).toBe('required')
  })

  it.each([
    [{ HOST: '0.0.0.0', LAB_AUTH: 'off' }, /LAB_AUTH=off is only allowed when HOST is a loopback address/],
    [{ HOST: '192.168.1.5', LAB_AUTH: 'off' }, /HOST is "192.168.1.5"/],
    [{ LAB_AUTH: 'maybe' }, /LAB_AUTH must be one of required, off/],
    [{ LAB_ADMIN_KEY: 'short' }, /LAB_ADMIN_KEY must be at least 24 characters/],
    [{ LAB_ADMIN_KEY: 'has spaces in it but is long enough' }, /without spaces/],
    [{ LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE: '0' }, /LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE must be an integer/],
    [{ LAB_MAX_QUEUED_RUNS_PER_KEY: '-1' }, /LAB_MAX_QUEUED_RUNS_PER_KEY must be an integer/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  it('reads the per-key limits', () => {
    expect(
      loadConfig({ LAB_RATE_LIMIT_MUTATIONS_PER_MINUTE: '7', LAB_MAX_QUEUED_RUNS_PER_KEY: '3' }),
    ).toMatchObject({ rateLimitMutationsPerMinute: 7, maxQueuedRunsPerKey: 3 })
  })
})
