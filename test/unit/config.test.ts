import path from 'node:path'
import { ConfigError, loadConfig } from '../../src/config'

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
