import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import {
  EXPLANATION_METHODS,
  LIKELIHOODS,
  MODEL_FAMILIES,
  SEQUENCE_ARCHITECTURES,
  type Activation,
  type Distribution,
  type ExplanationMethod,
  type Json,
  type MetricValue,
  type ModelFamily,
  type Optimizer,
  type RunSettings,
  type RunSummary,
  type SweepInput,
  type SweepParameterInput,
} from './api'
import { UsageError } from './errors'

/**
 * Sweep files: YAML in the spirit of W&B's sweep configuration, turned into the API's SweepInput.
 * Pure (no I/O), so every rule is unit-tested; the server validates again, this only makes the common
 * mistakes cheap to find, with the file's line numbers.
 */

type Path = (string | number)[]

/** One thing wrong with a sweep file, located where the YAML allows. */
export interface ConfigIssue {
  /** Keys as written in the file (e.g. `['parameters', 'learning_rate', 'min']`). */
  path: Path
  message: string
  line?: number
  column?: number
}

/** A sweep file that cannot be used; the message lists every issue as `file:line:column: ...`. */
export class SweepConfigError extends UsageError {
  override name = 'SweepConfigError'
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((issue) => formatIssue(file, issue)).join('\n'))
  }
}

/** A validated sweep file: the SweepInput except what `--dataset`/`--experiment` may still supply. */
export interface SweepConfig {
  method: SweepInput['method']
  metric: string
  goal: SweepInput['goal']
  parameters: SweepParameterInput[]
  /** Settings shared by every run: the file's `base` plus its fixed (`value:`) parameters. */
  base: RunSettings
  runCap?: number
  maxConcurrent?: number
  seed?: number
  earlyTerminate?: NonNullable<SweepInput['earlyTerminate']>
  datasetId?: string
  experiment?: string
}

const ACTIVATIONS: readonly Activation[] = ['ELU', 'RELU', 'SIGMOID', 'TANH']
const OPTIMIZERS: readonly Optimizer[] = ['ADAM', 'RMSPROP', 'SGD']

type ParamKind =
  | { kind: 'float'; min?: number; minExclusive?: boolean; max?: number; maxExclusive?: boolean }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'layers' }
  | { kind: 'enum'; choices: readonly string[] }

/** The StartRunInput fields a sweep may vary, with the bounds the schema documents. */
const PARAMETERS = {
  learningRate: { kind: 'float', min: 0, minExclusive: true },
  batchSize: { kind: 'int', min: 1 },
  epochs: { kind: 'int', min: 1, max: 10_000 },
  hiddenLayers: { kind: 'layers' },
  activation: { kind: 'enum', choices: ACTIVATIONS },
  optimizer: { kind: 'enum', choices: OPTIMIZERS },
  validationSplit: { kind: 'float', min: 0, max: 0.9, maxExclusive: true },
  seed: { kind: 'int' },
  latentDim: { kind: 'int', min: 1, max: 64 },
  beta: { kind: 'float', min: 0, minExclusive: true },
  likelihood: { kind: 'enum', choices: LIKELIHOODS },
  architecture: { kind: 'enum', choices: SEQUENCE_ARCHITECTURES },
  contextLength: { kind: 'int', min: 1, max: 256 },
} satisfies Record<string, ParamKind>

type ParameterName = keyof typeof PARAMETERS
const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParameterName[]
const isParameterName = (name: string): name is ParameterName => Object.hasOwn(PARAMETERS, name)

/** What a sweep file needs to know of a model family. */
interface FamilyRules {
  /** Run settings only this family takes (the server refuses them for the others). */
  settings: readonly ParameterName[]
  /** The named metrics its runs report (Run.summary.metrics, as the API names them). */
  metrics: readonly string[]
  /** It also reports `kl_0` .. `kl_{latentDim-1}`, one KL per latent. */
  latentKl: boolean
}

/**
 * The families a sweep's `base` may choose (`family: vae`; default mlp). A sweep's runs are all of one
 * family, so `family` is never swept. The server has the last word: it refuses a metric the runs would
 * not report; this only says so with a line number.
 */
