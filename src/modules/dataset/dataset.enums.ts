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
  COPY_TEXT = 'COPY_TEXT',
}

/** What a dataset holds; the names of the Prisma and GraphQL enum `DatasetKind`. */
export enum DatasetKind {
  /** A numeric table: features, targets, factors. */
  TABLE = 'TABLE',
  /** A text corpus over a character vocabulary (SEQUENCE runs). */
  TEXT = 'TEXT',
}
