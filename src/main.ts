import 'reflect-metadata'
import { loadConfigOrExit, stopOnSignals } from './config'
import { startLab } from './lab'
import { createLogger } from './logger'

/** Composition root of `npm start`: config -> database -> schema -> http + ws -> shutdown on signals. */
async function main() {
  const config = loadConfigOrExit()
  const logger = createLogger(config.logLevel)
  const lab = await startLab(config, logger)
  stopOnSignals(
    async () => {
      logger.info('shutting down')
      await lab.stop()
    },
    (err) => logger.error({ err }, 'shutdown failed'),
  )
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
