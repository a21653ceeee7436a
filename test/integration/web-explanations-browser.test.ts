import type { Browser, Page } from 'playwright-core'
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

// The generative families' explanation views in a real Chromium against the real server: what is drawn is
// checked against what the API says (numbers in the DOM, pixels of the canvases).
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`

/** What the page function needs of a canvas (the tests are compiled without the DOM library). */
interface Canvas2d {
  width: number
  height: number
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }
  }
}

describeInBrowser('explanation views of generative runs in Chromium', () => {
  let t: TestLab
  let browser: Browser
  let base: string

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await t.gql<T>(query, variables)
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    return res.data!
  }
  const succeeded = (id: string) =>
    waitFor(
      async () => {
        const { run } = await gql<{ run: { status: string; error: string | null } }>(
          `query($id: ID!) { run(id: $id) { status error } }`,
          { id },
        )
        if (run.status === 'FAILED' || run.status === 'CANCELLED')
          throw new Error(`run ${run.status}: ${run.error}`)
        return run.status === 'SUCCEEDED' ? true : undefined
      },
      { timeoutMs: 200_000, what: `run ${id}` },
    )
  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(45_000)
    return page
  }
  /** The grey levels of each canvas matching `selector`, as the page drew them. */
  const canvasPixels = (page: Page, selector: string) =>
    page.locator(selector).evaluateAll((canvases) =>
      (canvases as unknown as Canvas2d[]).map((c) => {
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
        const grey: number[] = []
        for (let i = 0; i < data.length; i += 4) grey.push(data[i]!)
        return grey
      }),
    )

  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'wasm' })
    base = `http://127.0.0.1:${t.lab.port}`
    browser = await launchBrowser()
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await t?.stop()
  })

  test('VAE on sprites: traversal images, sensitivity images, active units, factors, and the sample gallery', async () => {
    const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      { input: { name: 'web-sprites', generator: 'SPRITES', rows: 600, seed: 3 } },
    )
    const { startRun } = await gql<{ startRun: { id: string } }>(START, {
      input: {
        datasetId: generateDataset.id,
        family: 'VAE',
        latentDim: 3,
        hiddenLayers: [32],
        epochs: 3,
        seed: 2,
      },
    })
    const runId = startRun.id
    await succeeded(runId)
    const { run } = await gql<{
      run: {
        explanation: {
          latentTraversals: { latent: number; rowIndex: number | null; grid: number[] }[]
          latentSensitivity: { latent: number; meanAbs: number }[]
          activeUnits: { active: boolean }[]
          disentanglement: { factors: { factor: string; mig: number }[] }
        }
      }
    }>(
      `query($id: ID!) { run(id: $id) { explanation {
        latentTraversals { latent rowIndex grid } latentSensitivity { latent meanAbs } activeUnits { active }
        disentanglement { factors { factor mig } } } } }`,
      { id: runId },
    )
    const e = run.explanation

    const page = await newPage()
    await page.goto(`${base}/runs/${runId}`)
    const traversals = page.locator('[data-traversals]')
    await traversals.waitFor()
    // One row per latent traversed from z = 0, one 16 x 16 image (x3) per grid point.
    const fromPrior = e.latentTraversals.filter((tr) => tr.rowIndex === null)
    expect(await traversals.locator('tbody tr').count()).toBe(fromPrior.length)
    const cells = await canvasPixels(page, '[data-traversals] canvas.pixels')
    expect(cells).toHaveLength(fromPrior.length * fromPrior[0]!.grid.length)
    for (const grey of cells) expect(grey).toHaveLength(48 * 48)
    // A decoded sprite is not a blank image, and the images along a traversal are not all the same.
    expect(cells.some((g) => Math.max(...g) - Math.min(...g) > 64)).toBe(true)
    expect(new Set(cells.map((g) => g.join())).size).toBeGreaterThan(1)

    // Sensitivity: one image per latent, the brightest pixel of each its largest mean |d x/d z|.
    const sensitivity = page.locator('[data-sensitivity] figure')
    expect(await sensitivity.count()).toBe(3)
    for (let k = 0; k < 3; k++) {
      const drawnMax = Number(await sensitivity.nth(k).getAttribute('data-max'))
      const apiMax = Math.max(...e.latentSensitivity.filter((s) => s.latent === k).map((s) => s.meanAbs))
      expect(drawnMax).toBeCloseTo(apiMax, 6)
    }
    const active = e.activeUnits.filter((u) => u.active).length
    await page.getByText(`Active units: ${active} of 3`).waitFor()
    const factorRows = page.locator('table[data-factors] tbody tr')
    expect(await factorRows.count()).toBe(4)
    expect(await factorRows.locator('td:first-child').allTextContents()).toEqual(
      e.disentanglement.factors.map((f) => f.factor),
    )

    // Reconstruction: the dataset's first rows beside reconstruct's answer for them.
    const { dataset } = await gql<{ dataset: { preview: { features: number[] }[] } }>(
      `query($id: ID!) { dataset(id: $id) { preview(first: 6) { features } } }`,
      { id: generateDataset.id },
    )
    const { reconstruct } = await gql<{ reconstruct: number[][] }>(
      `query($id: ID!, $rows: [[Float!]!]!) { reconstruct(runId: $id, rows: $rows) }`,
      { id: runId, rows: dataset.preview.map((r) => r.features) },
    )
    await page.locator('[data-reconstruction] table').waitFor()
    const pairs = await canvasPixels(page, '[data-reconstruction] canvas')
    expect(pairs).toHaveLength(12)
    pairs.forEach((grey, i) => {
      const source = i % 2 === 0 ? dataset.preview[i / 2]!.features : reconstruct[(i - 1) / 2]!
      // Each drawn pixel (3 x 3 screen pixels) is round(255 x value).
      expect(grey[0]).toBe(Math.round(255 * source[0]!))
      expect(grey[48 * 3 * 8 + 3 * 8]).toBe(Math.round(255 * source[8 * 16 + 8]!))
    })

    // The gallery: 12 samples at temperature 1 differ; at 0 every one is the decoded prior mean.
    const gallery = page.locator('[data-gallery]')
    await waitFor(async () => (await gallery.getAttribute('data-temperature')) === '1')
    const warm = await canvasPixels(page, '[data-gallery] canvas')
    expect(warm).toHaveLength(12)
    expect(new Set(warm.map((g) => g.join())).size).toBeGreaterThan(6)
    await page.locator('#sample-temperature').fill('0')
    await waitFor(async () => (await gallery.getAttribute('data-temperature')) === '0')
    const cold = await canvasPixels(page, '[data-gallery] canvas')
    expect(cold).toHaveLength(12)
    expect(new Set(cold.map((g) => g.join())).size).toBe(1)
    await page.screenshot({ path: screenshotPath('vae-explanation'), fullPage: true })
    await page.close()
  }, 300_000)

  test('text generator: the prompt box streams a generation, each character with its probability', async () => {
    const { generateDataset } = await gql<{ generateDataset: { id: string } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      { input: { name: 'web-copy', generator: 'COPY_TEXT', rows: 20000, lag: 3, noise: 0.05, seed: 4 } },
    )
    const { startRun } = await gql<{ startRun: { id: string } }>(START, {
      input: {
        datasetId: generateDataset.id,
        family: 'SEQUENCE',
        architecture: 'WINDOW_MLP',
        contextLength: 8,
        hiddenLayers: [48],
        epochs: 3,
        learningRate: 0.01,
        seed: 3,
      },
    })
    const runId = startRun.id
    await succeeded(runId)
    const prompt = 'abcab'
    const { generate } = await gql<{ generate: { text: string; tokens: { probability: number }[] } }>(
      `query($id: ID!, $prompt: String!) { generate(runId: $id, prompt: $prompt, maxTokens: 30, temperature: 0, seed: 1) {
        text tokens { probability } } }`,
      { id: runId, prompt },
    )

    const page = await newPage()
    await page.goto(`${base}/runs/${runId}`)
    await page.getByLabel('Prompt').fill(prompt)
    await page.getByLabel('characters').fill('30')
    await page.getByLabel('temperature').fill('0')
    await page.getByRole('button', { name: 'Generate' }).click()
    const status = page.locator('[data-gen-status]')
    await waitFor(async () => (await status.getAttribute('data-gen-status')) === 'done')
    const generated = page.locator('[data-generated] span.gen')
    expect(await generated.count()).toBe(30)
    const shownText = (await generated.allTextContents()).join('').replace(/␣/g, ' ')
    expect(shownText).toBe(generate.text)
    const probabilities = await generated.evaluateAll((els) =>
      els.map((el) => Number(el.getAttribute('data-probability'))),
    )
    probabilities.forEach((p, i) => expect(p).toBeCloseTo(generate.tokens[i]!.probability, 9))
    expect(await page.locator('[data-generated] span.prompt').allTextContents()).toEqual([...prompt])

    // Why: the occlusion heatmap, one row per generated character; on a lag-3 copy text the largest
    // attribution of most rows sits 3 characters back, as the API's own numbers say.
    await page.getByLabel('Method').selectOption('OCCLUSION')
    await page.getByRole('button', { name: 'Explain this generation' }).click()
    const map = page.locator('table[data-attribution-map="OCCLUSION"]')
    await map.waitFor()
    const rows = await map.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll('td')].map((td) => {
          const v = td.getAttribute('data-value')
          return v === null ? null : Number(v)
        }),
      ),
    )
    expect(rows).toHaveLength(30)
    const atLag = rows.filter((cells, t) => {
      let best = -1
      cells.forEach((v, s) => {
        if (v !== null && (best < 0 || Math.abs(v) > Math.abs(cells[best]!))) best = s
      })
      return prompt.length + t - best === 3
    })
    expect(atLag.length).toBeGreaterThanOrEqual(27)
    // Hovering a generated character lights its context with the row's values.
    await generated.nth(10).hover()
    const lit = await page
      .locator('[data-generated] span.lit')
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-attribution'))))
    expect(lit).toEqual(rows[10]!.filter((v) => v !== null))
    await page.getByText(/most from .*, 3 back/).waitFor()

    // The stored explanation: every method's distance profile peaks 3 back, as the API says.
    const { run } = await gql<{
      run: {
        explanation: {
          distanceProfile: { method: string; peakDistance: number; meanAbsAttribution: number[] }[]
        }
      }
    }>(
      `query($id: ID!) { run(id: $id) { explanation { distanceProfile { method peakDistance meanAbsAttribution } } } }`,
      {
        id: runId,
      },
    )
    const profiles = run.explanation.distanceProfile
    expect(profiles).toHaveLength(4)
    for (const p of profiles) {
      const figure = page.locator(`[data-profile="${p.method}"]`)
      expect(await figure.getAttribute('data-peak')).toBe('3')
      expect(p.peakDistance).toBe(3)
      const values = (await figure.locator('[data-distance]').allTextContents()).map(Number)
      expect(values).toHaveLength(8)
      values.forEach((v, i) => expect(v).toBeCloseTo(p.meanAbsAttribution[i]!, 2))
    }
    expect(await page.locator('table[data-surrogates] tbody tr').count()).toBeGreaterThanOrEqual(2)
    await page.screenshot({ path: screenshotPath('text-generation'), fullPage: true })
    await page.close()
  }, 300_000)
})
