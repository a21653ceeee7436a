import 'reflect-metadata'
import { ConfigError, loadConfig } from './config'
import { startLab } from './lab'
import { createLogger } from './logger'

/** Composition root of `npm start`: config -> database -> schema -> http + ws -> shutdown on signals. */
async function main() {
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
  const logger = createLogger(config.logLevel)
  const lab = await startLab(config, logger)
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down')
    // A second signal while draining exits at once.
    process.once(signal, () => process.exit(1))
    lab.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
