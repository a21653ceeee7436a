import type { Db } from '../../db/client'
import type { Explanation, MethodCosts } from '../../explain/types'
import type {
  ActiveUnit,
  Disentanglement,
  DistanceProfile,
  GeneratorSurrogate,
  LatentFeatureValue,
  LatentSensitivity,
  LatentTraversal,
  NextCharacterSurrogate,
  SampleFidelity,
  TextSample,
} from './explanation.type'

/** What the Explanation row's `result` column holds: the explanation plus what instance explanations reuse. */
export interface StoredExplanationResult extends Omit<Explanation, 'computeMs'> {
  // Generative families only (absent from supervised explanations).
  latentTraversals?: LatentTraversal[]
  latentSensitivity?: LatentSensitivity[]
  generatorSurrogate?: GeneratorSurrogate[]
  generatorSurrogateR2?: number | null
  encoderAttribution?: LatentFeatureValue[]
  activeUnits?: ActiveUnit[]
  disentanglement?: Disentanglement | null
  sampleFidelity?: SampleFidelity | null
  // Text generators only.
  distanceProfile?: DistanceProfile[] | null
  nextCharacterSurrogates?: NextCharacterSurrogate[] | null
  textSamples?: TextSample[] | null
  /** Mean of the training rows: the default baseline of instance explanations. */
  baseline: number[]
  /** Seeded training rows: the Shapley background of instance explanations. */
  background: number[][]
  /** Held-out rows the global methods used. */
  evaluationRows: number
}

export interface ExplanationRecord {
  runId: string
  result: StoredExplanationResult
  computeMs: number
  cost: MethodCosts
  createdAt: Date
}

export class ExplanationRepository {
  constructor(private readonly db: Db) {}

  async findByRunIds(runIds: readonly string[]): Promise<ExplanationRecord[]> {
    const rows = await this.db.explanation.findMany({
      where: { runId: { in: [...runIds] } },
      select: { runId: true, result: true, computeMs: true, cost: true, createdAt: true },
    })
    return rows.map((r) => ({
      ...r,
      result: r.result as unknown as StoredExplanationResult,
      cost: r.cost as unknown as MethodCosts,
    }))
  }

  async findByRunId(runId: string): Promise<ExplanationRecord | null> {
    return (await this.findByRunIds([runId]))[0] ?? null
  }
}
