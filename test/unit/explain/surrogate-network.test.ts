import * as tf from '@tensorflow/tfjs'
import { fitSurrogateNetwork, type SurrogateNetworkOptions } from '../../../src/explain/surrogate-network'
import { closedForm, uniformRows } from './closed-form'
import { useCpuBackend } from './tfjs-cpu'

const smooth = closedForm(
  (x) =>
    3 * (x[0] as number) -
    2 * (x[1] as number) +
    Math.sin(3 * (x[2] as number)) +
    (x[0] as number) * (x[3] as number),
  () => [],
)

describe('surrogate network', () => {
  beforeAll(useCpuBackend)

  const base = (overrides: Partial<SurrogateNetworkOptions> = {}): SurrogateNetworkOptions => ({
    predict: smooth.predict,
    trainRows: uniformRows(800, 5, 'sn-train'),
    testRows: uniformRows(300, 5, 'sn-test'),
    task: 'REGRESSION',
    seed: 5,
    ...overrides,
  })

  it('reproduces a smooth model with high held-out fidelity and leaks no tensor', async () => {
    const before = tf.memory().numTensors
    const result = await fitSurrogateNetwork(base())
    expect(tf.memory().numTensors).toBe(before)
    expect(result.hiddenLayers).toEqual([16, 8])
    expect(result.fidelityR2).toBeGreaterThan(0.97)
    expect(result.fidelityR2).toBeLessThanOrEqual(1)
    expect(result.agreement).toBeNull()
  })

  it('stops when its training fidelity stops improving, and trains every epoch when told to wait', async () => {
    const stopped = await fitSurrogateNetwork(base({ epochs: 150 }))
    expect(stopped.epochs).toBeGreaterThan(8)
    expect(stopped.epochs).toBeLessThan(150)
    const patient = await fitSurrogateNetwork(base({ epochs: 30, patience: 1000 }))
    expect(patient.epochs).toBe(30)
    // Stopping early costs little fidelity: within 0.02 of training on.
    const longer = await fitSurrogateNetwork(base({ epochs: 150, patience: 1000 }))
    expect(stopped.fidelityR2).toBeGreaterThan((longer.fidelityR2 as number) - 0.02)
  })

  it('is deterministic for a seed and differs for another', async () => {
    const a = await fitSurrogateNetwork(base({ epochs: 5 }))
    const b = await fitSurrogateNetwork(base({ epochs: 5 }))
    const c = await fitSurrogateNetwork(base({ epochs: 5, seed: 6 }))
    expect(b).toEqual(a)
    expect(c.fidelityR2).not.toBe(a.fidelityR2)
  })

  it('reports class agreement for classification logits', async () => {
    const logit = closedForm(
      (x) => 6 * ((x[0] as number) - (x[1] as number)) + 2 * Math.sin(4 * (x[2] as number)),
      () => [],
    )
    const result = await fitSurrogateNetwork(
      base({ predict: logit.predict, task: 'BINARY_CLASSIFICATION', hiddenLayers: [8] }),
    )
    expect(result.hiddenLayers).toEqual([8])
    expect(result.agreement).toBeGreaterThan(0.95)
    expect(result.fidelityR2).toBeGreaterThan(0.95)
  })

  it('untrained (0 epochs) it is visibly worse: the fidelity is measured, not assumed', async () => {
    const result = await fitSurrogateNetwork(base({ epochs: 0 }))
    expect(result.fidelityR2).toBeLessThan(0.5)
  })

  it('stops when aborted and still frees its tensors', async () => {
    const before = tf.memory().numTensors
    const controller = new AbortController()
    controller.abort(new Error('cancelled'))
    await expect(fitSurrogateNetwork(base({ signal: controller.signal }))).rejects.toThrow('cancelled')
    expect(tf.memory().numTensors).toBe(before)
  })
})
