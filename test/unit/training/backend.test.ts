import * as tf from '@tensorflow/tfjs'

import { selectBackend, selectBackendDetailed } from '../../../src/training/backend'
import { train } from '../../../src/models/mlp/train'
import { separableData, spec } from '../models/mlp-fixtures'

const noHooks = { onEpoch: async (): Promise<void> => undefined }

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node')
    return true
  } catch {
    return false
  }
}

describe('selectBackend', () => {
  it('uses the preferred backend and is idempotent', async () => {
    expect(await selectBackend('cpu')).toBe('cpu')
    expect(tf.getBackend()).toBe('cpu')
    const again = selectBackendDetailed('cpu')
    expect(selectBackendDetailed('cpu')).toBe(again)
    expect(await selectBackend('cpu')).toBe('cpu')
  })

  it('picks the fastest backend present and says why it skipped faster ones', async () => {
    const selection = await selectBackendDetailed()
    if (tfjsNodeInstalled()) {
      expect(selection.backend).toBe('tensorflow')
    } else {
      // Offline machines: tfjs-node cannot be installed, the wasm binaries ship in the npm package.
      expect(selection.backend).toBe('wasm')
      expect(selection.skipped).toEqual([
        { backend: 'tensorflow', reason: expect.stringContaining('Cannot find module') },
      ])
    }
    expect(tf.getBackend()).toBe(selection.backend)
  })

  it('loads the wasm backend offline and trains on it deterministically', async () => {
    expect(await selectBackend('wasm')).toBe('wasm')
    const s = spec({ task: 'BINARY_CLASSIFICATION', epochs: 8, learningRate: 0.05 })
    const a = await train(separableData(), s, noHooks)
    const b = await train(separableData(), s, noHooks)
    expect(a.backend).toBe('wasm')
    expect(b.history.map((m) => m.loss)).toEqual(a.history.map((m) => m.loss))
    expect(a.history.at(-1)?.valAccuracy).toBeGreaterThanOrEqual(0.95)
  })

  it('falls back when the preferred backend cannot load', async () => {
    if (tfjsNodeInstalled()) return
    const selection = await selectBackendDetailed('tensorflow')
    expect(selection.backend).toBe('wasm')
    expect(selection.skipped.map((s) => s.backend)).toEqual(['tensorflow'])
  })
})
