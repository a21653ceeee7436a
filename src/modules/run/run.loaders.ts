import DataLoader from 'dataloader'
import type { EpochMetricValue } from '../../events/run-events'
import type { DatasetRecord } from '../dataset/dataset.repository'
import type { DatasetService } from '../dataset/dataset.service'
import type { ExperimentRecord, ExperimentRepository } from '../experiment/experiment.repository'
import type { Explanation } from '../explanation/explanation.type'
import type { ExplanationService } from '../explanation/explanation.service'
import type { SweepService } from '../sweep/sweep.service'
import type { RunRepository } from './run.repository'

/** Per-request batching: a page of runs costs one query per related table, not one per run. */
export interface Loaders {
  dataset: DataLoader<string, DatasetRecord | null>
  experiment: DataLoader<string, ExperimentRecord | null>
  history: DataLoader<string, EpochMetricValue[]>
  explanation: DataLoader<string, Explanation | null>
  sweepCounts: DataLoader<string, { runs: number; finished: number }>
}

export function createLoaders(deps: {
  datasets: DatasetService
  experiments: ExperimentRepository
  runs: RunRepository
  explanations: ExplanationService
  sweeps: SweepService
}): Loaders {
  return {
    dataset: new DataLoader(async (ids) => {
      const byId = new Map((await deps.datasets.getMany(ids)).map((d) => [d.id, d]))
      return ids.map((id) => byId.get(id) ?? null)
    }),
    experiment: new DataLoader(async (ids) => {
      const byId = new Map((await deps.experiments.findManyByIds(ids)).map((e) => [e.id, e]))
      return ids.map((id) => byId.get(id) ?? null)
    }),
    sweepCounts: new DataLoader(async (ids) => {
      const counts = await deps.sweeps.counts(ids)
      return ids.map((id) => counts.get(id) ?? { runs: 0, finished: 0 })
    }),
    explanation: new DataLoader(async (ids) => {
      const byRun = await deps.explanations.forRuns(ids)
      return ids.map((id) => byRun.get(id) ?? null)
    }),
    history: new DataLoader(async (ids) => {
      const byRun = await deps.runs.histories(ids)
      return ids.map((id) => byRun.get(id) ?? [])
    }),
  }
}
