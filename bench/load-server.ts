/**
 * The server of bench/load.ts: the real lab (startLab, as `npm start` builds it) in a process of its own,
 * forked with an IPC channel so that the bench can ask for its heap, which /proc does not show. Not meant to
 * be run by hand: bench/load.ts forks it with `--expose-gc` and the settings in the environment.
 *
 * Messages: it sends `{ type: 'ready', url, wsUrl }` once listening; it answers `{ type: 'memory' }` with
 * `{ type: 'memory', rss, heapUsed, heapTotal, external }` (bytes, after a full collection when gc is
 * exposed) and stops on `{ type: 'stop' }` or SIGTERM.
 */
import 'reflect-metadata'

import { loadConfig } from '../src/config'
import { startLab } from '../src/lab'
import { createLogger } from '../src/logger'

type Request = { type: 'memory' } | { type: 'stop' }

async function main(): Promise<void> {
  const config = loadConfig(process.env)
  const lab = await startLab(config, createLogger(config.logLevel, 'bench-load'))
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= lab.stop().finally(() => process.exit(0)))
  process.once('SIGTERM', () => void stop())
  process.on('message', (message: Request) => {
    if (message.type === 'stop') void stop()
    if (message.type === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      const m = process.memoryUsage()
      process.send?.({
        type: 'memory',
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
      })
    }
  })
  process.send?.({ type: 'ready', url: lab.url, wsUrl: lab.wsUrl })
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
