/**
 * Picks the fastest TensorFlow.js backend this machine has: native TensorFlow (`@tensorflow/tfjs-node`, an
 * optional dependency that cannot be installed without internet), then WebAssembly, then pure JavaScript.
 */
import * as path from 'node:path'

import * as tf from '@tensorflow/tfjs'
import * as tfwasm from '@tensorflow/tfjs-backend-wasm'

import { setFlagFreeWasmMatMul } from './wasm-matmul'

/** A backend name as TensorFlow.js spells it; `tensorflow` is the native backend of `@tensorflow/tfjs-node`. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu'

/** Fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

/** The outcome of {@link selectBackendDetailed}: the backend in use and why the faster ones were passed over. */
export interface BackendSelection {
  backend: BackendName
  skipped: { backend: BackendName; reason: string }[]
}

// Kept in a variable so that neither tsc nor a bundler tries to resolve the optional package.
const TFJS_NODE_MODULE = '@tensorflow/tfjs-node'

let last: { key: string; selection: Promise<BackendSelection> } | undefined
let wasmPathsSet = false

/**
 * Makes the fastest available backend current and returns its name. `preferred` (from configuration) is tried
 * first; when it cannot load, the remaining backends are tried fastest first, so a worker still trains and
 * reports the backend it really used. Calling again with the same argument is a no-op returning the same name.
 */
export async function selectBackend(preferred?: BackendName): Promise<BackendName> {
  return (await selectBackendDetailed(preferred)).backend
}

/** {@link selectBackend}, also returning why faster backends were skipped (worth logging once per worker). */
export function selectBackendDetailed(preferred?: BackendName): Promise<BackendSelection> {
  const key = preferred ?? 'auto'
  if (last?.key === key) return last.selection
  // Chained after the previous selection so that two calls never initialise backends concurrently.
  const previous = last?.selection.catch(() => undefined) ?? Promise.resolve(undefined)
  const selection = previous.then(() => select(preferred))
  last = { key, selection }
  return selection
}

async function select(preferred: BackendName | undefined): Promise<BackendSelection> {
  // PROD only silences tfjs's console hints ("install tfjs-node to speed things up"): we report the backend.
  tf.enableProdMode()
  const candidates = preferred ? [preferred, ...BACKEND_ORDER.filter((b) => b !== preferred)] : BACKEND_ORDER
  const skipped: BackendSelection['skipped'] = []
  for (const backend of candidates) {
    const failure = await activate(backend)
    if (failure === undefined) {
      // Transposed products are 4-10x slower than plain ones on wasm, and every backward pass makes them.
      if (backend === 'wasm') setFlagFreeWasmMatMul(true)
      return { backend, skipped }
    }
    skipped.push({ backend, reason: failure })
  }
  // Unreachable in practice: the cpu backend ships inside @tensorflow/tfjs.
  throw new Error(`no TensorFlow.js backend could be initialised: ${JSON.stringify(skipped)}`)
}

/** Returns undefined when `backend` is now current, otherwise why it could not be used. */
async function activate(backend: BackendName): Promise<string | undefined> {
  if (tf.getBackend() === backend) return undefined
  try {
    if (backend === 'tensorflow') loadNativeBindings()
    if (backend === 'wasm') pointWasmAtItsBinaries()
    if (tf.findBackendFactory(backend) === null) return 'backend not registered'
    // setBackend resolves false (after a console warning) when the backend's initialisation fails.
    const ok = await tf.setBackend(backend)
    await tf.ready()
    return ok && tf.getBackend() === backend ? undefined : 'initialisation failed'
  } catch (err: unknown) {
    return err instanceof Error ? err.message : String(err)
  }
}

/** Importing tfjs-node registers the `tensorflow` backend with the shared tfjs engine. Throws when absent. */
function loadNativeBindings(): void {
  // A plain require (not import()) so that under jest it goes through the same module registry as our own
  // '@tensorflow/tfjs' import and registers with the same engine.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(TFJS_NODE_MODULE)
}

/**
 * The wasm backend fetches its `.wasm` binary relative to the script that loaded it, which breaks as soon as the
 * code is bundled or run from another directory; reading it from the package's own `dist/` works offline.
 * Must happen before the backend first initialises, and only once (tfjs throws if it is repeated later).
 */
function pointWasmAtItsBinaries(): void {
  if (wasmPathsSet) return
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))
  tfwasm.setWasmPaths(distDir + path.sep)
  wasmPathsSet = true
}