export const FAMILIES: Readonly<Record<ModelFamily, FamilyRules>> = {
  MLP: { settings: [], metrics: ['loss', 'valLoss', 'accuracy', 'valAccuracy'], latentKl: false },
  VAE: {
    settings: ['latentDim', 'beta', 'likelihood'],
    metrics: ['loss', 'reconstruction', 'kl', 'valLoss', 'valReconstruction', 'valKl'],
    latentKl: true,
  },
  SEQUENCE: {
    settings: ['architecture', 'contextLength'],
    metrics: ['loss', 'valLoss', 'perplexity', 'valPerplexity', 'accuracy', 'valAccuracy'],
    latentKl: false,
  },
}
const DEFAULT_FAMILY: ModelFamily = 'MLP'
/** The server's default latentDim: which kl_N a VAE reports when the file sets none. */
const DEFAULT_LATENT_DIM = 4
/** Every metric name some family reports, kl_N aside: what a sweep's metric may be. */
const KNOWN_METRICS = [...new Set(MODEL_FAMILIES.flatMap((f) => FAMILIES[f].metrics))]
/** A VAE's KL of one latent: `kl_0`, `kl_1` ... */
const LATENT_KL = /^kl_(\d+)$/

/** The RunSummary fields that held the final values before summary.metrics: still read as a fallback. */
const SUMMARY_FIELDS = {
  loss: 'finalLoss',
  valLoss: 'finalValLoss',
  accuracy: 'finalAccuracy',
  valAccuracy: 'finalValAccuracy',
} as const satisfies Record<string, keyof RunSummary>

/**
 * The API's name of a metric written in a sweep file (`val_reconstruction`, `valReconstruction`,
 * `kl_0`, `kl0`), or undefined for a name no family reports.
 */
export function metricName(written: string): string | undefined {
  const camel = toCamelCase(written.trim())
  // toCamelCase turns kl_0 into kl0; the API spells it kl_0.
  const perLatent = /^kl(\d+)$/.exec(camel)
  if (perLatent) return `kl_${Number(perLatent[1])}`
  return KNOWN_METRICS.includes(camel) ? camel : undefined
}

/** Top-level keys of W&B files that mean nothing here but should not make a file unusable. */
const IGNORED_KEYS = new Set(['name', 'description', 'program', 'project', 'entity', 'command'])
const TOP_LEVEL_KEYS = [
  'method',
  'metric',
  'parameters',
  'runCap',
  'maxConcurrent',
  'seed',
  'earlyTerminate',
  'dataset',
  'experiment',
  'base',
] as const

/** `learningRate` -> `learning_rate`: how W&B files (and the CLI's messages) spell keys. */
export const toSnakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** `learning_rate`, `learning-rate` and `learningRate` all name `learningRate`. */
export const toCamelCase = (key: string): string =>
  key.replace(/[_-]+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase())

/**
 * Parses and validates a sweep file. Throws {@link SweepConfigError} listing every problem found,
 * located by line and column.
 */
export function parseSweepConfig(text: string, file: string): SweepConfig {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new SweepConfigError(
      file,
      doc.errors.map((err) => {
        const pos = lineCounter.linePos(err.pos[0])
        return {
          path: [],
          message: err.message.split('\n')[0] ?? err.message,
          line: pos.line,
          column: pos.col,
        }
      }),
    )
  }
  const checker = new Checker()
  const config = checkConfig(doc.toJS() as unknown, checker)
  if (checker.issues.length > 0 || config === undefined) {
    const located = checker.issues.map((issue) => ({
      ...issue,
      ...locate(doc.contents, issue.path, lineCounter),
    }))
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))
    throw new SweepConfigError(file, located)
  }
  return config
}

/**
 * The SweepInput to send: the file's config with `--dataset`/`--experiment` taking precedence over the
 * file's `dataset`/`experiment`.
 */
