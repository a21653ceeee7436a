/**
 * A GRU forward pass that runs each distinct input prefix once. A recurrent state after position t depends on
 * the inputs up to t only, so input rows that agree up to t have the same states up to t: occluding position p
 * leaves the states before p as they are in the full context, and along one Shapley permutation a coalition
 * differs from the previous one in a single position. The rows of a pass are merged into a prefix tree, and
 * the cells run level by level (one batch per position) over the tree's distinct nodes, each from its parent's
 * state. The ops are the layers' own (`cell.call`, then the output layer), so a row's outputs are the plain
 * pass's to float32 rounding; only the number of rows through each step shrinks.
 */
import * as tf from '@tensorflow/tfjs'

/** The GRU layers of a network and the layer after them, when the network is exactly that. */
export interface GruStack {
  cells: tf.layers.RNNCell[]
  units: number[]
  output: tf.layers.Layer
}

/** The one-hot input of one row at each position: symbol and value (0 or a missing symbol: the zero row). */
export interface PrefixRow {
  /** Symbol per position, -1 for the zero row; length = the network's context length. */
  symbols: Int32Array
  /** The value the symbol's one-hot entry takes (a mask); ignored where symbols is -1. */
  values: Float32Array
}

/**
 * The network as GRU cells plus one output layer, when it is a Sequential stack of GRU layers (forward in time,
 * no state carried between calls) followed by a single layer that maps the last state to the logits; else null.
 */
export function gruStackOf(network: tf.LayersModel): GruStack | null {
  const layers = network.layers
  const output = layers.at(-1)
  if (output === undefined || layers.length < 2) return null
  const cells: tf.layers.RNNCell[] = []
  const units: number[] = []
  for (const layer of layers.slice(0, -1)) {
    if (layer.getClassName() !== 'GRU') return null
    const rnn = layer as tf.layers.RNN
    if (rnn.goBackwards || rnn.stateful || rnn.returnState) return null
    const config = rnn.getConfig()
    const dropout = Number(config['dropout'] ?? 0) + Number(config['recurrentDropout'] ?? 0)
    if (dropout !== 0) return null
    cells.push(rnn.cell)
    units.push(Number(config['units']))
  }
  return { cells, units, output }
}

/** How many distinct nodes (row-steps run) the prefix tree of `rows` has, against rows x positions. */
export interface PrefixTree {
  /** Per level t: each node's parent (index into level t - 1; 0 at level 0: the zero initial state). */
  parents: Int32Array[]
  /** Per level: each node's symbol (-1: the zero row) and value. */
  symbols: Int32Array[]
  values: Float32Array[]
  /** Each row's node at the last level. */
  leaves: Int32Array
}

/** Merges the rows into their prefix tree: two rows share a node at level t when their inputs agree up to t. */
export function prefixTree(rows: readonly PrefixRow[], positions: number): PrefixTree {
  const parents: Int32Array[] = []
  const symbols: Int32Array[] = []
  const values: Float32Array[] = []
  let current = new Int32Array(rows.length)
  // A node's key among its level: parent and input as one number when the value is 0 or 1 (every mask the
  // methods score but Integrated Gradients' path), else as text.
  let width = 2
  for (const row of rows) for (const symbol of row.symbols) width = Math.max(width, symbol + 2)
  for (let t = 0; t < positions; t++) {
    const index = new Map<number | string, number>()
    const levelParents: number[] = []
    const levelSymbols: number[] = []
    const levelValues: number[] = []
    const next = new Int32Array(rows.length)
    rows.forEach((row, r) => {
      const symbol = row.symbols[t]!
      const value = symbol < 0 ? 0 : row.values[t]!
      const input = value === 0 ? -1 : symbol
      const key =
        value === 0 || value === 1 ? current[r]! * width + input + 1 : `${current[r]!},${input},${value}`
      let node = index.get(key)
      if (node === undefined) {
        node = levelParents.length
        index.set(key, node)
        levelParents.push(current[r]!)
        levelSymbols.push(input)
        levelValues.push(value)
      }
      next[r] = node
    })
    parents.push(Int32Array.from(levelParents))
    symbols.push(Int32Array.from(levelSymbols))
    values.push(Float32Array.from(levelValues))
    current = next
  }
  return { parents, symbols, values, leaves: current }
}

/** Nodes of a tree over all levels: the row-steps a shared pass runs. */
export function treeNodes(tree: PrefixTree): number {
  return tree.parents.reduce((n, level) => n + level.length, 0)
}

/**
 * The logits [rows, symbols] of the rows through the stack, each distinct prefix run once. The caller owns the
 * returned tensor.
 */
export function sharedPrefixLogits(
  stack: GruStack,
  rows: readonly PrefixRow[],
  positions: number,
  symbols: number,
): tf.Tensor2D {
  const tree = prefixTree(rows, positions)
  // The state of every layer at each node of the previous level; level -1 is the one zero initial state.
  let states: tf.Tensor2D[] = stack.units.map((u) => tf.zeros([1, u]))
  try {
    for (let t = 0; t < positions; t++) {
      const nodeSymbols = tree.symbols[t]!
      const nodeValues = tree.values[t]!
      const next = tf.tidy(() => {
        const x = new Float32Array(nodeSymbols.length * symbols)
        nodeSymbols.forEach((s, k) => {
          if (s >= 0) x[k * symbols + s] = nodeValues[k]!
        })
        const parents = tf.tensor1d(tree.parents[t]!, 'int32')
        let input: tf.Tensor = tf.tensor2d(x, [nodeSymbols.length, symbols])
        return stack.cells.map((cell, l) => {
          const previous = tf.gather(states[l]!, parents)
          const out = cell.call([input, previous], { training: false }) as tf.Tensor[]
          input = out[0]!
          return input as tf.Tensor2D
        })
      })
      tf.dispose(states)
      states = next
    }
    return tf.tidy(() => {
      const last = tf.gather(states.at(-1)!, tf.tensor1d(tree.leaves, 'int32'))
      return stack.output.apply(last) as tf.Tensor2D
    })
  } finally {
    tf.dispose(states)
  }
}
