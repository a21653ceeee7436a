/**
 * A faster BatchMatMul for the wasm backend when an operand is transposed.
 *
 * tfjs-backend-wasm 4.22 hands BatchMatMul to XNNPACK only when neither `transposeA` nor `transposeB` is set
 * (tensorflow/tfjs#2532); with a flag it runs a plain loop. Measured here: [32x864]x[864x128] took 1.5 ms
 * flag-free, 14-16 ms with either flag, 1.9 ms as an explicit transpose plus a flag-free product. Every matMul
 * gradient sets a flag - BatchMatMul's registered gradient and the fused matMul's own gradient (a Dense layer
 * with a linear activation stays fused under `optimizer.minimize`) - so in a profiled MLP training step these
 * products took 12 of 17.5 ms of kernel time.
 *
 * Replacing the forward kernel rather than the gradient covers both of those paths (and any flagged matMul in a
 * forward pass), and leaves autograd untouched: the recorded op, its saved inputs and its attributes are the
 * stock ones. The products are the same; only the order of the float32 sums may differ.
 */
import * as tf from '@tensorflow/tfjs'

const BATCH_MAT_MUL = 'BatchMatMul'
const TRANSPOSE = 'Transpose'
const WASM = 'wasm'

/**
 * Marks our replacement and keeps the stock kernel on it. A global symbol, because the kernel registry is
 * global too: a second copy of this module (jest's module registry, a bundle) must recognise the replacement.
 */
const STOCK = Symbol.for('explainable-lab.wasm-matmul.stock')

type Replacement = tf.KernelConfig & { [STOCK]: tf.KernelConfig }

interface MatMulAttrs {
  transposeA: boolean
  transposeB: boolean
}

/**
 * Installs (`true`) or removes (`false`) the flag-free wasm BatchMatMul. Idempotent and cheap: the engine looks
 * kernels up on every call, so switching takes effect immediately (benchmarks toggle it to measure the gain).
 * A no-op when the wasm backend's kernels are not registered.
 */
export function setFlagFreeWasmMatMul(enabled: boolean): void {
  const registered = tf.getKernel(BATCH_MAT_MUL, WASM)
  if (registered === undefined) return
  const stock = isReplacement(registered) ? registered[STOCK] : registered
  if (enabled === isReplacement(registered)) return
  tf.unregisterKernel(BATCH_MAT_MUL, WASM)
  tf.registerKernel(enabled ? flagFree(stock) : stock)
}

/** Whether the wasm BatchMatMul is currently the flag-free one. */
export function flagFreeWasmMatMulEnabled(): boolean {
  const registered = tf.getKernel(BATCH_MAT_MUL, WASM)
  return registered !== undefined && isReplacement(registered)
}

function isReplacement(config: tf.KernelConfig): config is Replacement {
  return STOCK in config
}

/** The stock kernel, called with both flags cleared on operands transposed by the wasm Transpose kernel. */
function flagFree(stock: tf.KernelConfig): Replacement {
  const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs
    if (!transposeA && !transposeB) return stock.kernelFunc({ inputs, backend, ...(attrs && { attrs }) })
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo }
    const scratch: tf.TensorInfo[] = []
    const swapped = (x: tf.TensorInfo): tf.TensorInfo => {
      const t = transposeLastTwo(x, backend)
      scratch.push(t)
      return t
    }
    try {
      return stock.kernelFunc({
        inputs: { a: transposeA ? swapped(a) : a, b: transposeB ? swapped(b) : b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      })
    } finally {
      // Kernel-internal tensors are not tracked by the engine: free them as the stock kernel frees its reshapes.
      for (const t of scratch) (backend as tf.KernelBackend).disposeData(t.dataId)
    }
  }
  return { ...stock, kernelFunc, [STOCK]: stock }
}

function transposeLastTwo(x: tf.TensorInfo, backend: object): tf.TensorInfo {
  const transpose = tf.getKernel(TRANSPOSE, WASM)
  if (transpose === undefined) throw new Error('the wasm Transpose kernel is not registered')
  const rank = x.shape.length
  const perm = [...Array(rank).keys()]
  perm[rank - 2] = rank - 1
  perm[rank - 1] = rank - 2
  return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo
}
