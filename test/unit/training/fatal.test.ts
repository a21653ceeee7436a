import { isFatalBackendError } from '../../../src/training/fatal'
import { TrainingError } from '../../../src/models/common/spec'

describe('isFatalBackendError', () => {
  it.each([
    new RangeError('memory access out of bounds'),
    new Error('RuntimeError: memory access out of bounds'),
    new RangeError('Array buffer allocation failed'),
    new Error('Aborted(OOM). Build with -sASSERTIONS for more info.'),
    'out of memory',
  ])('recycles the trainer after %p', (err) => {
    expect(isFatalBackendError(err)).toBe(true)
  })

  it.each([
    new TrainingError('loss became NaN at epoch 3', 'NON_FINITE_LOSS', 3),
    new Error('the dataset of this run no longer exists'),
    new Error('connection terminated unexpectedly'),
  ])('keeps the trainer after %p', (err) => {
    expect(isFatalBackendError(err)).toBe(false)
  })
})
