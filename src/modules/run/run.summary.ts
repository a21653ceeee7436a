import type { MetricValue } from '../../models/family'
import { familyOf } from '../../models/registry'
import type { RunRecord } from './run.repository'

/** A run's final metric values in its family's order (any other stored name after them, by name). */
export function orderedMetrics(
  run: Pick<RunRecord, 'family' | 'finalMetrics' | 'latentDim' | 'validationSplit'>,
): MetricValue[] {
  const order = familyOf(run.family).metricNames(run)
  const rank = (name: string) => {
    const i = order.indexOf(name)
    return i < 0 ? order.length : i
  }
  return Object.entries(run.finalMetrics)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}
