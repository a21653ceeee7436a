import {
  ASTNode,
  FragmentDefinitionNode,
  GraphQLError,
  Kind,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql'

/**
 * Rejects operations nested deeper than `maxDepth` fields (fragments followed), so one request
 * cannot ask for an arbitrarily deep tree.
 */
export function depthLimit(maxDepth: number): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>()
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def)
    }
    const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0
      let max = 0
      for (const sel of set.selections) {
        let d = 0
        if (sel.kind === Kind.FIELD) {
          d = sel.name.value.startsWith('__') ? 0 : 1 + depthOf(sel.selectionSet, seen)
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          d = depthOf(sel.selectionSet, seen)
        } else {
          const name = sel.name.value
          const frag = fragments.get(name)
          if (frag && !seen.has(name)) d = depthOf(frag.selectionSet, new Set(seen).add(name))
        }
        if (d > max) max = d
      }
      return max
    }
    return {
      OperationDefinition(node: ASTNode) {
        if (node.kind !== Kind.OPERATION_DEFINITION) return
        const depth = depthOf(node.selectionSet, new Set())
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`query depth ${depth} exceeds the limit of ${maxDepth}`, {
              nodes: [node],
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            }),
          )
        }
      },
    }
  }
}
