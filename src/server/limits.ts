import { ApolloArmor } from '@escape.tech/graphql-armor'
import {
  ASTNode,
  DocumentNode,
  FragmentDefinitionNode,
  Kind,
  GraphQLError,
  GraphQLFormattedError,
  GraphQLSchema,
  parse,
  validate,
  ValidationContext,
  ValidationRule,
} from 'graphql'

/** What one GraphQL operation may ask for; the same limits hold over HTTP and over graphql-ws. */
export interface QueryLimits {
  /** Fields nested below the root, fragments followed (a spread adds no level, its fields do). */
  maxDepth: number
  /** The same for introspection (`__schema`): the explorer's own query is 15 deep. */
  maxIntrospectionDepth: number
  maxAliases: number
  /** Lexical tokens of the document, counted while parsing: a huge document is refused unread. */
  maxTokens: number
  /** graphql-armor's cost: objects 2, scalars 1, x1.5 per level, x `first` on a list. */
  maxCost: number
  /** Off: `__schema` and `__type` are refused (Apollo's own rule over HTTP, graphql-js's over graphql-ws). */
  introspection: boolean
}

/**
 * Parses (with the token limit) and validates one operation as Apollo does over HTTP, for
 * graphql-ws: syntax errors answer GRAPHQL_PARSE_FAILED, rule violations GRAPHQL_VALIDATION_FAILED.
 */
export function parseAndValidate(
  schema: GraphQLSchema,
  query: string,
  rules: readonly ValidationRule[],
  limits: Pick<QueryLimits, 'maxTokens'>,
): { document: DocumentNode } | { errors: GraphQLError[] } {
  let document: DocumentNode
  try {
    document = parse(query, { maxTokens: limits.maxTokens })
  } catch (err) {
    if (!(err instanceof GraphQLError)) throw err
    return { errors: [new GraphQLError(err.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] }
  }
  const errors = validate(schema, document, rules)
  if (errors.length === 0) return { document }
  return {
    errors: errors.map(
      (e) =>
        new GraphQLError(e.message, {
          ...(e.nodes ? { nodes: e.nodes } : {}),
          extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
    ),
  }
}

// armor reports "Syntax Error: ..." with BAD_USER_INPUT; these are validation failures, reported as such.
const reportValidation = (ctx: ValidationContext | null, err: GraphQLError) => {
  ctx?.reportError(
    new GraphQLError(err.message.replace(/^Syntax Error: /, ''), {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    }),
  )
}

const armorRules = (config: ConstructorParameters<typeof ApolloArmor>[0]): ValidationRule[] =>
  new ApolloArmor({
    blockFieldSuggestion: { enabled: false },
    maxTokens: { enabled: false },
    maxDirectives: { enabled: false },
    maxAliases: { enabled: false },
    costLimit: { enabled: false },
    maxDepth: { enabled: false },
    ...config,
  }).protect().validationRules

const callbacks = { propagateOnRejection: false, onReject: [reportValidation] }

/**
 * Validation rules added to graphql-js's own. graphql-armor's visitors memoise fragments, so a
 * fragment that spreads the next one twice costs linear, not exponential, time.
 */
export function limitRules(limits: QueryLimits): ValidationRule[] {
  return [
    aliasLimit(limits.maxAliases),
    ...armorRules({
      maxDepth: { n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true, ...callbacks },
      maxDirectives: { n: 50, ...callbacks },
      costLimit: { maxCost: limits.maxCost, ...callbacks },
    }),
    // Introspection counted on its own, so the explorer's query fits and a deeper one does not.
    ...armorRules({
      maxDepth: {
        n: Math.max(limits.maxDepth, limits.maxIntrospectionDepth),
        flattenFragments: true,
        ignoreIntrospection: false,
        ...callbacks,
      },
    }),
  ]
}

/**
 * At most `max` aliased fields per operation, fragments followed (once per spread, each fragment counted once
 * and memoised). Our own rule: graphql-armor's skips `__typename`, so 1,000 aliases of it were answered.
 */
export function aliasLimit(max: number): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const d of context.getDocument().definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d)
    }
    const memo = new Map<string, number>()
    // A fragment cycle is reported by graphql-js's own rule; here it just counts as nothing more.
    const visiting = new Set<string>()
    const count = (node: ASTNode | undefined): number => {
      if (!node) return 0
      let total = 0
      const visit = (n: ASTNode) => {
        switch (n.kind) {
          case Kind.FIELD:
            if (n.alias) total++
            if (n.selectionSet) n.selectionSet.selections.forEach(visit)
            break
          case Kind.INLINE_FRAGMENT:
            n.selectionSet.selections.forEach(visit)
            break
          case Kind.FRAGMENT_SPREAD:
            total += fragmentCount(n.name.value)
            break
          default:
            if ('selectionSet' in n && n.selectionSet) n.selectionSet.selections.forEach(visit)
        }
      }
      visit(node)
      return total
    }
    const fragmentCount = (name: string): number => {
      const known = memo.get(name)
      if (known !== undefined) return known
      if (visiting.has(name)) return 0
      visiting.add(name)
      const n = count(fragments.get(name))
      visiting.delete(name)
      memo.set(name, n)
      return n
    }
    return {
      OperationDefinition(node) {
        const found = count(node)
        if (found > max) {
          context.reportError(
            new GraphQLError(`Aliases limit of ${max} exceeded, found ${found}.`, {
              nodes: [node],
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            }),
          )
        }
      },
    }
  }
}

const SUGGESTION = /\s*Did you mean .+\?/g

/** Echoed values are cut to this many characters (a 10 MB id must not come back as 20 MB). */
export const MAX_ECHO_CHARS = 500

/** `text` cut to at most `max` characters in all, the cut said at its end. */
export function boundText(text: string, max = MAX_ECHO_CHARS): string {
  if (text.length <= max) return text
  const said = (cut: number) => `... (${cut} more characters)`
  // The note for the whole length is the longest it can be: keeping that much room keeps the total in bounds.
  const kept = Math.max(0, max - said(text.length).length)
  return text.slice(0, kept) + said(text.length - kept)
}

/**
 * What a client sees of an error, bounded: messages and string extensions cut, and graphql-js's
 * "Did you mean" suggestions removed when introspection is off (they would leak the schema).
 */
export function boundFormattedError(
  error: GraphQLFormattedError,
  opts: { hideSuggestions: boolean },
): GraphQLFormattedError {
  const message = opts.hideSuggestions ? error.message.replace(SUGGESTION, '') : error.message
  const extensions = error.extensions
    ? Object.fromEntries(
        Object.entries(error.extensions).map(([k, v]) => [k, typeof v === 'string' ? boundText(v) : v]),
      )
    : undefined
  return {
    ...error,
    message: boundText(message, 2 * MAX_ECHO_CHARS),
    ...(extensions ? { extensions } : {}),
  }
}
