/**
 * Numeric matrices that skip the API's event loop. A 10,000-row `predict` sends 100,000 Floats: as nested
 * arrays, graphql-js coerces each one, the argument guard walks them and `postMessage` clones 10,000 arrays
 * to a query thread - tens of milliseconds of the loop per request. A large request body is parsed on a query
 * thread instead (src/server/json-body.ts), which packs such a variable into one Float64Array in shared memory.
 * GraphQL then sees an empty list in its place, and the resolver of the argument takes the packed rows from
 * the request's context: they reach the model's thread without a copy.
 */
import { GraphQLResolveInfo, Kind } from 'graphql'

/** A rectangular matrix, row after row: `values.length / columns` rows. */
export interface PackedRows {
  values: Float64Array
  columns: number
}

/** The packed variables of one request, by variable name. */
export type PackedVariables = Readonly<Record<string, PackedRows>>

export const NO_PACKED_VARIABLES: PackedVariables = Object.freeze({})

/**
 * Arguments, as `field(argument)`, whose resolvers read {@link packedArgument}. A variable is packed only when
 * every reference to it in the operation is one of these: any other field would see the empty list.
 */
export const PACKABLE_ARGUMENTS: ReadonlySet<string> = new Set(['predict(rows)'])

/**
 * `value` packed when it is a non-empty list of equally long, non-empty lists of finite numbers - exactly
 * the values graphql-js would coerce to `[[Float!]!]!` unchanged. Anything else (ragged rows, a string, an
 * Infinity from `1e999`) is left to GraphQL and the services, so it is refused with the same error as before.
 */
export function packMatrix(value: unknown): PackedRows | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const first: unknown = value[0]
  if (!Array.isArray(first) || first.length === 0) return undefined
  const columns = first.length
  for (const row of value) if (!Array.isArray(row) || row.length !== columns) return undefined
  const values = new Float64Array(new SharedArrayBuffer(value.length * columns * 8))
  let k = 0
  for (const row of value as unknown[][]) {
    for (const v of row) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return undefined
      values[k++] = v
    }
  }
  return { values, columns }
}

/**
 * The packed rows of argument `name` of the field being resolved, when the request gave it as a packed
 * variable; undefined otherwise (the argument's value is then the one GraphQL coerced).
 */
export function packedArgument(
  packed: PackedVariables,
  info: GraphQLResolveInfo,
  name: string,
): PackedRows | undefined {
  const arg = info.fieldNodes[0]?.arguments?.find((a) => a.name.value === name)
  if (arg?.value.kind !== Kind.VARIABLE) return undefined
  return Object.hasOwn(packed, arg.value.name.value) ? packed[arg.value.name.value] : undefined
}
