/**
 * Errors after which a TensorFlow.js backend is not usable again in this process: the wasm heap is corrupt
 * or exhausted, or an allocation failed. Seen: a 16 x 4096 network failing every later run at epoch 0.
 */
export function isFatalBackendError(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return /memory access out of bounds|out of memory|Array buffer allocation failed|Invalid typed array length|Aborted\(/i.test(
    text,
  )
}
