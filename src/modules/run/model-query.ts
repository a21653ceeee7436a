/**
 * The request-time questions a trained model answers (predict, the generative queries, explainInstance) as
 * plain data, and {@link answerQuery}, which answers one with a loaded model. Queries and answers are
 * structured-cloneable: the same function runs in a query thread (src/query/) or, with LAB_QUERY_THREADS=0,
 * in the API process itself.
 */
import { badInput } from '../../errors'
import { explainInstance } from '../../explain/explain-instance'
import { ExplainInputError } from '../../explain/errors'
import { TOKEN_METHODS, type TokenAttributionMethod } from '../../explain/token-attribution'
import type { ExplanationMethod, InstanceExplanation, LinearSurrogate } from '../../explain/types'
import type {
  AttributableTextModel,
  GenerativeModel,
  LatentCode,
  LatentExplanationResult,
  LoadedModel,
  Predictor,
  Rows,
  TextModel,
} from '../../models/family'
import type { PackedRows } from '../common/packed-rows'
import { prebuiltJsonList, type PrebuiltJson } from '../common/spliced-lists'
import {
  explainGeneration,
  generationEvaluations,
  type ExplainGenerationOptions,
  type GenerationExplanationResult,
} from '../../models/sequence/explain-generation'
import { generateTokens, type GeneratedToken } from '../../models/sequence/sampling'
import { FLOAT32_MAX } from '../dataset/dataset.content'
import { characters } from '../dataset/text'

/** Most rows one predict (or encode, decode, sample ...) call may send or ask for. */
export const MAX_PREDICT_ROWS = 10_000

/** Largest |z| accepted: latents live on the scale of the N(0, I) prior; far beyond it outputs mean nothing. */
export const MAX_LATENT_MAGNITUDE = 1000
export const MAX_TEMPERATURE = 10

/** explainInstance as it crosses to the model: everything read from the store is already resolved. */
export interface InstanceQuery {
  kind: 'explainInstance'
  row: number[]
  /** The client's baseline, when it sent one (Shapley values are then taken against it alone). */
  baseline: number[] | null
  /** The baseline used when the client sent none: the stored training mean, else the dataset's means. */
  defaultBaseline: number[]
  featureNames: string[]
  background: number[][] | null
  linearSurrogate: LinearSurrogate | null
  methods: ExplanationMethod[]
  seed: number
}

/** generate as it crosses to the model: the defaults already filled in, the cap from the configuration. */
export interface GenerateQuery {
  kind: 'generate'
  prompt: string
  /** null: the default (DEFAULT_GENERATE_TOKENS, at most the cap). */
  maxTokens: number | null
  maxGenerateTokens: number
  temperature: number
  topK: number | null
  seed: number
}

/** Tokens generated when maxTokens is not given (at most the cap). */
export const DEFAULT_GENERATE_TOKENS = 100

/** explainGeneration as it crosses to the model: the defaults filled in, the caps from the configuration. */
export interface ExplainGenerationQuery {
  kind: 'explainGeneration'
  prompt: string
  /** Teacher-forced text; null: generate. */
  target: string | null
  /** null: the default (DEFAULT_EXPLAIN_TOKENS, at most the cap); only without a target. */
  maxTokens: number | null
  maxGenerateTokens: number
  /** LAB_MAX_EXPLAIN_EVALUATIONS: the most model evaluations one explanation may make. */
  maxEvaluations: number
  /** null: every method. */
  methods: TokenAttributionMethod[] | null
  temperature: number
  seed: number
}

/**
 * Characters generated and explained when neither target nor maxTokens is given: every one costs about a
 * thousand model evaluations with all four methods, so explanations are kept short unless asked otherwise.
 */
export const DEFAULT_EXPLAIN_TOKENS = 20

/**
 * The model's output per row. With `as: 'json'` the answer is the list's JSON text, built where the query
 * runs (a query thread), for the HTTP layer to splice into the response (src/modules/common/spliced-lists.ts).
 */
export interface PredictQuery {
  kind: 'predict'
  rows: number[][] | PackedRows
  as?: 'json'
}

export type ModelQuery =
  | PredictQuery
  | GenerateQuery
  | ExplainGenerationQuery
  | { kind: 'sample'; n: number; seed: number; temperature: number }
  | { kind: 'encode'; rows: number[][] }
  | { kind: 'decode'; latents: number[][] }
  | { kind: 'reconstruct'; rows: number[][] }
  | { kind: 'explainLatent'; latent: number[]; baseline: number[] | null; featureNames: string[] }
  | InstanceQuery