export function toSweepInput(
  config: SweepConfig,
  file: string,
  overrides: { dataset?: string | undefined; experiment?: string | undefined } = {},
): SweepInput {
  const datasetId = overrides.dataset ?? config.datasetId
  const experiment = overrides.experiment ?? config.experiment
  const issues: ConfigIssue[] = []
  if (datasetId === undefined || datasetId === '') {
    issues.push({ path: ['dataset'], message: 'no dataset: give `dataset: ID` in the file or --dataset ID' })
  }
  if (experiment === undefined || experiment.trim() === '') {
    issues.push({
      path: ['experiment'],
      message: 'no experiment: give `experiment: NAME` in the file or --experiment NAME',
    })
  }
  if (issues.length > 0 || datasetId === undefined || experiment === undefined) {
    throw new SweepConfigError(file, issues)
  }
  const input: SweepInput = {
    experiment,
    datasetId,
    method: config.method,
    parameters: config.parameters,
    metric: config.metric,
    goal: config.goal,
  }
  // The server ignores base.datasetId but the type requires one: pass the sweep's.
  if (Object.keys(config.base).length > 0) input.base = { datasetId, ...config.base }
  if (config.runCap !== undefined) input.runCap = config.runCap
  if (config.maxConcurrent !== undefined) input.maxConcurrent = config.maxConcurrent
  if (config.seed !== undefined) input.seed = config.seed
  if (config.earlyTerminate !== undefined) input.earlyTerminate = config.earlyTerminate
  return input
}

/** How many runs a grid sweep makes (before `run_cap`); undefined for ranges. */
export function gridSize(parameters: SweepParameterInput[]): number | undefined {
  let size = 1
  for (const p of parameters) {
    if (p.values === undefined) return undefined
    size *= p.values.length
  }
  return size
}

/** What {@link metricValue} reads of a run's summary. */
export type SummaryValues = { metrics?: readonly MetricValue[] } & Partial<
  Record<(typeof SUMMARY_FIELDS)[keyof typeof SUMMARY_FIELDS], number | null>
>

/**
 * The value a sweep's metric ranks a run by: the run's final value of that named metric
 * (`summary.metrics`), else - for loss, valLoss, accuracy and valAccuracy - the summary field that held
 * it before named metrics existed; null when the run has none.
 */
export function metricValue(summary: SummaryValues, metric: string): number | null {
  const name = metricName(metric) ?? metric
  const named = summary.metrics?.find((m) => m.name === name)
  if (named !== undefined) return named.value
  const field = Object.hasOwn(SUMMARY_FIELDS, name)
    ? SUMMARY_FIELDS[name as keyof typeof SUMMARY_FIELDS]
    : undefined
  return field === undefined ? null : (summary[field] ?? null)
}

class Checker {
  readonly issues: ConfigIssue[] = []
  add(path: Path, message: string): undefined {
    this.issues.push({ path, message })
    return undefined
  }
}

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The entries of a map keyed by their camelCase name, each remembering the key as written (for
 * messages and line numbers). Two spellings of one key are an error.
 */
function entries(obj: Obj, path: Path, c: Checker): Map<string, { key: string; value: unknown }> {
  const out = new Map<string, { key: string; value: unknown }>()
  for (const [key, value] of Object.entries(obj)) {
    const name = toCamelCase(key)
    const seen = out.get(name)
    if (seen) c.add([...path, key], `${key} is also given as ${seen.key}`)
    else out.set(name, { key, value })
  }
  return out
}

function checkConfig(raw: unknown, c: Checker): SweepConfig | undefined {
  if (raw === null || raw === undefined) return c.add([], 'the file is empty')
  if (!isObject(raw)) return c.add([], 'a sweep file is a YAML map (method:, metric:, parameters: ...)')
  const top = entries(raw, [], c)
  for (const [name, { key }] of top) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(name) && !IGNORED_KEYS.has(name)) {
      c.add([key], `unknown key ${key}${suggest(key, TOP_LEVEL_KEYS)}`)
    }
  }
  const at = (name: string): { key: string; value: unknown } | undefined => top.get(name)

  const method = checkMethod(at('method'), c)
  const { metric, goal, written } = checkMetric(at('metric'), c)
  const { base, family } = checkBase(at('base'), c)
  const parameters = checkParameters(at('parameters'), method, base, family, c)
  if (metric !== undefined && written !== undefined && family !== undefined) {
    checkMetricReported(metric, written, family, base, parameters, c)
  }

  const config: SweepConfig = {
    method: method ?? 'GRID',
    metric: metric ?? 'valLoss',
    goal,
    parameters,
    base,
  }
  const runCap = checkInt(at('runCap'), 1, c)
  // Without run_cap the server runs the whole grid, or 20 random draws.
  if (runCap !== undefined) config.runCap = runCap
  const maxConcurrent = checkInt(at('maxConcurrent'), 1, c)
  if (maxConcurrent !== undefined) config.maxConcurrent = maxConcurrent
  const seed = checkInt(at('seed'), undefined, c)
  if (seed !== undefined) config.seed = seed
  const earlyTerminate = checkEarlyTerminate(at('earlyTerminate'), c)
  if (earlyTerminate !== undefined) config.earlyTerminate = earlyTerminate
  const dataset = checkString(at('dataset'), c)
  if (dataset !== undefined) config.datasetId = dataset
  const experiment = checkString(at('experiment'), c)
  if (experiment !== undefined) config.experiment = experiment
  return config
}

