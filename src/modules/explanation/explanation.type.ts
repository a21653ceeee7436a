import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { ExplanationMethod, NextCharacterSurrogateKind } from '../../explain/types'
import { TokenAttributionMethod } from '../../explain/token-attribution'
// Registers TokenAttributionMethod as a GraphQL enum (DistanceProfile.method uses it).
import '../generation/generation.type'

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
    LATENT_TRAVERSAL: {
      description:
        'VAE: decode(z0 + t e_k) for t on a grid over [-3, 3], z0 = 0 and posterior means of held-out rows.',
    },
    LATENT_SENSITIVITY: {
      description:
        'VAE: decoder Jacobian d x_hat_j / d z_k over posterior samples (signed mean, mean |.|), and IG from z = 0.',
    },
    GENERATOR_SURROGATE: {
      description:
        'VAE: least squares x_hat_j = b0 + sum_k b_k z_k over decoded prior samples, R^2 per feature.',
    },
    ENCODER_ATTRIBUTION: {
      description: "VAE: mean |IG| of each latent's posterior mean with respect to each input feature.",
    },
    ACTIVE_UNITS: {
      description: 'VAE: KL per latent over held-out rows; under 0.01 nats a latent is inactive.',
    },
    DISENTANGLEMENT: { description: 'VAE on a dataset with known factors: MIG, SAP and DCI.' },
    SAMPLE_FIDELITY: {
      description:
        'VAE: Kolmogorov-Smirnov complement per feature and correlation similarity, samples vs held-out rows.',
    },
    DISTANCE_PROFILE: {
      description:
        'SEQUENCE: how far back the model looks - mean |attribution| of log p(next character) by distance ' +
        'back, over 48 held-out windows, for every TokenAttributionMethod (with reduced steps and samples).',
    },
    NEXT_CHARACTER_SURROGATE: {
      description:
        "SEQUENCE: interpretability models fitted to the generator's next-character distributions (a " +
        'softmax-linear model of the one-hot window, n-grams of orders 1-3), with their held-out fidelity.',
    },
    GENERATED_SAMPLES: {
      description:
        'SEQUENCE: greedy and temperature-1 continuations of 3 held-out prompts, with the text that followed.',
    },
  },
})