/** What each kind of query answers. */
export interface QueryAnswers {
  predict: Float64Array
  sample: number[][]
  encode: LatentCode[]
  decode: number[][]
  reconstruct: number[][]
  explainLatent: LatentExplanationResult
  explainInstance: InstanceExplanation
  generate: { text: string; tokens: GeneratedToken[] }
  explainGeneration: GenerationExplanationResult
}

export type AnswerOf<Q extends ModelQuery> = Q extends { kind: 'predict'; as: 'json' }
  ? PrebuiltJson
  : QueryAnswers[Q['kind']]

/** What a caller may follow of a query while it computes (generate: each token as it is chosen). */
export interface QueryHooks {
  onToken?: (token: GeneratedToken) => void
  /** Asked before each token: true ends the generation there (the answer then holds the tokens so far). */
  cancelled?: () => boolean
}

/** Answers a query with the run's loaded model (throws AppError for what the client sent wrong). */
export function answerQuery<Q extends ModelQuery>(
  model: LoadedModel,
  runId: string,
  query: Q,
  hooks: QueryHooks = {},
): AnswerOf<Q> {
  return answer(model, runId, query, hooks) as AnswerOf<Q>
}

function answer(
  model: LoadedModel,
  runId: string,
  q: ModelQuery,
  hooks: QueryHooks,
): QueryAnswers[keyof QueryAnswers] | PrebuiltJson {
  switch (q.kind) {
    case 'predict': {
      const predictor = requirePredictor(model, runId)
      const rows = Array.isArray(q.rows)
        ? (checkRows(q.rows, predictor.featureCount), q.rows)
        : checkedPackedRows(q.rows, predictor.featureCount)
      // A typed array crosses back from a thread as one copy of its bytes; GraphQL lists any iterable.
      const values = finiteAnswer(predictor.predict(rows), 'rows')
      return q.as === 'json' ? prebuiltJsonList(values) : values
    }
    case 'sample': {
      const generator = requireGenerator(model, runId)
      if (!Number.isInteger(q.n) || q.n < 1 || q.n > MAX_PREDICT_ROWS) {
        throw badInput(`n must be between 1 and ${MAX_PREDICT_ROWS}`, { field: 'n' })
      }
      if (!Number.isFinite(q.temperature) || q.temperature < 0 || q.temperature > MAX_TEMPERATURE) {
        throw badInput(`temperature must be between 0 and ${MAX_TEMPERATURE}`, { field: 'temperature' })
      }
      return finite(generator.sample(q.n, q.seed, q.temperature))
    }
    case 'encode': {
      const generator = requireGenerator(model, runId)
      checkRows(q.rows, generator.featureCount)
      return finiteAnswer(generator.encode(q.rows), 'rows')
    }
    case 'decode': {
      const generator = requireGenerator(model, runId)
      checkLatents(q.latents, generator.latentDim, 'latents')
      return finiteAnswer(generator.decode(q.latents), 'latents')
    }
    case 'reconstruct': {
      const generator = requireGenerator(model, runId)
      checkRows(q.rows, generator.featureCount)
      return finiteAnswer(generator.reconstruct(q.rows), 'rows')
    }
    case 'explainLatent': {
      const generator = requireGenerator(model, runId)
      checkLatents([q.latent], generator.latentDim, 'latent')
      const base = q.baseline ?? new Array<number>(generator.latentDim).fill(0)
      checkLatents([base], generator.latentDim, 'baseline')
      return generator.explainLatent(q.latent, base, q.featureNames)
    }
    case 'explainInstance':
      return attribute(requirePredictor(model, runId), q)
    case 'generate': {
      const text = requireText(model, runId)
      const tokens: GeneratedToken[] = []
      const steps = generateTokens(text, textSymbols(text, q.prompt, 'prompt'), checkGenerate(text, q))
      while (!hooks.cancelled?.()) {
        const step = steps.next()
        if (step.done) break
        tokens.push(step.value)
        hooks.onToken?.(step.value)
      }
      return { text: tokens.map((t) => t.token).join(''), tokens }
    }
    case 'explainGeneration': {
      const text = requireText(model, runId)
      return explainGeneration(checkExplainGeneration(text, q))
    }
  }
}

/** A client's text as the model's symbols; BAD_USER_INPUT when empty or with characters outside the vocabulary. */
function textSymbols(model: TextModel, text: string, field: string): number[] {
  if (text.length === 0) throw badInput(`${field} must not be empty`, { field })
  const index = new Map(model.vocabulary.map((c, i) => [c, i]))
  const chars = characters(text)
  const unknown = [...new Set(chars.filter((c) => !index.has(c)))]
  if (unknown.length > 0) {
    const shown = unknown
      .slice(0, 10)
      .map((c) => JSON.stringify(c))
      .join(', ')
    throw badInput(`${field} has characters outside the model's vocabulary: ${shown}`, { field })
  }
  return chars.map((c) => index.get(c)!)
}

