/**
 * A JSON request body parsed on a query thread (src/server/off-loop-body.ts hands large ones over), with the
 * numeric matrices it may pack packed (src/modules/common/packed-rows.ts). No express here: the thread loads
 * only graphql-js's parser.
 */
import { DocumentNode, Kind, OperationDefinitionNode, parse, TypeNode, visit } from 'graphql'
import {
  NO_PACKED_VARIABLES,
  PACKABLE_ARGUMENTS,
  packMatrix,
  type PackedRows,
  type PackedVariables,
} from '../modules/common/packed-rows'

/** A query document longer than this is not looked into for packable variables (a predict query is short). */
const MAX_PACKING_QUERY_CHARS = 10_000

/**
 * What a query thread makes of a body: the parsed JSON and its packed variables; the text again when the JSON
 * nests deeper than a structured clone can carry back (the API parses it, as before, and the argument guard
 * refuses it); or a body that is not JSON.
 */
export type ParsedBody =
  | { kind: 'parsed'; body: unknown; packed: PackedVariables }
  | { kind: 'tooDeep'; text: string }
  | { kind: 'invalid' }

/**
 * Nesting the reply may hold: V8 clones recursively, so 100,000 nested lists overflow the thread's stack. The
 * argument guard refuses JSON values deeper than 8 anyway.
 */
export const MAX_CLONED_DEPTH = 1_000

/**
 * Parses a request body as express.json does (UTF-8 with its BOM dropped, an empty body is `{}`, only an
 * object or an array at the top), then packs the variables that only feed {@link PACKABLE_ARGUMENTS}; each
 * is replaced by an empty list. Runs on a query thread.
 */
export function parseJsonBody(bytes: Uint8Array): ParsedBody {
  const text = new TextDecoder('utf-8').decode(bytes)
  if (text.length === 0) return { kind: 'parsed', body: {}, packed: NO_PACKED_VARIABLES }
  const first = /[^ \t\n\r]/.exec(text)?.[0]
  if (first !== '{' && first !== '[') return { kind: 'invalid' }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return { kind: 'invalid' }
  }
  if (depthExceeds(body, MAX_CLONED_DEPTH)) return { kind: 'tooDeep', text }
  return { kind: 'parsed', ...packVariables(body) }
}

/** Whether `value` nests objects and lists more than `max` levels deep; without recursion. */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }]
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth >= max) return true
    for (const item of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof item === 'object' && item !== null) stack.push({ v: item, depth: depth + 1 })
    }
  }
  return false
}

function packVariables(body: unknown): { body: unknown; packed: PackedVariables } {
  const unchanged = { body, packed: NO_PACKED_VARIABLES }
  if (!isRecord(body) || !isRecord(body['variables'])) return unchanged
  const { query, variables } = body
  if (typeof query !== 'string' || query.length > MAX_PACKING_QUERY_CHARS) return unchanged
  let document: DocumentNode
  try {
    document = parse(query)
  } catch {
    // Apollo reports the syntax error to the client.
    return unchanged
  }
  const packed: Record<string, PackedRows> = {}
  const rest: Record<string, unknown> = { ...variables }
  for (const name of packableVariables(document)) {
    const rows = packMatrix(variables[name])
    if (!rows) continue
    packed[name] = rows
    rest[name] = []
  }
  if (Object.keys(packed).length === 0) return unchanged
  return { body: { ...body, variables: rest }, packed }
}

/**
 * Variables of the document's only operation declared as lists of lists of Float and referenced nowhere but
 * as a {@link PACKABLE_ARGUMENTS} argument. A document with several operations is left as it is.
 */
function packableVariables(document: DocumentNode): string[] {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )
  if (operations.length !== 1) return []
  const references = new Map<string, number>()
  const packable = new Map<string, number>()
  const count = (counts: Map<string, number>, name: string) => counts.set(name, (counts.get(name) ?? 0) + 1)
  visit(document, {
    // The definition's own `$name` is not a reference.
    VariableDefinition: () => false,
    Variable: (node) => void count(references, node.name.value),
    Field: (node) => {
      for (const arg of node.arguments ?? []) {
        if (
          arg.value.kind === Kind.VARIABLE &&
          PACKABLE_ARGUMENTS.has(`${node.name.value}(${arg.name.value})`)
        )
          count(packable, arg.value.name.value)
      }
    },
  })
  return (operations[0]!.variableDefinitions ?? [])
    .filter((d) => isFloatMatrixType(d.type))
    .map((d) => d.variable.name.value)
    .filter((name) => (references.get(name) ?? 0) > 0 && references.get(name) === packable.get(name))
}

function isFloatMatrixType(type: TypeNode): boolean {
  const list = (t: TypeNode) => (t.kind === Kind.NON_NULL_TYPE ? t.type : t)
  const outer = list(type)
  if (outer.kind !== Kind.LIST_TYPE) return false
  const inner = list(outer.type)
  if (inner.kind !== Kind.LIST_TYPE) return false
  const item = list(inner.type)
  return item.kind === Kind.NAMED_TYPE && item.name.value === 'Float'
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