function checkMethod(entry: { key: string; value: unknown } | undefined, c: Checker) {
  if (entry === undefined) return c.add([], 'method is missing: method: grid or method: random')
  const { key, value } = entry
  if (typeof value !== 'string') return c.add([key], 'must be grid or random')
  const method = value.toLowerCase()
  if (method === 'grid') return 'GRID' as const
  if (method === 'random') return 'RANDOM' as const
  if (method === 'bayes') return c.add([key], 'bayes is not supported: use grid or random')
  return c.add([key], `must be grid or random, not ${value}`)
}

function checkMetric(
  entry: { key: string; value: unknown } | undefined,
  c: Checker,
): {
  metric: string | undefined
  goal: SweepInput['goal']
  /** The name as the file spells it, and where. */
  written?: { name: string; path: Path }
} {
  if (entry === undefined) {
    c.add([], 'metric is missing, e.g. metric: { name: val_loss, goal: minimize }')
    return { metric: undefined, goal: 'MINIMIZE' }
  }
  const { key, value } = entry
  if (!isObject(value)) {
    c.add([key], 'must be a map with name and goal, e.g. { name: val_loss, goal: minimize }')
    return { metric: undefined, goal: 'MINIMIZE' }
  }
  const fields = entries(value, [key], c)
  for (const [name, field] of fields) {
    if (name !== 'name' && name !== 'goal')
      c.add([key, field.key], `unknown key ${field.key} (metric has name and goal)`)
  }
  let metric: string | undefined
  const name = fields.get('name')
  if (name === undefined) c.add([key], 'metric.name is missing, e.g. name: val_loss')
  else if (typeof name.value !== 'string') c.add([key, name.key], 'must be a metric name, e.g. val_loss')
  else {
    metric = metricName(name.value)
    if (metric === undefined)
      c.add(
        [key, name.key],
        `unknown metric ${name.value}${suggest(name.value, KNOWN_METRICS)} (one of: ` +
          `${KNOWN_METRICS.map(toSnakeCase).join(', ')}, or kl_N for the KL of a VAE's latent N)`,
      )
  }
  let goal: SweepInput['goal'] = 'MINIMIZE'
  const g = fields.get('goal')
  if (g !== undefined) {
    const v = typeof g.value === 'string' ? g.value.toLowerCase() : undefined
    if (v === 'minimize') goal = 'MINIMIZE'
    else if (v === 'maximize') goal = 'MAXIMIZE'
    else c.add([key, g.key], 'must be minimize or maximize')
  }
  return metric === undefined || name === undefined
    ? { metric, goal }
    : { metric, goal, written: { name: String(name.value), path: [key, name.key] } }
}

/**
 * Refuses a metric the sweep's runs would not report: another family's (`reconstruction` from an MLP,
 * `accuracy` from a VAE), or the KL of a latent some run lacks (`kl_3` where latent_dim goes down to 2).
 */
