/**
 * Raised when the inputs of an explanation are inconsistent (row widths, missing gradient, empty data).
 * It is a caller error, not a failure of the model, so the service can map it to a bad-input code.
 */
export class ExplainInputError extends Error {
  override readonly name = 'ExplainInputError'
}

/** Throws unless every row has exactly `width` finite-or-not numbers; `what` names the rows in the message. */
export function assertRowWidths(rows: readonly Float64Array[], width: number, what: string): void {
  rows.forEach((row, i) => {
    if (row.length !== width) {
      throw new ExplainInputError(
        `${what}[${i}] has ${row.length} values, expected ${width} (one per feature)`,
      )
    }
  })
}
