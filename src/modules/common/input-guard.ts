/**
 * One check of every argument the API receives, before any resolver sees it: strings without C0
 * control characters (PostgreSQL text and jsonb cannot hold NUL) and within a length bound, lists
 * within their bounds, JSON values bounded in depth and size. Services keep their own, more
 * specific checks; this one makes sure that nothing they forget reaches the database as a 500.
 */
import {
  defaultFieldResolver,
  GraphQLArgument,
  GraphQLInputType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql'
import { badInput } from '../../errors'

/** Longest string of any argument or input field not named in {@link STRING_LIMITS}. */
export const DEFAULT_MAX_STRING = 10_000
/** Longest ID: ours are 36-character UUIDs. */
export const MAX_ID_LENGTH = 100
/** Bounds of one JSON argument value (a sweep parameter's value, say). */
export const JSON_LIMITS = { depth: 8, nodes: 10_000, string: 1_000 } as const

/** Per-field string bounds, by `Type.field` (input fields) or `Type.field(arg)` (arguments). */
const STRING_LIMITS: Record<string, number> = {
  // Bounded by the HTTP body limit and checked cell by cell by the CSV parser.
  'ImportCsvDatasetInput.csv': Number.POSITIVE_INFINITY,
  // Bounded by LAB_MAX_TEXT_BYTES (PAYLOAD_TOO_LARGE) in the dataset service.
  'ImportTextDatasetInput.text': Number.POSITIVE_INFINITY,
}

/** Per-field list bounds; lists not named here are bounded by the services (rows, cells ...). */
const LIST_LIMITS: Record<string, number> = {
  'SweepInput.parameters': 50,
  'SweepParameterInput.values': 1_000,
  'StartRunInput.tags': 1_000,
  'RunFilter.tags': 1_000,
  'Query.runs(orderBy)': 50,
}

// TAB, LF and CR are text; every other C0 control is not (and NUL cannot be stored at all).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/

interface Walk {
  /** The top-level input field or argument the value belongs to, as services name it in `field`. */
  field: string
  /** JSON nodes seen so far in this argument. */
  jsonNodes: number
}

function checkString(value: string, path: string, max: number, walk: Walk): void {
  if (value.length > max) {
    throw badInput(`${walk.field} is longer than ${max} characters (at ${path})`, {
      field: walk.field,
      path,
    })
  }
  const found = CONTROL.exec(value)
  if (found) {
    const hex = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
    throw badInput(`${walk.field} contains control characters (U+${hex} at ${path})`, {
      field: walk.field,
      path,
    })
  }
}

/** Walks a JSON value without recursion (a 100,000-deep value must not overflow the stack). */
function checkJson(value: unknown, path: string, walk: Walk): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }]
  const tooBig = () =>
    badInput(
      `${walk.field} holds a JSON value deeper than ${JSON_LIMITS.depth} levels or larger than ` +
        `${JSON_LIMITS.nodes} values (at ${path})`,
      { field: walk.field, path },
    )
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!
    if (++walk.jsonNodes > JSON_LIMITS.nodes || depth > JSON_LIMITS.depth) throw tooBig()
    if (typeof v === 'string') checkString(v, path, JSON_LIMITS.string, walk)
    else if (Array.isArray(v)) {
      if (v.length > JSON_LIMITS.nodes) throw tooBig()
      for (const item of v) stack.push({ v: item, depth: depth + 1 })
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v)
      if (entries.length > JSON_LIMITS.nodes) throw tooBig()
      for (const [key, item] of entries) {
        checkString(key, path, JSON_LIMITS.string, walk)
        stack.push({ v: item, depth: depth + 1 })
      }
    }
  }
}

/**
 * Whether a value of `type` has anything for {@link checkValue} to check: a list of 100,000 Floats (predict's
 * rows) holds nothing, and walking it cost more than the query it came with.
 */
function holdsChecks(type: GraphQLInputType, key: string): boolean {
  if (isNonNullType(type)) return holdsChecks(type.ofType, key)
  if (isListType(type)) return LIST_LIMITS[key] !== undefined || holdsChecks(type.ofType, key)
  if (isInputObjectType(type)) return true
  return isScalarType(type) && CHECKED_SCALARS.has(type.name)
}

/** The scalars {@link checkValue} looks into. */
const CHECKED_SCALARS = new Set(['String', 'ID', 'JSON'])

function checkValue(type: GraphQLInputType, value: unknown, path: string, key: string, walk: Walk): void {
  if (value == null) return
  if (isNonNullType(type)) return checkValue(type.ofType, value, path, key, walk)
  if (isListType(type)) {
    if (!Array.isArray(value)) return checkValue(type.ofType, value, path, key, walk)
    const max = LIST_LIMITS[key]
    if (max !== undefined && value.length > max) {
      throw badInput(`${walk.field || path} has ${value.length} items; at most ${max} (at ${path})`, {
        field: walk.field || path,
        path,
      })
    }
    if (!holdsChecks(type.ofType, key)) return
    value.forEach((item, i) => checkValue(type.ofType, item, `${path}[${i}]`, key, walk))
    return
  }
  if (isInputObjectType(type)) {
    const fields = type.getFields()
    const record = value as Record<string, unknown>
    for (const name of Object.keys(fields)) {
      const inner = walk.field === '' ? { ...walk, field: name } : walk
      checkValue(fields[name]!.type, record[name], `${path}.${name}`, `${type.name}.${name}`, inner)
      if (inner !== walk) walk.jsonNodes = inner.jsonNodes
    }
    return
  }
  if (isEnumType(type) || !isScalarType(type)) return
  if (type.name === 'String')
    checkString(value as string, path, STRING_LIMITS[key] ?? DEFAULT_MAX_STRING, walk)
  else if (type.name === 'ID') checkString(String(value), path, STRING_LIMITS[key] ?? MAX_ID_LENGTH, walk)
  else if (type.name === 'JSON') checkJson(value, path, walk)
}

/** Checks the arguments of one field; throws BAD_USER_INPUT naming the first bad one. */
export function checkArguments(
  owner: string,
  defs: readonly GraphQLArgument[],
  args: Record<string, unknown>,
): void {
  for (const def of defs) {
    // Inside an `input` argument, the field services name is the input field (`tags`, `name` ...).
    const walk: Walk = { field: isInputObjectType(unwrap(def.type)) ? '' : def.name, jsonNodes: 0 }
    checkValue(def.type, args[def.name], def.name, `${owner}(${def.name})`, walk)
  }
}

function unwrap(type: GraphQLInputType): GraphQLInputType {
  return isNonNullType(type) || isListType(type) ? unwrap(type.ofType) : type
}

/**
 * Puts {@link checkArguments} in front of every field that takes arguments (queries, mutations,
 * subscriptions and fields such as `Run.metricHistory`). Fields without arguments are left as they
 * are, so the check costs nothing on the large lists of a response.
 */
export function guardArguments(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue
      const owner = `${type.name}.${field.name}`
      const resolve = field.resolve ?? defaultFieldResolver
      field.resolve = (root, args: Record<string, unknown>, ctx, info) => {
        checkArguments(owner, field.args, args)
        return resolve(root, args, ctx, info)
      }
      const subscribe = field.subscribe
      if (subscribe) {
        field.subscribe = (root, args: Record<string, unknown>, ctx, info) => {
          checkArguments(owner, field.args, args)
          return subscribe(root, args, ctx, info)
        }
      }
    }
  }
  return schema
}