function checkMetricReported(
  metric: string,
  { name: written, path }: { name: string; path: Path },
  family: ModelFamily,
  base: RunSettings,
  parameters: SweepParameterInput[],
  c: Checker,
): void {
  const reports = (f: ModelFamily) =>
    FAMILIES[f].metrics.includes(metric) || (FAMILIES[f].latentKl && LATENT_KL.test(metric))
  if (!reports(family)) {
    const others = MODEL_FAMILIES.filter(reports)
    const fix = others[0] === undefined ? '' : `: set family: ${others[0].toLowerCase()} in base`
    const theirs = [
      ...FAMILIES[family].metrics.map(toSnakeCase),
      ...(FAMILIES[family].latentKl ? ['kl_N'] : []),
    ]
    c.add(path, `${written} is not reported by ${family} runs (they report ${theirs.join(', ')})${fix}`)
    return
  }
  const latent = LATENT_KL.exec(metric)
  if (latent === null) return
  const swept = parameters.find((p) => p.name === 'latentDim')
  const lowest = swept
    ? (swept.min ?? Math.min(...(swept.values ?? []).filter((v): v is number => typeof v === 'number')))
    : (base.latentDim ?? DEFAULT_LATENT_DIM)
  const index = Number(latent[1])
  if (index >= lowest) {
    c.add(
      path,
      `${written} is the KL of latent ${index}, which a run with latent_dim ${lowest} does not have: ` +
        `every run needs latent_dim above ${index}` +
        (swept || base.latentDim !== undefined ? '' : ` (the default latent_dim is ${DEFAULT_LATENT_DIM})`),
    )
  }
}

function checkEarlyTerminate(entry: { key: string; value: unknown } | undefined, c: Checker) {
  if (entry === undefined) return undefined
  const { key, value } = entry
  if (!isObject(value)) return c.add([key], 'must be a map, e.g. { type: median_stop, min_epochs: 3 }')
  const fields = entries(value, [key], c)
  for (const [name, field] of fields) {
    if (name !== 'type' && name !== 'minEpochs') {
      c.add([key, field.key], `unknown key ${field.key} (early_terminate has type and min_epochs)`)
    }
  }
  const type = fields.get('type')
  if (type === undefined) return c.add([key], 'early_terminate.type is missing: type: median_stop')
  if (typeof type.value !== 'string' || type.value.toLowerCase() !== 'median_stop') {
    return c.add(
      [key, type.key],
      `only median_stop is supported${typeof type.value === 'string' ? `, not ${type.value}` : ''}`,
    )
  }
  const minEpochs = checkInt(fields.get('minEpochs'), 1, c, [key])
  return minEpochs === undefined
    ? { type: 'MEDIAN_STOP' as const }
    : { type: 'MEDIAN_STOP' as const, minEpochs }
}

/**
 * The file's `base:`: StartRunInput defaults for every run, and the runs' family (undefined when the
 * file names one that does not exist: nothing can be said of what its runs take).
 */
function checkBase(
  entry: { key: string; value: unknown } | undefined,
  c: Checker,
): { base: RunSettings; family: ModelFamily | undefined } {
  const base: RunSettings = {}
  if (entry === undefined) return { base, family: DEFAULT_FAMILY }
  const { key, value } = entry
  if (!isObject(value)) {
    c.add([key], 'must be a map of run settings, e.g. { epochs: 10, hidden_layers: [32, 16] }')
    return { base, family: DEFAULT_FAMILY }
  }
  const fields = entries(value, [key], c)
  const familyField = fields.get('family')
  const family =
    familyField === undefined
      ? DEFAULT_FAMILY
      : checkEnum(familyField.value, MODEL_FAMILIES, [key, familyField.key], c)
  if (familyField !== undefined && family !== undefined) base.family = family
  for (const [name, field] of fields) {
    const path = [key, field.key]
    if (name === 'family') continue
    if (isParameterName(name)) {
      const v = checkValue(name, field.value, path, c)
      if (v !== undefined) setSetting(base, name, v)
      if (family !== undefined) checkFamilySetting(name, field.key, family, path, c)
    } else if (name === 'tags') {
      if (!Array.isArray(field.value) || !field.value.every((t) => typeof t === 'string')) {
        c.add(path, 'must be a list of strings')
      } else base.tags = field.value
    } else if (name === 'explain') {
      const methods = checkExplain(field.value, path, c)
      if (methods !== undefined) base.explain = methods
    } else if (name === 'datasetId' || name === 'experiment' || name === 'dataset') {
      c.add(
        path,
        `set ${name === 'experiment' ? 'experiment' : 'dataset'} at the top level of the file, not in base`,
      )
    } else {
      c.add(
        path,
        `unknown run setting ${field.key}${suggest(field.key, [...PARAMETER_NAMES, 'family', 'tags', 'explain'])}`,
      )
    }
  }
  return { base, family }
}

