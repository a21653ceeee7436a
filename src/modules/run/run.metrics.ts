import { badInput } from '../../errors'

/** Longest metric name accepted (names are the families', e.g. "kl_12"). */
const MAX_METRIC_NAME = 100

/** Checks a metric name sent by a client: what filters, orderings, charts and sweeps refer to. */
export function checkMetricName(name: string, field = 'metric'): string {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > MAX_METRIC_NAME || /[\u0000-\u001f]/.test(name)) {
    throw badInput(`${field} must be a metric name of 1 to ${MAX_METRIC_NAME} printable characters`, {
      field,
    })
  }
  return name
}
