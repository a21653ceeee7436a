import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { ExplanationMethod } from '../../explain/types'

registerEnumType(ExplanationMethod, {
  name: 'ExplanationMethod',
  valuesConfig: {
    LINEAR_SURROGATE: {
      description: 'Least-squares y = b0 + sum(bi xi) fitted to the model outputs (logit).',
    },
    SURROGATE_NETWORK: {
      description: 'A smaller network trained to reproduce the model (the interpretability model).',
    },
    PERMUTATION_IMPORTANCE: { description: 'Loss increase when one feature is shuffled (5 seeded repeats).' },
    INTEGRATED_GRADIENTS: { description: 'Path integral of gradients from the baseline (training mean).' },
    SHAPLEY: { description: 'Interventional Shapley values: exact up to 12 features, KernelSHAP above.' },
    PARTIAL_DEPENDENCE: { description: 'Mean model output over a 20-point grid per feature.' },
  },
})

@ObjectType()
export class FeatureWeight {
  @Field(() => String)
  feature!: string

  @Field(() => Number)
  weight!: number

  @Field(() => Number, { description: 'weight x sd(feature).' })
  standardizedWeight!: number
}

@ObjectType()
export class LinearSurrogate {
  @Field(() => Number)
  intercept!: number

  @Field(() => [FeatureWeight])
  coefficients!: FeatureWeight[]

  @Field(() => Number, {
    description: '1 - SSE/SST against the model outputs on held-out rows; can be negative.',
  })
  fidelityR2!: number
}

@ObjectType()
export class SurrogateNetwork {
  @Field(() => [Int])
  hiddenLayers!: number[]

  @Field(() => Number)
  fidelityR2!: number

  @Field(() => Number, { nullable: true, description: 'Classification: share of rows given the same class.' })
  agreement!: number | null
}

@ObjectType()
export class FeatureImportance {
  @Field(() => ExplanationMethod)
  method!: ExplanationMethod

  @Field(() => String)
  feature!: string

  @Field(() => Number)
  importance!: number

  @Field(() => Number, { nullable: true })
  std!: number | null
}

@ObjectType()
export class PartialDependence {
  @Field(() => String)
  feature!: string

  @Field(() => [Number])
  grid!: number[]

  @Field(() => [Number])
  values!: number[]
}

@ObjectType({ description: 'Completeness (Integrated Gradients) or efficiency (Shapley) gaps.' })
export class MethodCheck {
  @Field(() => ExplanationMethod)
  method!: ExplanationMethod

  @Field(() => Number)
  maxGap!: number

  @Field(() => Number)
  meanGap!: number
}

@ObjectType()
export class MethodCost {
  @Field(() => ExplanationMethod)
  method!: ExplanationMethod

  @Field(() => Number)
  ms!: number

  @Field(() => Int, { description: 'Model evaluations (rows through the network, forward or gradient).' })
  evaluations!: number
}

@ObjectType()
export class Explanation {
  @Field(() => [ExplanationMethod])
  methods!: ExplanationMethod[]

  @Field(() => LinearSurrogate, { nullable: true })
  linearSurrogate!: LinearSurrogate | null

  @Field(() => SurrogateNetwork, { nullable: true })
  surrogateNetwork!: SurrogateNetwork | null

  @Field(() => [FeatureImportance], {
    description: 'One entry per (method, feature) for the global methods.',
  })
  featureImportance!: FeatureImportance[]

  @Field(() => [PartialDependence])
  partialDependence!: PartialDependence[]

  @Field(() => [MethodCheck])
  checks!: MethodCheck[]

  @Field(() => Number)
  computeMs!: number

  @Field(() => [MethodCost], { description: 'Time and model evaluations per method.' })
  cost!: MethodCost[]

  @Field(() => Int, { description: 'Held-out rows the global explanations used.' })
  evaluationRows!: number

  @Field(() => Date)
  createdAt!: Date
}

@ObjectType()
export class Attribution {
  @Field(() => ExplanationMethod)
  method!: ExplanationMethod

  @Field(() => String)
  feature!: string

  @Field(() => Number)
  value!: number
}

@ObjectType()
export class InstanceExplanation {
  @Field(() => Number, { description: 'The explained output for the row: the logit for classification.' })
  prediction!: number

  @Field(() => Number, { description: 'The explained output at the baseline.' })
  baselinePrediction!: number

  @Field(() => [Attribution])
  attributions!: Attribution[]

  @Field(() => [MethodCheck])
  checks!: MethodCheck[]
}

@ObjectType()
export class ExplanationReady {
  @Field(() => ID)
  runId!: string

  @Field(() => Explanation)
  explanation!: Explanation
}