/** Refuses a setting only other families take, e.g. latent_dim for an MLP. */
function checkFamilySetting(
  name: ParameterName,
  written: string,
  family: ModelFamily,
  path: Path,
  c: Checker,
): void {
  if (FAMILIES[family].settings.includes(name)) return
  const owners = MODEL_FAMILIES.filter((f) => FAMILIES[f].settings.includes(name))
  if (owners[0] === undefined) return
  c.add(
    path,
    `${written} applies to ${owners.join(' and ')} runs, not ${family}: set family: ${owners[0].toLowerCase()} in base`,
  )
}

function checkExplain(value: unknown, path: Path, c: Checker): ExplanationMethod[] | undefined {
  if (!Array.isArray(value)) return c.add(path, 'must be a list of explanation methods ([] for none)')
  const out: ExplanationMethod[] = []
  value.forEach((item, i) => {
    const upper = typeof item === 'string' ? item.toUpperCase().replace(/-/g, '_') : undefined
    const method = EXPLANATION_METHODS.find((m) => m === upper)
    if (method) out.push(method)
    else c.add([...path, i], `must be one of ${EXPLANATION_METHODS.map((m) => m.toLowerCase()).join(', ')}`)
  })
  return out.length === value.length ? out : undefined
}

function checkParameters(
  entry: { key: string; value: unknown } | undefined,
  method: SweepInput['method'] | undefined,
  base: RunSettings,
  family: ModelFamily | undefined,
  c: Checker,
): SweepParameterInput[] {
  const out: SweepParameterInput[] = []
  if (entry === undefined) {
    c.add([], 'parameters is missing: give at least one parameter to sweep')
    return out
  }
  const { key, value } = entry
  if (!isObject(value)) {
    c.add([key], 'must be a map of parameter names to { values: [...] } or { min, max }')
    return out
  }
  for (const [name, field] of entries(value, [key], c)) {
    const path = [key, field.key]
    if (name === 'family') {
      // One family per sweep: its runs are compared by one metric, and each family takes other settings.
      c.add(
        path,
        `${field.key} cannot be swept: every run of a sweep is of one family; set it in base (base: { family: vae })`,
      )
      continue
    }
    if (!isParameterName(name)) {
      c.add(
        path,
        `unknown parameter ${field.key}${suggest(field.key, PARAMETER_NAMES)} (one of: ${PARAMETER_NAMES.map(toSnakeCase).join(', ')})`,
      )
      continue
    }
    if (family !== undefined) checkFamilySetting(name, field.key, family, path, c)
    const param = checkParameter(name, field.value, path, method, c)
    if (param === undefined) continue
    if ('fixed' in param) {
      if (base[name] !== undefined) c.add(path, `${field.key} is set both here and in base: keep one`)
      else setSetting(base, name, param.fixed)
    } else {
      if (base[name] !== undefined)
        c.add(path, `${field.key} is swept here and also set in base: remove it from base`)
      out.push(param)
    }
  }
  if (out.length === 0 && c.issues.length === 0) {
    c.add([key], 'nothing to sweep: give at least one parameter values: [...] or min/max')
  }
  return out
}

const PARAMETER_KEYS = ['value', 'values', 'min', 'max', 'distribution']

