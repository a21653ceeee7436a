import type { Browser, Page } from 'playwright-core'
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser'
import { startTestLab, TestLab } from '../helpers/lab'

// A new user's first minutes in a real Chromium: an empty server, a dataset generated and a run started from
// the page, no query written.
describeInBrowser('starting work from the dashboard', () => {
  let t: TestLab
  let browser: Browser
  let base: string

  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(30_000)
    return page
  }

  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' })
    base = `http://127.0.0.1:${t.lab.port}`
    browser = await launchBrowser()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await t?.stop()
  })

  test('from the empty experiments page to a trained run: generate a dataset, start a run, watch it finish', async () => {
    const page = await newPage()
    await page.goto(`${base}/`)
    await page.getByText('No experiments yet').waitFor()
    await page.getByRole('link', { name: 'Start your first run' }).click()
    await page.getByRole('heading', { name: 'New run' }).waitFor()

    await page.locator('#start-generator').selectOption('LINEAR')
    await page.locator('#start-rows').fill('300')
    await page.getByRole('button', { name: 'Generate dataset' }).click()
    await page.getByText('Generated linear').waitFor()
    const { datasets } = (
      await t.gql<{ datasets: { edges: { node: { id: string; name: string; rowCount: number } }[] } }>(
        `{ datasets { edges { node { id name rowCount } } } }`,
      )
    ).data!
    expect(datasets.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ name: 'linear', rowCount: 300 }),
    ])
    expect(await page.locator('#start-dataset').inputValue()).toBe(datasets.edges[0]!.node.id)
    expect(await page.locator('#start-family').inputValue()).toBe('MLP')

    // A mistake is said in words and starts nothing.
    await page.locator('#start-hiddenLayers').fill('8, wide')
    await page.getByRole('button', { name: 'Start run' }).click()
    await page.getByText('Hidden layers are whole numbers').waitFor()
    await page.locator('#start-hiddenLayers').fill('8')
    await page.locator('#start-epochs').fill('0')
    await page.getByRole('button', { name: 'Start run' }).click()
    await page.getByText('The server refused').waitFor()
    expect(
      (await t.gql<{ runs: { totalCount: number } }>(`{ runs { totalCount } }`)).data!.runs.totalCount,
    ).toBe(0)

    await page.locator('#start-epochs').fill('4')
    await page.locator('#start-experiment').fill('first-steps')
    await page.locator('#start-explain').uncheck()
    await page.getByRole('button', { name: 'Start run' }).click()
    await page.waitForURL(/\/runs\/[0-9a-f-]+$/)
    await page.locator('[data-run-status="SUCCEEDED"]').waitFor({ timeout: 60_000 })
    const runId = page.url().split('/').pop()!
    const { run } = (
      await t.gql<{
        run: { epochs: number; hiddenLayers: number[]; experiment: { name: string }; status: string }
      }>(`query($id: ID!) { run(id: $id) { epochs hiddenLayers status experiment { name } } }`, { id: runId })
    ).data!
    expect(run).toEqual({
      epochs: 4,
      hiddenLayers: [8],
      status: 'SUCCEEDED',
      experiment: { name: 'first-steps' },
    })
    await page.screenshot({ path: screenshotPath('started-run'), fullPage: true })
    await page.close()
  }, 120_000)

  test("a dataset's page offers training on that version, with the family its task suggests", async () => {
    const { generateDataset } = (
      await t.gql<{ generateDataset: { id: string } }>(
        `mutation { generateDataset(input: { name: "copy", generator: COPY_TEXT, rows: 2000, seed: 1 }) { id } }`,
      )
    ).data!
    const page = await newPage()
    await page.goto(`${base}/datasets/${generateDataset.id}`)
    await page.getByRole('link', { name: 'Train a model on this version' }).click()
    await page.getByRole('heading', { name: 'New run' }).waitFor()
    expect(await page.locator('#start-dataset').inputValue()).toBe(generateDataset.id)
    expect(await page.locator('#start-family').inputValue()).toBe('SEQUENCE')
    expect(await page.locator('#start-contextLength').isVisible()).toBe(true)
    expect(await page.locator('#start-latentDim').isVisible()).toBe(false)
    await page.close()
  })

  test('a grid sweep started from the page: every combination run, followed to its end', async () => {
    const page = await newPage()
    await page.goto(`${base}/new`)
    await page.getByRole('heading', { name: '3. Or sweep' }).waitFor()
    const { generateDataset } = (
      await t.gql<{ generateDataset: { id: string } }>(
        `mutation { generateDataset(input: { name: "grid", generator: LINEAR, rows: 200, seed: 2 }) { id } }`,
      )
    ).data!
    await page.goto(`${base}/new`)
    await page.locator('#start-dataset').selectOption(generateDataset.id)
    await page.locator('#start-epochs').fill('3')
    await page.locator('#start-hiddenLayers').fill('8')
    await page.locator('#start-experiment').fill('grid-from-page')
    await page.locator('#start-explain').uncheck()
    await page.locator('#start-sweep-values-0').fill('0.01, 0.02')
    await page.locator('#start-sweep-param-1').selectOption('batchSize')
    await page.getByRole('button', { name: 'Start sweep' }).click()
    await page.getByText('Give each swept parameter its values').waitFor()
    await page.locator('#start-sweep-values-1').fill('16, 32')
    await page.screenshot({ path: screenshotPath('new-run'), fullPage: true })
    await page.getByRole('button', { name: 'Start sweep' }).click()
    await page.waitForURL(/\/sweeps\/[0-9a-f-]+$/)
    await page.locator('[data-sweep-status="FINISHED"]').waitFor({ timeout: 90_000 })
    const sweepId = page.url().split('/').pop()!
    const { sweep } = (
      await t.gql<{
        sweep: {
          runCap: number
          experiment: string
          runs: { edges: { node: { learningRate: number; batchSize: number; epochs: number } }[] }
        }
      }>(
        `query($id: ID!) { sweep(id: $id) { runCap experiment runs { edges { node { learningRate batchSize epochs } } } } }`,
        { id: sweepId },
      )
    ).data!
    expect(sweep.runCap).toBe(4)
    expect(sweep.experiment).toBe('grid-from-page')
    const combos = sweep.runs.edges
      .map((e) => `${e.node.learningRate}/${e.node.batchSize}/${e.node.epochs}`)
      .sort()
    expect(combos).toEqual(['0.01/16/3', '0.01/32/3', '0.02/16/3', '0.02/32/3'])
    await page.close()
  }, 150_000)
})
