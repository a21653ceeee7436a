import type { Browser, Page } from 'playwright-core'
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

// The dashboard's explanation, compare and dataset views in a real Chromium against the real server: one lab,
// two tiny MLP runs trained once for every test.
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`
const EXPLAIN = ['LINEAR_SURROGATE', 'INTEGRATED_GRADIENTS', 'SHAPLEY', 'PARTIAL_DEPENDENCE']

interface Pixels {
  /** Pixels of the colour (within 40 per channel) in the canvas. */
  count: number
  /** Distinct canvas rows holding one. */
  rowsSpanned: number
}

/** Reads a canvas in the page (the test's TypeScript has no DOM types: the function goes over as text). */
async function strokePixels(page: Page, selector: string, hex: string): Promise<Pixels> {
  const [r0, g0, b0] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))
  return page.evaluate(`(() => {
    const canvas = document.querySelector(${JSON.stringify(selector)})
    const { data, width } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
    const rows = new Set()
    let count = 0
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs(data[i] - ${r0}) < 40 && Math.abs(data[i + 1] - ${g0}) < 40 && Math.abs(data[i + 2] - ${b0}) < 40) {
        count += 1
        rows.add(Math.floor(i / 4 / width))
      }
    }
    return { count, rowsSpanned: rows.size }
  })()`)
}

describeInBrowser('web dashboard views in Chromium', () => {
  let t: TestLab
  let browser: Browser
  let base: string
  let datasetId: string
  let featureNames: string[]
  const runs: Record<string, string> = {}

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await t.gql<T>(query, variables)
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    return res.data!
  }
  const newPage = async (viewport = { width: 1280, height: 800 }): Promise<Page> => {
    const page = await browser.newPage({ viewport })
    page.setDefaultTimeout(45_000)
    return page
  }

  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'wasm' })
    base = `http://127.0.0.1:${t.lab.port}`
    const made = await gql<{ generateDataset: { id: string; featureNames: string[] } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id featureNames } }`,
      { input: { name: 'views-linear', generator: 'LINEAR', rows: 400, seed: 3, noise: 0.1 } },
    )
    datasetId = made.generateDataset.id
    featureNames = made.generateDataset.featureNames
    const specs = {
      'mlp-a': { learningRate: 0.01, batchSize: 16, hiddenLayers: [8] },
      'mlp-b': { learningRate: 0.003, batchSize: 32, hiddenLayers: [6] },
    }
    for (const [name, spec] of Object.entries(specs)) {
      const res = await gql<{ startRun: { id: string } }>(START, {
        input: { datasetId, experiment: 'views', name, epochs: 12, explain: EXPLAIN, ...spec },
      })
      runs[name] = res.startRun.id
    }
    for (const id of Object.values(runs))
      await waitFor(
        async () =>
          (await gql<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id })).run
            .status === 'SUCCEEDED',
        { timeoutMs: 180_000, what: `run ${id} to succeed` },
      )
    browser = await launchBrowser()
  }, 300_000)
  afterAll(async () => {
    await browser?.close()
    await t?.stop()
  })

  test('an MLP run: one partial-dependence plot per feature, drawn from the stored curve', async () => {
    const id = runs['mlp-a']!
    const { run } = await gql<{
      run: { explanation: { partialDependence: { feature: string; grid: number[]; values: number[] }[] } }
    }>(`query($id: ID!) { run(id: $id) { explanation { partialDependence { feature grid values } } } }`, {
      id,
    })
    const curves = run.explanation.partialDependence
    expect(curves.map((c) => c.feature)).toEqual(featureNames)

    const page = await newPage()
    await page.goto(`${base}/runs/${id}`)
    const plots = page.locator('[data-pdp]')
    await waitFor(async () => (await plots.count()) === featureNames.length, { what: 'the PDP plots' })
    for (const curve of curves) {
      const plot = page.locator(`[data-pdp="${curve.feature}"]`)
      expect(Number(await plot.getAttribute('data-points'))).toBe(curve.grid.length)
      expect(Number(await plot.getAttribute('data-min'))).toBe(Math.min(...curve.values))
      expect(Number(await plot.getAttribute('data-max'))).toBe(Math.max(...curve.values))
    }
    // The canvas holds the line: pixels of the stroke colour over most of the plot area's height for x1
    // (weight 3 in LINEAR: a monotone curve). Not all of it: uPlot rounds the y range out to round numbers,
    // so the span depends on the curve's values (it was 82 of 103 rows in one CI run, 80% of them).
    const drawn = await strokePixels(page, '[data-pdp="x1"] canvas', '#2563eb')
    const area = (await page.locator('[data-pdp="x1"] .u-over').boundingBox())!
    expect(drawn.count).toBeGreaterThan(100)
    expect(drawn.rowsSpanned).toBeGreaterThan(0.6 * area.height)
    await page.screenshot({ path: screenshotPath('explanation-pdp'), fullPage: true })
    // A narrow window: plots and the row form stack, nothing wider than the window.
    await page.setViewportSize({ width: 400, height: 800 })
    await waitFor(async () => (await page.evaluate('document.documentElement.scrollWidth')) === 400, {
      what: 'the run page to fit a narrow window',
    })
    await page.screenshot({ path: screenshotPath('explanation-narrow'), fullPage: true })
    await page.close()
  }, 120_000)

  test('the row form: explainInstance attributions follow an edited value; predict; refusals shown', async () => {
    const id = runs['mlp-a']!
    const page = await newPage()
    await page.goto(`${base}/runs/${id}`)
    const form = page.locator('[data-instance]')
    await form.getByRole('button', { name: 'Explain this row' }).waitFor()
    const igOf = (feature: string) =>
      form.locator(`[data-instance-bars] [data-method="INTEGRATED_GRADIENTS"] [data-feature="${feature}"]`)
    const rowOfPage = async () =>
      Promise.all(
        featureNames.map(async (f) => Number(await form.getByLabel(f, { exact: true }).inputValue())),
      )

    await form.getByRole('button', { name: 'Explain this row' }).click()
    await igOf('x1').waitFor()
    const atMeans = Number(await igOf('x1').getAttribute('data-value'))

    const x1 = form.getByLabel('x1', { exact: true })
    await x1.fill(String(Number(await x1.inputValue()) + 2))
    await x1.press('Enter') // the keyboard submits the form
    await waitFor(async () => Number(await igOf('x1').getAttribute('data-value')) !== atMeans, {
      what: 'the x1 attribution to change',
    })
    const edited = await rowOfPage()
    const api = await gql<{
      explainInstance: {
        prediction: number
        attributions: { feature: string; method: string; value: number }[]
      }
    }>(
      `query($runId: ID!, $row: [Float!]!, $methods: [ExplanationMethod!]) {
        explainInstance(runId: $runId, row: $row, methods: $methods) {
          prediction attributions { feature method value } } }`,
      { runId: id, row: edited, methods: ['INTEGRATED_GRADIENTS', 'SHAPLEY', 'LINEAR_SURROGATE'] },
    )
    for (const a of api.explainInstance.attributions) {
      const cell = form.locator(
        `[data-instance-bars] [data-method="${a.method}"] [data-feature="${a.feature}"]`,
      )
      expect(Number(await cell.getAttribute('data-value'))).toBeCloseTo(a.value, 9)
    }
    const igX1 = api.explainInstance.attributions.find(
      (a) => a.method === 'INTEGRATED_GRADIENTS' && a.feature === 'x1',
    )!.value
    // x1 moved 2 above its mean under a weight of 3: the model learnt a clearly positive slope.
    expect(igX1 - atMeans).toBeGreaterThan(1)
    expect(await form.locator('[data-method="INTEGRATED_GRADIENTS"] .badge').textContent()).toMatch(/check/)
    await page.screenshot({ path: screenshotPath('explanation-instance'), fullPage: true })

    await form.getByRole('button', { name: 'Predict' }).click()
    const predicted = form.locator('[data-predicted]')
    await predicted.waitFor()
    const { predict } = await gql<{ predict: number[] }>(
      `query($runId: ID!, $rows: [[Float!]!]!) { predict(runId: $runId, rows: $rows) }`,
      { runId: id, rows: [edited] },
    )
    expect(Number(await predicted.getAttribute('data-predicted'))).toBeCloseTo(predict[0]!, 9)

    // What the server refuses reaches the person as its message, never as a stack trace.
    await form.getByLabel('x2', { exact: true }).fill('1e39')
    await form.getByRole('button', { name: 'Explain this row' }).click()
    const alert = form.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/not a finite float32 number/)
    expect(await alert.textContent()).not.toMatch(/\bat \S+:\d+|Error:/)
    await form.getByLabel('x2', { exact: true }).fill('')
    await form.getByRole('button', { name: 'Predict' }).click()
    await waitFor(async () => /x2 needs a number/.test((await alert.textContent()) ?? ''))

    // A stored row of the dataset fills the form (Dataset.preview).
    const { dataset } = await gql<{ dataset: { preview: { features: number[] }[] } }>(
      `query($id: ID!) { dataset(id: $id) { preview(first: 1, offset: 3) { features } } }`,
      { id: datasetId },
    )
    await form.getByLabel('Row #').fill('3')
    await form.getByRole('button', { name: 'Use this dataset row' }).click()
    await form.getByText('Row 3 of the dataset').waitFor()
    expect(await rowOfPage()).toEqual(dataset.preview[0]!.features)
    await page.close()
  }, 120_000)

  test('compare two runs: ticked in the runs table by keyboard, two curves, both runs’ parameters and importances', async () => {
    const [a, b] = [runs['mlp-a']!, runs['mlp-b']!]
    const page = await newPage()
    await page.goto(`${base}/experiments/views`)
    const compare = page.getByRole('button', { name: 'Compare', exact: true })
    await page.getByRole('checkbox', { name: 'Compare mlp-a' }).focus()
    await page.keyboard.press('Space')
    expect(await compare.isDisabled()).toBe(true)
    await page.getByRole('checkbox', { name: 'Compare mlp-b' }).focus()
    await page.keyboard.press('Space')
    await compare.focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/compare\//)

    const chart = page.locator('[data-compare-chart="valLoss"]')
    await chart.waitFor()
    expect(await chart.getAttribute('data-series')).toBe('2')
    for (const id of [a, b])
      expect(await chart.locator(`[data-series-run="${id}"]`).getAttribute('data-points')).toBe('12')
    // Both lines are on the canvas, each in its own colour.
    for (const colour of ['#2563eb', '#f28e2b'])
      expect((await strokePixels(page, '[data-compare-chart] canvas', colour)).count).toBeGreaterThan(100)

    const param = (name: string, id: string) =>
      page.locator(`[data-compare-params] tr[data-param="${name}"] td[data-run="${id}"]`).textContent()
    expect([await param('Learning rate', a), await param('Learning rate', b)]).toEqual(['0.01', '0.003'])
    expect([await param('Batch size', a), await param('Batch size', b)]).toEqual(['16', '32'])
    expect([await param('Hidden layers', a), await param('Hidden layers', b)]).toEqual(['8', '6'])
    expect(
      await page.locator('[data-compare-params] tr[data-param="Learning rate"]').getAttribute('class'),
    ).toBe('differs')

    // Importances side by side: the stored Shapley values of each run.
    const table = page.locator('[data-compare-importance="SHAPLEY"]')
    await table.waitFor()
    for (const id of [a, b]) {
      const { run } = await gql<{
        run: { explanation: { featureImportance: { feature: string; method: string; importance: number }[] } }
      }>(
        `query($id: ID!) { run(id: $id) { explanation { featureImportance { feature method importance } } } }`,
        {
          id,
        },
      )
      for (const f of run.explanation.featureImportance.filter((f) => f.method === 'SHAPLEY')) {
        const cell = table.locator(`tr[data-feature="${f.feature}"] td[data-run="${id}"]`)
        expect(Number(await cell.getAttribute('data-value'))).toBe(f.importance)
      }
    }
    await page.getByLabel('Metric').selectOption('loss')
    await page.locator('[data-compare-chart="loss"]').waitFor()
    await page.screenshot({ path: screenshotPath('compare'), fullPage: true })
    await page.setViewportSize({ width: 400, height: 800 })
    await waitFor(async () => (await page.evaluate('document.documentElement.scrollWidth')) === 400, {
      what: 'the page to fit a narrow window',
    })
    await page.screenshot({ path: screenshotPath('compare-narrow'), fullPage: true })

    // A link naming one run says what a comparison needs.
    await page.goto(`${base}/compare/${a}`)
    await page.getByText('A comparison takes 2 to 10 runs').waitFor()
    await page.close()
  }, 120_000)

  test('a dataset page previews its rows, and an image dataset its images drawn from the pixels', async () => {
    const PREVIEW = `query($id: ID!, $first: Int, $offset: Int) {
      dataset(id: $id) { preview(first: $first, offset: $offset) { index features target } } }`
    const page = await newPage()
    await page.goto(`${base}/datasets/${datasetId}`)
    const rows = page.locator('[data-preview] tbody tr')
    await waitFor(async () => (await rows.count()) === 20, { what: 'the first 20 rows' })
    const first = await gql<{ dataset: { preview: { features: number[]; target: number }[] } }>(PREVIEW, {
      id: datasetId,
      first: 20,
    })
    const row3 = first.dataset.preview[3]!
    const cells = await page.locator('[data-preview] tr[data-row="3"] td').evaluateAll(
      // Text, not DOM types: the attribute read in the page.
      (tds) => tds.map((td) => Number((td as unknown as { dataset: { value: string } }).dataset.value)),
    )
    expect(cells).toEqual([...row3.features, row3.target])
    await page.getByRole('button', { name: 'Next rows →' }).click()
    await page.locator('[data-preview] tr[data-row="20"]').waitFor()
    expect(await page.getByText('Rows 21 to 40 of 400').count()).toBe(1)

    const made = await gql<{ generateDataset: { id: string } }>(
      `mutation { generateDataset(input: { name: "views-sprites", generator: SPRITES, rows: 30, seed: 2 }) { id } }`,
    )
    const spritesId = made.generateDataset.id
    await page.goto(`${base}/datasets/${spritesId}`)
    const images = page.locator('canvas.sprite')
    await waitFor(async () => (await images.count()) === 24, { what: 'the first 24 images' })
    const stored = await gql<{ dataset: { preview: { features: number[] }[] } }>(PREVIEW, {
      id: spritesId,
      first: 1,
      offset: 5,
    })
    const drawn = (await page.evaluate(`(() => {
      const canvas = document.querySelector('canvas.sprite[data-row="5"]')
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height)
      return Array.from({ length: data.length / 4 }, (_, i) => data[i * 4])
    })()`)) as number[]
    expect(drawn).toEqual(stored.dataset.preview[0]!.features.map((v) => Math.round(255 * v)))
    expect(drawn.filter((g) => g > 128).length).toBeGreaterThan(4)
    await page.screenshot({ path: screenshotPath('dataset-images'), fullPage: true })
    await page.getByRole('button', { name: 'Next rows →' }).click()
    await waitFor(async () => (await images.count()) === 6, { what: 'the last 6 images' })
    expect(await page.getByRole('button', { name: 'Next rows →' }).isDisabled()).toBe(true)
    await page.close()
  }, 120_000)
})