function checkParameter(
  name: ParameterName,
  raw: unknown,
  path: Path,
  method: SweepInput['method'] | undefined,
  c: Checker,
): SweepParameterInput | { fixed: Json } | undefined {
  if (!isObject(raw)) {
    return c.add(path, 'must be a map with value, values or min/max, e.g. { values: [0.01, 0.001] }')
  }
  const fields = entries(raw, path, c)
  const before = c.issues.length
  for (const [k, field] of fields) {
    if (!PARAMETER_KEYS.includes(k)) {
      c.add(
        [...path, field.key],
        `unknown key ${field.key} (a parameter has value, values, or min, max and distribution)`,
      )
    }
  }
  const value = fields.get('value')
  const values = fields.get('values')
  const min = fields.get('min')
  const max = fields.get('max')
  const distribution = fields.get('distribution')
  const given = [value, values, min ?? max].filter((f) => f !== undefined).length
  if (given === 0) return c.add(path, 'needs value, values, or min and max')
  if (given > 1) return c.add(path, 'give only one of value, values, or min/max')
  const dist = distribution === undefined ? undefined : distribution.value
  if (dist !== undefined && typeof dist !== 'string') {
    return c.add([...path, distribution!.key], 'must be a name, e.g. uniform')
  }
  const distName = dist?.toLowerCase()

  if (value !== undefined) {
    if (distName !== undefined && distName !== 'constant') {
      return c.add([...path, distribution!.key], 'a fixed value takes no distribution')
    }
    const v = checkValue(name, value.value, [...path, value.key], c)
    return v === undefined || c.issues.length > before ? undefined : { fixed: v }
  }
  if (values !== undefined) {
    if (distName !== undefined && distName !== 'categorical') {
      return c.add([...path, distribution!.key], 'a list of values takes no distribution')
    }
    if (!Array.isArray(values.value) || values.value.length === 0) {
      return c.add([...path, values.key], 'must be a non-empty list')
    }
    const checked = values.value.map((v, i) => checkValue(name, v, [...path, values.key, i], c))
    if (c.issues.length > before) return undefined
    return { name, values: checked as Json[] }
  }

  const rangePath = [...path, (min ?? max)!.key]
  const kind: ParamKind = PARAMETERS[name]
  if (kind.kind === 'layers' || kind.kind === 'enum') {
    return c.add(rangePath, `${path.at(-1)} takes value or values, not a min/max range`)
  }
  if (method === 'GRID') {
    return c.add(
      rangePath,
      'grid search needs a list of values; min/max ranges only work with method: random',
    )
  }
  if (min === undefined || max === undefined) return c.add(path, 'a range needs both min and max')
  let distribution_: Distribution
  switch (distName) {
    case undefined:
      distribution_ = kind.kind === 'int' ? 'INT_UNIFORM' : 'UNIFORM'
      break
    case 'uniform':
      distribution_ = 'UNIFORM'
      break
    case 'log_uniform':
    case 'log_uniform_values':
      distribution_ = 'LOG_UNIFORM'
      break
    case 'int_uniform':
      distribution_ = 'INT_UNIFORM'
      break
    default:
      return c.add(
        [...path, distribution!.key],
        `distribution ${dist} is not supported: use uniform, log_uniform (or log_uniform_values) or int_uniform`,
      )
  }
  if (kind.kind === 'int' && distribution_ !== 'INT_UNIFORM') {
    return c.add([...path, distribution!.key], `${path.at(-1)} is an integer: use int_uniform`)
  }
  if (kind.kind === 'float' && distribution_ === 'INT_UNIFORM') {
    return c.add([...path, distribution!.key], `${path.at(-1)} is not an integer: use uniform or log_uniform`)
  }
  if (distribution_ === 'LOG_UNIFORM' && typeof min.value === 'number' && min.value <= 0) {
    // W&B's log_uniform takes exponents (min: -9.2 for e^-9.2); here, as with log_uniform_values, the
    // bounds are the values themselves.
    return c.add(
      [...path, min.key],
      'log_uniform bounds are values, not exponents (as W&B log_uniform_values), so min must be > 0, e.g. min: 0.0001',
    )
  }
  const lo = checkValue(name, min.value, [...path, min.key], c)
  const hi = checkValue(name, max.value, [...path, max.key], c)
  if (typeof lo !== 'number' || typeof hi !== 'number') return undefined
  if (lo > hi) return c.add([...path, min.key], `min (${lo}) is above max (${hi})`)
  if (c.issues.length > before) return undefined
  return { name, min: lo, max: hi, distribution: distribution_ }
}