function checkGenerate(model: TextModel, q: GenerateQuery) {
  const cap = q.maxGenerateTokens
  const maxTokens = q.maxTokens ?? Math.min(DEFAULT_GENERATE_TOKENS, cap)
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > cap) {
    throw badInput(`maxTokens is ${maxTokens}; it must be from 1 to ${cap} (LAB_MAX_GENERATE_TOKENS)`, {
      field: 'maxTokens',
    })
  }
  if (!Number.isFinite(q.temperature) || q.temperature < 0 || q.temperature > MAX_TEMPERATURE) {
    throw badInput(`temperature must be between 0 and ${MAX_TEMPERATURE}`, { field: 'temperature' })
  }
  const symbolCount = model.vocabulary.length + 1
  if (q.topK !== null && (!Number.isInteger(q.topK) || q.topK < 1 || q.topK > symbolCount)) {
    throw badInput(`topK must be from 1 to the model's ${symbolCount} symbols`, { field: 'topK' })
  }
  return { maxTokens, temperature: q.temperature, topK: q.topK, seed: q.seed }
}

/**
 * The driver's options for an explainGeneration query, every check done before any model evaluation:
 * BAD_USER_INPUT for a prompt or target that is empty or has characters outside the vocabulary, a target
 * longer than the generate cap or sent together with maxTokens, maxTokens outside 1 to the cap, a temperature
 * outside [0, MAX_TEMPERATURE], an empty or repeating methods list, and an explanation that would make more
 * than `maxEvaluations` model evaluations (counted by generationEvaluations, an upper bound).
 */
export function checkExplainGeneration(
  model: AttributableTextModel,
  q: ExplainGenerationQuery,
): ExplainGenerationOptions {
  const prompt = textSymbols(model, q.prompt, 'prompt')
  const cap = q.maxGenerateTokens
  const target = q.target === null ? null : textSymbols(model, q.target, 'target')
  if (target !== null && q.maxTokens !== null) {
    throw badInput('give target or maxTokens, not both: a target is explained character by character', {
      field: 'maxTokens',
    })
  }
  if (target !== null && target.length > cap) {
    throw badInput(
      `target has ${target.length} characters; at most ${cap} (LAB_MAX_GENERATE_TOKENS) are explained`,
      { field: 'target' },
    )
  }
  const maxTokens = target?.length ?? q.maxTokens ?? Math.min(DEFAULT_EXPLAIN_TOKENS, cap)
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > cap) {
    throw badInput(`maxTokens is ${maxTokens}; it must be from 1 to ${cap} (LAB_MAX_GENERATE_TOKENS)`, {
      field: 'maxTokens',
    })
  }
  if (!Number.isFinite(q.temperature) || q.temperature < 0 || q.temperature > MAX_TEMPERATURE) {
    throw badInput(`temperature must be between 0 and ${MAX_TEMPERATURE}`, { field: 'temperature' })
  }
  const methods = q.methods ?? [...TOKEN_METHODS]
  if (methods.length === 0) throw badInput('methods must not be empty', { field: 'methods' })
  const repeated = methods.filter((m, i) => methods.indexOf(m) !== i)
  if (repeated.length > 0) {
    throw badInput(`methods lists ${[...new Set(repeated)].join(', ')} more than once`, { field: 'methods' })
  }
  const evaluations = generationEvaluations(model.contextLength, prompt.length, maxTokens, methods)
  if (evaluations > q.maxEvaluations) {
    throw badInput(
      `this explanation needs up to ${evaluations} model evaluations; the budget is ${q.maxEvaluations} ` +
        '(LAB_MAX_EXPLAIN_EVALUATIONS): ask for fewer methods or fewer characters',
      { field: target ? 'target' : 'maxTokens', evaluations, budget: q.maxEvaluations },
    )
  }
  return { model, prompt, target, maxTokens, temperature: q.temperature, seed: q.seed, methods }
}

/** The run's text model; BAD_USER_INPUT for another family. */
export function requireText(model: LoadedModel, runId: string): AttributableTextModel {
  if (!model.text) {
    throw badInput(`run ${runId} is not a text model (train family: SEQUENCE on a TEXT dataset)`, {
      field: 'runId',
    })
  }
  return model.text
}

/**
 * Attributes one prediction. The explained output is the model's logit for classification (the value the
 * methods' checks add up to) and the prediction for regression.
 */
