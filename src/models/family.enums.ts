/** Model-family vocabulary shared by the store, the API and the trainer (no GraphQL, no TensorFlow here). */

/** A model family; the names of the Prisma and GraphQL enum `ModelFamily`. */
export enum ModelFamily {
  MLP = 'MLP',
  VAE = 'VAE',
}

/** The observation model of a VAE's decoder; the names of the Prisma and GraphQL enum `Likelihood`. */
export enum Likelihood {
  /** 0.5 * sum (x - x_hat)^2 on standardised features (unit variance). */
  GAUSSIAN = 'GAUSSIAN',
  /** Binary cross-entropy summed over features in [0, 1] (pixels). */
  BERNOULLI = 'BERNOULLI',
}
