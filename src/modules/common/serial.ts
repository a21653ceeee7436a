/**
 * Runs async steps strictly one after another (events must reach a subscriber in the order they
 * happened, even when handling one needs a database read). The first failure stops the chain.
 */
export function serialQueue(onError: (err: unknown) => void) {
  let chain = Promise.resolve()
  let failed = false
  return (step: () => Promise<void>) => {
    chain = chain
      .then(async () => {
        if (!failed) await step()
      })
      .catch((err: unknown) => {
        failed = true
        onError(err)
      })
  }
}