function attribute(predictor: Predictor, q: InstanceQuery): InstanceExplanation {
  checkRows([q.row], predictor.featureCount, 'row')
  if (q.baseline) checkRows([q.baseline], predictor.featureCount, 'baseline')
  try {
    const explained = explainInstance({
      predict: (rows) => predictor.logit(rows),
      gradient: (rows) => predictor.gradient(rows),
      featureNames: q.featureNames,
      row: Float64Array.from(q.row),
      baseline: Float64Array.from(q.baseline ?? q.defaultBaseline),
      ...(q.background ? { background: q.background.map((r) => Float64Array.from(r)) } : {}),
      ...(q.linearSurrogate ? { linearSurrogate: q.linearSurrogate } : {}),
      methods: q.methods,
      seed: q.seed,
    })
    return finiteAnswer(explained, q.baseline ? 'row or baseline' : 'row')
  } catch (err) {
    if (err instanceof ExplainInputError) throw badInput(err.message)
    throw err
  }
}

/** The run's supervised predictor; BAD_USER_INPUT for a generative model, naming what it answers. */
export function requirePredictor(model: LoadedModel, runId: string): Predictor {
  if (!model.predictor) {
    throw badInput(
      model.text
        ? `run ${runId} is a text generator: it has no predictions; ask it with generate`
        : `run ${runId} is a generative model: it has no predictions; ask it with sample, encode, decode, ` +
            'reconstruct or explainLatent',
      { field: 'runId' },
    )
  }
  return model.predictor
}

/** The run's generative model; BAD_USER_INPUT for a supervised one. */
export function requireGenerator(model: LoadedModel, runId: string): GenerativeModel {
  if (!model.generator) {
    const ask = model.text ? 'generate' : 'predict'
    throw badInput(`run ${runId} is not a generative model of rows (train family: VAE); ask it with ${ask}`, {
      field: 'runId',
    })
  }
  return model.generator
}

/** Rows sent by a client for a model with `featureCount` inputs. */
export function checkRows(rows: number[][], featureCount: number, field = 'rows'): void {
  if (rows.length === 0) throw badInput(`${field} must not be empty`, { field })
  if (rows.length > MAX_PREDICT_ROWS) throw badInput(`at most ${MAX_PREDICT_ROWS} rows per call`, { field })
  rows.forEach((row, i) => {
    if (row.length !== featureCount) {
      throw badInput(`row ${i} has ${row.length} values; the model takes ${featureCount}`, { field, row: i })
    }
    if (!row.every((v) => Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX)) {
      throw badInput(`row ${i} has a value that is not a finite float32 number`, { field, row: i })
    }
  })
}

/**
 * {@link checkRows} for packed rows, in one pass over the values, with the same messages; the rows as views of
 * the packed values. Packing left ragged and non-numeric rows to GraphQL, so only size and range are checked.
 */
export function checkedPackedRows(
  { values, columns }: PackedRows,
  featureCount: number,
  field = 'rows',
): Rows {
  const count = values.length / columns
  if (count > MAX_PREDICT_ROWS) throw badInput(`at most ${MAX_PREDICT_ROWS} rows per call`, { field })
  if (columns !== featureCount) {
    throw badInput(`row 0 has ${columns} values; the model takes ${featureCount}`, { field, row: 0 })
  }
  for (let k = 0; k < values.length; k++) {
    if (Math.abs(values[k] as number) > FLOAT32_MAX) {
      const row = Math.floor(k / columns)
      throw badInput(`row ${row} has a value that is not a finite float32 number`, { field, row })
    }
  }
  return Array.from({ length: count }, (_, i) => values.subarray(i * columns, (i + 1) * columns))
}

function checkLatents(latents: number[][], latentDim: number, field: string): void {
  checkRows(latents, latentDim, field)
  latents.forEach((z, i) => {
    if (z.some((v) => Math.abs(v) > MAX_LATENT_MAGNITUDE)) {
      throw badInput(`${field} ${i} has a value beyond +-${MAX_LATENT_MAGNITUDE}`, { field, row: i })
    }
  })
}

/**
 * A model's answer for rows a client sent. Values within float32 can still be so far outside the
 * training data that the network overflows (3e38 standardised and multiplied by a weight): that is
 * the input's doing, answered BAD_USER_INPUT - a NaN would otherwise fail GraphQL's Float.
 */
export function finiteAnswer<T>(answer: T, field: string): T {
  const stack: unknown[] = [answer]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        throw badInput(
          `the model's answer is not a finite number: ${field} holds values too far outside the training data`,
          { field },
        )
      }
    } else if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      stack.push(...Array.from(v as ArrayLike<unknown>))
    } else if (v !== null && typeof v === 'object') {
      stack.push(...Object.values(v))
    }
  }
  return answer
}

/** Outputs are finite for any accepted input; anything else is a bug, not something to send as JSON. */
function finite(rows: number[][]): number[][] {
  if (!rows.every((r) => r.every(Number.isFinite))) throw new Error('the decoder produced a non-finite value')
  return rows
}
