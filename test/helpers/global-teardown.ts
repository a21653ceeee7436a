/** Jest globalTeardown: stops the embedded PostgreSQL that global-setup.ts started, if it started one. */
import fs from 'node:fs'
import { EMBEDDED_STATE } from './global-setup'
import type { EmbeddedServerState } from './global-setup'

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<symbol, EmbeddedServerState | undefined>)[EMBEDDED_STATE]
  if (state === undefined) return
  await state.server.stop()
  await fs.promises.rm(state.dataDir, { recursive: true, force: true })
}
