import { registerEnumType } from 'type-graphql'
import { TokenAttributionMethod } from '../../explain/token-attribution'

// The explainGeneration query registers this enum too (src/modules/generation/): exactly one registration
// may stay when both are on one branch, or the schema has two types of one name.
registerEnumType(TokenAttributionMethod, {
  name: 'TokenAttributionMethod',
  description:
    "How a generated character's log-probability is attributed to the characters of its context. A context " +
    'position "at the baseline" is an all-zero one-hot row (no character).',
})

export { TokenAttributionMethod }
