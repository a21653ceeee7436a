/** Dataset enums, free of GraphQL so the trainer process can import them. */
export enum Task {
  BINARY_CLASSIFICATION = 'BINARY_CLASSIFICATION',
  REGRESSION = 'REGRESSION',
  /** No target: the rows alone (generative models). */
  UNSUPERVISED = 'UNSUPERVISED',
}
export enum DatasetGenerator {
  FRIEDMAN1 = 'FRIEDMAN1',
  LINEAR = 'LINEAR',
  XOR = 'XOR',
  SPRITES = 'SPRITES',
  LATENT_LINEAR = 'LATENT_LINEAR',
}
