/** Dataset enums, free of GraphQL so the trainer process can import them. */
export enum Task {
  BINARY_CLASSIFICATION = 'BINARY_CLASSIFICATION',
  REGRESSION = 'REGRESSION',
}
export enum DatasetGenerator {
  FRIEDMAN1 = 'FRIEDMAN1',
  LINEAR = 'LINEAR',
  XOR = 'XOR',
}
