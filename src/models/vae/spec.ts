/** The VAE family's hyperparameters, defaults and metric names. No TensorFlow.js here. */
import { badInput } from '../../errors'
import type { CommonSpec } from '../common/spec'
import type { DatasetShape, FamilyArgs } from '../family'
import { Likelihood } from '../family.enums'

export const VAE_DEFAULTS = { latentDim: 4, beta: 1 } as const
export const VAE_LIMITS = { minLatentDim: 1, maxLatentDim: 64, maxBeta: 1000 } as const

/** Everything one VAE training needs besides the rows. */
export interface VaeSpec extends CommonSpec {
  latentDim: number
  beta: number
  likelihood: Likelihood
}

/** Checks the VAE part of a request and fills in its defaults (BERNOULLI for images, else GAUSSIAN). */
export function prepareVae(
  args: FamilyArgs,
  dataset: DatasetShape,
): { latentDim: number; beta: number; likelihood: Likelihood } {
  const latentDim = args.latentDim ?? VAE_DEFAULTS.latentDim
  if (
    !Number.isInteger(latentDim) ||
    latentDim < VAE_LIMITS.minLatentDim ||
    latentDim > VAE_LIMITS.maxLatentDim
  ) {
    throw badInput(
      `latentDim is ${latentDim}; it must be an integer from ${VAE_LIMITS.minLatentDim} to ${VAE_LIMITS.maxLatentDim}`,
      { field: 'latentDim' },
    )
  }
  const beta = args.beta ?? VAE_DEFAULTS.beta
  if (!Number.isFinite(beta) || beta <= 0 || beta > VAE_LIMITS.maxBeta) {
    throw badInput(`beta is ${beta}; it must be above 0 and at most ${VAE_LIMITS.maxBeta}`, { field: 'beta' })
  }
  const likelihood = args.likelihood ?? (dataset.imageShape ? Likelihood.BERNOULLI : Likelihood.GAUSSIAN)
  if (!Object.values(Likelihood).includes(likelihood)) {
    throw badInput(`unknown likelihood ${String(likelihood)}`, { field: 'likelihood' })
  }
  if (likelihood === Likelihood.BERNOULLI) {
    const outside = dataset.featureStats.findIndex((s) => s.min < 0 || s.max > 1)
    if (outside >= 0) {
      throw badInput(
        `a BERNOULLI likelihood needs every feature in [0, 1]; feature ${outside + 1} spans ` +
          `[${dataset.featureStats[outside]!.min}, ${dataset.featureStats[outside]!.max}] (use GAUSSIAN)`,
        { field: 'likelihood' },
      )
    }
  }
  return { latentDim, beta, likelihood }
}

/** Metrics of a VAE epoch, in the order they are reported. */
export function vaeMetricNames(spec: { latentDim: number | null; validationSplit: number }): string[] {
  const k = spec.latentDim ?? VAE_DEFAULTS.latentDim
  return [
    'loss',
    'reconstruction',
    'kl',
    ...(spec.validationSplit > 0 ? ['valLoss', 'valReconstruction', 'valKl'] : []),
    ...Array.from({ length: k }, (_, j) => `kl_${j}`),
  ]
}
