import * as tf from '@tensorflow/tfjs'

/**
 * Selects tfjs's pure-JS cpu backend for a test file. The backend greets Node users with a console warning
 * on its first tensor; that first tensor is made here with the warning muted, to keep test output clean.
 */
export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu')
  await tf.ready()
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined)
  try {
    tf.tensor([0]).dispose()
  } finally {
    warn.mockRestore()
  }
}
