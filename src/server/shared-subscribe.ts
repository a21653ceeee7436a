import {
  ASTNode,
  createSourceEventStream,
  DocumentNode,
  execute,
  ExecutionArgs,
  ExecutionResult,
  getOperationAST,
  Kind,
  OperationDefinitionNode,
  print,
  visit,
} from 'graphql'
import { mapAsyncIterator } from 'graphql/execution/mapAsyncIterator'
import type { Principal } from '../modules/apikey/apikey.scope'

type Result = ExecutionResult | Promise<ExecutionResult>

/** Events whose executions may be shared, and their executions by {@link selectionKey}. */
const executions = new WeakMap<object, Map<string, Result>>()

/**
 * Marks an event as the same for every subscriber it is pushed to (one object per event, never changed),
 * so that {@link sharedSubscribe} executes each selection of it once rather than once per subscriber.
 * Events not marked are executed for each subscriber, as graphql's `subscribe` does.
 */
export function shareEvent<T extends object>(event: T): T {
  if (!executions.has(event)) executions.set(event, new Map())
  return event
}

/**
 * graphql's `subscribe`, except that the subscribers of one {@link shareEvent shared} event that ask for
 * the same selection share its execution result: with 100 subscribers of a run, an epoch is executed (its
 * variables coerced, its fields resolved and completed) once per selection instead of 100 times.
 *
 * The source stream is still each subscriber's own (the root field's `subscribe` with its arguments, after
 * that subscriber's authorization). Two subscribers share an event's result only when everything it can
 * depend on is equal: the document, the operation, the values of the variables used below the root field,
 * and the scope fields are authorized with. The root field's own arguments are left out: they choose the
 * source stream, and every root resolver of a subscription here returns its event unchanged (see the
 * `@Subscription`s in src/modules).
 */
export async function sharedSubscribe(
  args: ExecutionArgs,
): Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult> {
  const stream = await createSourceEventStream(args)
  if (!isAsyncIterable(stream)) return stream
  const key = selectionKey(args)
  return mapAsyncIterator(stream, (event: unknown) => {
    const shared = typeof event === 'object' && event !== null ? executions.get(event) : undefined
    if (!shared || key === undefined) return execute({ ...args, rootValue: event })
    let result = shared.get(key)
    if (result === undefined) {
      result = execute({ ...args, rootValue: event })
      shared.set(key, result)
    }
    return result
  })
}

function isAsyncIterable(value: object): value is AsyncIterable<unknown> {
  return typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
}

const printed = new WeakMap<DocumentNode, string>()

/** What an event's execution depends on besides the event; undefined when that cannot be told. */
function selectionKey(args: ExecutionArgs): string | undefined {
  const operation = getOperationAST(args.document, args.operationName)
  if (!operation) return undefined
  let text = printed.get(args.document)
  if (text === undefined) printed.set(args.document, (text = print(args.document)))
  const variables = args.variableValues ?? {}
  // Absent and null differ (an absent variable takes its default).
  const used = variablesBelowRoot(args.document, operation).map((name) =>
    name in variables ? [name, variables[name]] : [name],
  )
  return JSON.stringify([text, operation.name?.value ?? null, used, scopeOf(args.contextValue)])
}

/** The principal's say in field authorization (`@Authorized` checks its kind and scope, nothing else). */
function scopeOf(contextValue: unknown): string {
  const principal = (contextValue as { principal?: Principal } | undefined)?.principal
  if (!principal) return 'none'
  return principal.kind === 'open' ? 'open' : `key:${principal.scope}`
}

/**
 * The variables an operation uses anywhere but in the arguments of its root fields (those pick the event
 * stream, not what is selected of each event), sorted. Root fields reached through fragments keep their
 * arguments in: leaving one too many in only shares less.
 */
export function variablesBelowRoot(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const names = new Set<string>()
  const collect = (node: ASTNode) =>
    visit(node, {
      Variable: (variable) => {
        names.add(variable.name.value)
      },
    })
  for (const directive of operation.directives ?? []) collect(directive)
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) {
      collect(selection)
      continue
    }
    for (const directive of selection.directives ?? []) collect(directive)
    if (selection.selectionSet) collect(selection.selectionSet)
  }
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) collect(definition)
  }
  return [...names].sort()
}