registerEnumType(NextCharacterSurrogateKind, {
  name: 'NextCharacterSurrogateKind',
  valuesConfig: {
    SOFTMAX_LINEAR: {
      description:
        'Multinomial logistic regression softmax(b + W onehot(window)), fitted by Adam (with a small L2 ' +
        "penalty) to minimise the cross-entropy to the generator's distributions.",
    },
    NGRAM: {
      description:
        'The mean generator distribution after the same order - 1 characters (soft counts over the fitting ' +
        'windows), backing off to shorter contexts never fitted.',
    },
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

  @Field(() => Int, {
    nullable: true,
    description:
      'Epochs trained: training stops once its fidelity stops improving. Null for explanations stored before it.',
  })
  epochs?: number | null
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

  @Field(() => Number, {
    nullable: true,
    description:
      'Largest standard error of one attribution over the explained rows: sampled Shapley values report their ' +
      'sampling error (0 when enumerated exactly); null for methods without one and for explanations stored before it.',
  })
  maxStdError?: number | null

  @Field(() => Int, {
    nullable: true,
    description:
      'Integrated Gradients: the most gradient points one row used (the path is refined until the completeness gap ' +
      'meets its tolerance); sampled Shapley: the most permutations one row used. Null when not applicable.',
  })
  maxSteps?: number | null

  @Field(() => Number, {
    nullable: true,
    description: 'The steps one row used, averaged over the explained rows.',
  })
  meanSteps?: number | null
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

@ObjectType({ description: 'Decoded outputs along one latent axis from one origin.' })
export class LatentTraversal {
  @Field(() => Int)
  latent!: number

  @Field(() => Int, {
    nullable: true,
    description: 'The dataset row whose posterior mean is the origin; null: the origin is z = 0.',
  })
  rowIndex!: number | null

  @Field(() => [Number])
  origin!: number[]

  @Field(() => [Number], { description: 'The offsets t added to the latent.' })
  grid!: number[]

  @Field(() => [[Number]], { description: 'outputs[g]: the decoded row at grid[g], in the dataset units.' })
  outputs!: number[][]
}

@ObjectType()
export class LatentSensitivity {
  @Field(() => Int)
  latent!: number

  @Field(() => String)
  feature!: string

  @Field(() => Number, { description: 'Signed mean of d x_hat / d z over posterior samples.' })
  value!: number

  @Field(() => Number, { description: 'Mean |d x_hat / d z|.' })
  meanAbs!: number
}

@ObjectType({
  description: 'The founding formula on the generator: x_hat = intercept + sum_k weights[k] z_k.',
})
export class GeneratorSurrogate {
  @Field(() => String)
  feature!: string

  @Field(() => Number)
  intercept!: number

  @Field(() => [Number], { description: "weights[k] is latent k's." })
  weights!: number[]

  @Field(() => Number, { description: '1 - SSE/SST over the prior draws.' })
  fidelityR2!: number
}

@ObjectType()
export class LatentFeatureValue {
  @Field(() => Int)
  latent!: number

  @Field(() => String)
  feature!: string

  @Field(() => Number)
  value!: number
}

@ObjectType()
export class ActiveUnit {
  @Field(() => Int)
  latent!: number

  @Field(() => Number, { description: 'Mean KL(q(z_k|x) || N(0, 1)) over held-out rows, in nats.' })
  kl!: number

  @Field(() => Number, { description: "Burda et al.'s Cov_x(E_q[z_k]) (active when above 0.01)." })
  variance!: number

  @Field(() => Boolean, { description: 'kl >= 0.01 nats; an inactive latent has collapsed to the prior.' })
  active!: boolean
}

@ObjectType()
export class FactorDisentanglement {
  @Field(() => String)
  factor!: string

  @Field(() => Number)
  mig!: number

  @Field(() => Number)
  sap!: number

  @Field(() => Number, { description: 'DCI completeness of this factor.' })
  completeness!: number

  @Field(() => Number, { description: "Held-out score of the importance model's prediction of this factor." })
  informativeness!: number
}

@ObjectType()
export class LatentDisentanglement {
  @Field(() => Int)
  latent!: number

  @Field(() => Number, { description: 'DCI disentanglement D_k of this latent.' })
  disentanglement!: number

  @Field(() => Number, { description: "The latent's share of all importance (its weight in D)." })
  weight!: number
}

@ObjectType()
export class FactorImportance {
  @Field(() => Int)
  latent!: number

  @Field(() => String)
  factor!: string

  @Field(() => Number)
  value!: number
}

@ObjectType({ description: 'How well the latents recover the known generative factors (held-out rows).' })
export class Disentanglement {
  @Field(() => Number, { description: 'Mutual information gap (Chen et al. 2018), 20-bin histograms.' })
  mig!: number

  @Field(() => Number, { description: 'Separated attribute predictability (Kumar et al. 2018).' })
  sap!: number

  @Field(() => Number)
  dciDisentanglement!: number

  @Field(() => Number)
  dciCompleteness!: number

  @Field(() => Number)
  dciInformativeness!: number

  @Field(() => String, { description: 'The model that gave the DCI importances and informativeness.' })
  importanceModel!: string

  @Field(() => [FactorDisentanglement])
  factors!: FactorDisentanglement[]

  @Field(() => [LatentDisentanglement])
  latents!: LatentDisentanglement[]

  @Field(() => [FactorImportance])
  importance!: FactorImportance[]

  @Field(() => Int)
  rows!: number
}

@ObjectType()
export class FeatureFidelity {
  @Field(() => String)
  feature!: string

  @Field(() => Number, { description: '1 - the two-sample Kolmogorov-Smirnov statistic.' })
  ksComplement!: number
}

@ObjectType({ description: "How real generated rows look, in SDMetrics' terms: samples vs held-out rows." })
export class SampleFidelity {
  @Field(() => Number, { description: 'Mean KSComplement over features.' })
  ksComplement!: number

  @Field(() => Number, {
    nullable: true,
    description: 'Mean of 1 - |rho_samples - rho_data| / 2 over feature pairs (constant columns skipped).',
  })
  correlationSimilarity!: number | null

  @Field(() => [FeatureFidelity])
  features!: FeatureFidelity[]

  @Field(() => Int)
  samples!: number
}

@ObjectType({
  description:
    'How far back a text generator looks, by one attribution method: the target is the log-probability of the ' +
    'real next character of each window.',
})
export class DistanceProfile {
  @Field(() => TokenAttributionMethod)
  method!: TokenAttributionMethod

  @Field(() => [Int], {
    description: 'Distances back from the predicted character: 1 is the character just before it.',
  })
  distances!: number[]

  @Field(() => [Number], { description: 'Mean |attribution| at each of `distances`, over the windows.' })
  meanAbsAttribution!: number[]

  @Field(() => Int, { description: 'The distance of the largest mean |attribution|.' })
  peakDistance!: number

  @Field(() => Number, {
    nullable: true,
    description:
      "(mean |attribution| at the peak - the next largest distance's) / the standard error of that difference " +
      'over the windows. Windows are added in rounds until every method reaches 3 (or the windows run out), so ' +
      'a smaller value says the peak is not clear. Null when there is no spread to measure it by, and on ' +
      'explanations stored before it existed.',
  })
  peakSeparation!: number | null

  @Field(() => Number, {
    description: 'Share of windows whose own largest |attribution| is at peakDistance.',
  })
  peakShare!: number

  @Field(() => Int, {
    description: 'Held-out windows explained (training windows when the run held none out).',
  })
  windows!: number

  @Field(() => Number, {
    description:
      '|sum of attributions - (log p(y | context) - log p(y | all-baseline context))|, mean over the windows: ' +
      'completeness (IG), efficiency (Shapley), additivity (occlusion, the surrogate).',
  })
  meanGap!: number

  @Field(() => Number)
  maxGap!: number

  @Field(() => Number, { description: 'Wall time of this method over the windows.' })
  ms!: number

  @Field(() => Int, { description: 'Rows through the generator, forward or gradient.' })
  evaluations!: number
}

@ObjectType({
  description:
    "A simple model fitted to a text generator's next-character distributions on training windows, and how " +
    'faithfully it reproduces them on held-out windows.',
})
export class NextCharacterSurrogate {
  @Field(() => NextCharacterSurrogateKind)
  kind!: NextCharacterSurrogateKind

  @Field(() => Int, { nullable: true, description: 'NGRAM: n (it reads the previous n - 1 characters).' })
  order!: number | null

  @Field(() => Int, { description: 'How many of the last context characters the surrogate reads.' })
  contextPositions!: number

  @Field(() => Number, {
    description:
      "Share of evaluation windows where the surrogate's most likely character is the generator's.",
  })
  top1Agreement!: number

  @Field(() => Number, {
    description: 'Mean KL(generator || surrogate) over the evaluation windows, in nats.',
  })
  meanKl!: number

  @Field(() => Int)
  fittedWindows!: number

  @Field(() => Int, {
    description: 'Held-out windows the fidelity is measured on (unseen training windows without a holdout).',
  })
  evaluationWindows!: number

  @Field(() => [Number], {
    nullable: true,
    description:
      'SOFTMAX_LINEAR: at distance index + 1, the mean over input characters of their largest |weight| to any ' +
      'output (centred over the outputs) - how far back the surrogate, and so the generator, looks.',
  })
  weightByDistance!: number[] | null

  @Field(() => Number, {
    nullable: true,
    description:
      'NGRAM: share of evaluation windows whose context was never fitted at this order (backed off).',
  })
  backoffShare!: number | null
}

@ObjectType({ description: 'A continuation of a held-out prompt by the trained text generator.' })
export class TextSample {
  @Field(() => String)
  prompt!: string

  @Field(() => String, { description: 'The generated characters (the prompt not included).' })
  text!: string

  @Field(() => String, { description: 'What really followed the prompt in the held-out text.' })
  reference!: string

  @Field(() => Number, { description: '0: greedy.' })
  temperature!: number

  @Field(() => Int)
  seed!: number

  @Field(() => Number, {
    description: 'Mean probability the model gave each generated character (temperature 1).',
  })
  meanProbability!: number

  @Field(() => Number, { description: 'Mean entropy of the next-character distributions, in nats.' })
  meanEntropy!: number
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

  @Field(() => [LatentTraversal], { description: 'VAE: LATENT_TRAVERSAL.' })
  latentTraversals!: LatentTraversal[]

  @Field(() => [LatentSensitivity], { description: 'VAE: LATENT_SENSITIVITY, in the dataset units.' })
  latentSensitivity!: LatentSensitivity[]

  @Field(() => [GeneratorSurrogate], { description: 'VAE: GENERATOR_SURROGATE, one per generated feature.' })
  generatorSurrogate!: GeneratorSurrogate[]

  @Field(() => Number, {
    nullable: true,
    description: 'VAE: R^2 of the generator surrogate over all features (1 - sum SSE / sum SST).',
  })
  generatorSurrogateR2!: number | null

  @Field(() => [LatentFeatureValue], { description: 'VAE: ENCODER_ATTRIBUTION, what each latent reads.' })
  encoderAttribution!: LatentFeatureValue[]

  @Field(() => [ActiveUnit], { description: 'VAE: ACTIVE_UNITS.' })
  activeUnits!: ActiveUnit[]

  @Field(() => Disentanglement, { nullable: true, description: 'VAE on a dataset with factors.' })
  disentanglement!: Disentanglement | null

  @Field(() => SampleFidelity, { nullable: true, description: 'VAE: SAMPLE_FIDELITY.' })
  sampleFidelity!: SampleFidelity | null

  @Field(() => [DistanceProfile], {
    nullable: true,
    description: 'SEQUENCE: DISTANCE_PROFILE, one per TokenAttributionMethod; null when not computed.',
  })
  distanceProfile!: DistanceProfile[] | null

  @Field(() => [NextCharacterSurrogate], {
    nullable: true,
    description:
      'SEQUENCE: NEXT_CHARACTER_SURROGATE, the softmax-linear one then n-grams by order; null when not computed.',
  })
  nextCharacterSurrogates!: NextCharacterSurrogate[] | null

  @Field(() => [TextSample], {
    nullable: true,
    description:
      'SEQUENCE: GENERATED_SAMPLES, a greedy then a sampled continuation per prompt; null when not computed.',
  })
  textSamples!: TextSample[] | null

  @Field(() => Number)
  computeMs!: number

  @Field(() => [MethodCost], { description: 'Time and model evaluations per method.' })
  cost!: MethodCost[]

  @Field(() => Int, {
    description:
      'Held-out rows the global explanations used (SEQUENCE: held-out windows, next-character surrogates).',
  })
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