/** Checks one value of a parameter and returns it as the API wants it (enums upper-cased, ...). */
function checkValue(name: ParameterName, value: unknown, path: Path, c: Checker): Json | undefined {
  const kind: ParamKind = PARAMETERS[name]
  switch (kind.kind) {
    case 'float':
    case 'int': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return c.add(path, 'must be a number')
      if (kind.kind === 'int' && !Number.isInteger(value)) return c.add(path, 'must be an integer')
      if (kind.min !== undefined) {
        const exclusive = kind.kind === 'float' && kind.minExclusive === true
        if (exclusive ? value <= kind.min : value < kind.min) {
          return c.add(path, `must be ${exclusive ? 'greater than' : 'at least'} ${kind.min}`)
        }
      }
      if (kind.max !== undefined) {
        const exclusive = kind.kind === 'float' && kind.maxExclusive === true
        if (exclusive ? value >= kind.max : value > kind.max) {
          return c.add(path, `must be ${exclusive ? 'less than' : 'at most'} ${kind.max}`)
        }
      }
      return value
    }
    case 'layers': {
      // `values: [32, 64]` reads naturally as one hidden layer of 32 or of 64 units.
      const layers = typeof value === 'number' ? [value] : value
      if (
        !Array.isArray(layers) ||
        !layers.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1)
      ) {
        return c.add(path, 'must be a list of layer sizes (positive integers), e.g. [64, 32]')
      }
      return layers as number[]
    }
    case 'enum':
      return checkEnum(value, kind.choices, path, c)
  }
}

/** One of an API enum's values, written in any case (`relu`, `Tanh`, `vae`). */
function checkEnum<T extends string>(
  value: unknown,
  choices: readonly T[],
  path: Path,
  c: Checker,
): T | undefined {
  const upper = typeof value === 'string' ? value.toUpperCase() : undefined
  const choice = choices.find((ch) => ch === upper)
  if (choice === undefined)
    return c.add(path, `must be one of ${choices.map((ch) => ch.toLowerCase()).join(', ')}`)
  return choice
}

function checkInt(
  entry: { key: string; value: unknown } | undefined,
  min: number | undefined,
  c: Checker,
  parent: Path = [],
): number | undefined {
  if (entry === undefined) return undefined
  const { key, value } = entry
  if (typeof value !== 'number' || !Number.isInteger(value))
    return c.add([...parent, key], 'must be an integer')
  if (min !== undefined && value < min) return c.add([...parent, key], `must be at least ${min}`)
  return value
}

function checkString(entry: { key: string; value: unknown } | undefined, c: Checker): string | undefined {
  if (entry === undefined) return undefined
  const { key, value } = entry
  if (typeof value === 'number') return String(value)
  if (typeof value !== 'string' || value.trim() === '') return c.add([key], 'must be a non-empty string')
  return value
}

function setSetting(base: RunSettings, name: ParameterName, value: Json): void {
  // checkValue has already shaped the value for this name.
  ;(base as Record<string, unknown>)[name] = value
}

/** ` (did you mean x?)` for a near miss among `known` (camelCase), spelled like `written`, else ''. */
function suggest(written: string, known: readonly string[]): string {
  const lower = toCamelCase(written).toLowerCase()
  let best: { word: string; distance: number } | undefined
  for (const word of known) {
    const distance = editDistance(lower, word.toLowerCase())
    if (best === undefined || distance < best.distance) best = { word, distance }
  }
  if (best === undefined || best.distance > Math.max(2, Math.floor(best.word.length / 4))) return ''
  return ` (did you mean ${/[A-Z]/.test(written) ? best.word : toSnakeCase(best.word)}?)`
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost))
    }
    prev = row
  }
  return prev[b.length]!
}

/** The line and column of the key (or list item) a path names, or of the nearest enclosing one. */
function locate(root: unknown, path: Path, lc: LineCounter): { line?: number; column?: number } {
  // Something missing from the whole file has no better place than the file.
  if (path.length === 0) return {}
  let node: unknown = root
  let offset = rangeStart(root)
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment)
      if (pair === undefined) break
      offset = rangeStart(pair.key) ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment]
      if (item === undefined) break
      offset = rangeStart(item) ?? offset
      node = item
    } else break
  }
  if (offset === undefined) return {}
  const { line, col } = lc.linePos(offset)
  return { line, column: col }
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined
  const range = node.range
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined
}

/** `file:line:column: path: message`, leaving out what is unknown. */
export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
  return `${where}: ${path === '' ? '' : `${path}: `}${issue.message}`
}
