/** Model-family vocabulary shared by the store, the API and the trainer (no GraphQL, no TensorFlow here). */

/** A model family; the names of the Prisma and GraphQL enum `ModelFamily`. */
export enum ModelFamily {
  MLP = 'MLP',
  VAE = 'VAE',
  SEQUENCE = 'SEQUENCE',
}

/** The network of a SEQUENCE run; the names of the Prisma and GraphQL enum `SequenceArchitecture`. */
export enum SequenceArchitecture {
  /** GRU layers over the one-hot characters of the context. */
  RNN_GRU = 'RNN_GRU',
  /** Dense layers over the concatenated one-hot window (the fast one). */
  WINDOW_MLP = 'WINDOW_MLP',
}

/** The observation model of a VAE's decoder; the names of the Prisma and GraphQL enum `Likelihood`. */
export enum Likelihood {
  /** 0.5 * sum (x - x_hat)^2 on standardised features (unit variance). */
  GAUSSIAN = 'GAUSSIAN',
  /** Binary cross-entropy summed over features in [0, 1] (pixels). */
  BERNOULLI = 'BERNOULLI',
}
