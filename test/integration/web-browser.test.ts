import type { Browser, Page, WebSocketRoute } from 'playwright-core'
import zlib from 'node:zlib'
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

// The dashboard in a real Chromium against the real server (port 0, its own database, one training worker).
const START = `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`
const BUDGET_BYTES = 300 * 1024

describeInBrowser('web dashboard in Chromium', () => {
  let t: TestLab
  let browser: Browser
  let base: string
  let datasetId: string

  const startRun = async (input: Record<string, unknown>): Promise<string> => {
    // No explanations: they would keep the one worker busy long after training, and are not under test here.
    const res = await t.gql<{ startRun: { id: string } }>(START, {
      input: { datasetId, explain: [], ...input },
    })
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    return res.data!.startRun.id
  }
  const runStatus = async (id: string) =>
    (await t.gql<{ run: { status: string } }>(`query($id: ID!) { run(id: $id) { status } }`, { id })).data!
      .run.status
  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(45_000)
    return page
  }
  const pointsOf = async (page: Page, metric: string) =>
    Number((await page.locator(`[data-points="${metric}"]`).textContent()) ?? 'NaN')
  const pageStatus = (page: Page) => page.locator('[data-run-status]').getAttribute('data-run-status')

  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'wasm' })
    base = `http://127.0.0.1:${t.lab.port}`
    const res = await t.gql<{ generateDataset: { id: string } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      { input: { name: 'web-linear', generator: 'LINEAR', rows: 800, seed: 7, noise: 0.1 } },
    )
    datasetId = res.data!.generateDataset.id
    browser = await launchBrowser()
  }, 120_000)
  const cleanups: (() => Promise<unknown>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {})
  })
  afterAll(async () => {
    await browser?.close()
    await t?.stop()
  })

  test('the first view loads under the JavaScript budget (gzipped)', async () => {
    const page = await newPage()
    const scripts: Promise<Buffer>[] = []
    page.on('response', (res) => {
      if (res.request().resourceType() === 'script') scripts.push(res.body())
    })
    await page.goto(`${base}/`)
    await page.getByText('No experiments yet').waitFor()
    const bodies = await Promise.all(scripts)
    expect(bodies.length).toBeGreaterThan(0)
    const gzipped = bodies.reduce((sum, b) => sum + zlib.gzipSync(b, { level: 9 }).length, 0)
    console.log(`first view: ${bodies.length} script(s), ${(gzipped / 1024).toFixed(1)} KB gzipped`)
    expect(gzipped).toBeLessThan(BUDGET_BYTES)
    await page.close()
  }, 120_000)

  test('runs table: filter, sort, and live rows', async () => {
    const small = { experiment: 'table', epochs: 2, hiddenLayers: [4], batchSize: 64 }
    const rates = { 'run-a': 0.01, 'run-b': 0.003, 'run-c': 0.0005 }
    const ids: Record<string, string> = {}
    for (const [name, learningRate] of Object.entries(rates))
      ids[name] = await startRun({ ...small, name, learningRate })

    const page = await newPage()
    await page.goto(`${base}/`)
    await page.getByRole('link', { name: 'table' }).click()
    const rows = page.locator('table.runs tbody tr')
    await waitFor(async () => (await rows.count()) === 3)
    const names = async () => rows.locator('td[data-col="name"]').allTextContents()

    await page.getByRole('button', { name: /^Learning rate/ }).click() // descending
    await waitFor(async () => (await names()).join() === 'run-a,run-b,run-c')
    await page.getByRole('button', { name: /^Learning rate/ }).click() // ascending
    await waitFor(async () => (await names()).join() === 'run-c,run-b,run-a')

    await page.getByLabel('Learning rate ≥').fill('0.002')
    await page.getByRole('button', { name: 'Apply' }).click()
    await waitFor(async () => (await names()).join() === 'run-b,run-a')

    await page.getByRole('button', { name: 'Clear' }).click()
    await waitFor(async () => (await rows.count()) === 3)
    await page.getByLabel('Name contains').fill('run-c')
    await page.getByLabel('Name contains').press('Enter')
    await waitFor(async () => (await names()).join() === 'run-c')
    await page.getByRole('button', { name: 'Clear' }).click()

    // Sorted by creation again (newest first) so the live row lands on the first page.
    await page.getByRole('button', { name: /^Created/ }).click()
    await waitFor(async () => (await rows.count()) === 3)
    const liveId = await startRun({ ...small, name: 'run-live', learningRate: 0.002 })
    const liveRow = page.locator(`tr[data-run-id="${liveId}"]`)
    await liveRow.waitFor()
    // Status turns SUCCEEDED in the row without a reload, once the worker is done with it.
    await waitFor(async () => (await runStatus(liveId)) === 'SUCCEEDED', {
      timeoutMs: 150_000,
      what: 'run-live to succeed',
    })
    await waitFor(
      async () => (await liveRow.locator('[data-status]').getAttribute('data-status')) === 'SUCCEEDED',
    )
    expect(await liveRow.locator('td[data-col="epoch"]').textContent()).toBe('2/2')
    await page.screenshot({ path: screenshotPath('runs-table'), fullPage: true })
    await page.close()
  }, 240_000)

  test('a run: its curve grows while it trains, and a dropped socket loses no point', async () => {
    const epochs = 30
    const id = await startRun({
      experiment: 'live',
      name: 'growing',
      epochs,
      hiddenLayers: [16, 8],
      batchSize: 8,
    })
    // A failure below must not leave the one worker busy for the next test.
    cleanups.push(() => t.gql(`mutation($id: ID!) { cancelRun(id: $id) { id } }`, { id }))
    const page = await newPage()
    // Every page WebSocket goes through here, so the test can drop one like a network blip would.
    const sockets: { page: WebSocketRoute; server: WebSocketRoute }[] = []
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      sockets.push({ page: ws, server: ws.connectToServer() })
    })
    await page.goto(`${base}/runs/${id}`)
    await page.locator('[data-points="loss"]').waitFor({ timeout: 120_000 })

    // Counted in the page while the run is RUNNING: the count has to move at least twice.
    const seen: number[] = []
    await waitFor(
      async () => {
        const n = await pointsOf(page, 'loss')
        if (n > 0 && n !== seen[seen.length - 1]) seen.push(n)
        return seen.length >= 3
      },
      { timeoutMs: 120_000 },
    )
    expect(await pageStatus(page)).toBe('RUNNING')
    expect(seen[2]!).toBeLessThan(epochs)

    const before = await pointsOf(page, 'loss')
    // 1012 (service restart): a close graphql-ws retries, as it would a real drop.
    const dropped = sockets[sockets.length - 1]!
    await dropped.page.close({ code: 1012, reason: 'test drops the connection' })
    await dropped.server.close({ code: 1012, reason: 'test drops the connection' })
    await page.getByText('Connection to the server lost').waitFor()
    // It reconnects on its own and resubscribes from the last epoch it holds.
    await waitFor(async () => sockets.length >= 2, { timeoutMs: 60_000 })
    await waitFor(async () => (await runStatus(id)) === 'SUCCEEDED', {
      timeoutMs: 240_000,
      what: 'the run to succeed',
    })
    await waitFor(async () => (await pageStatus(page)) === 'SUCCEEDED', {
      what: 'the page to show SUCCEEDED',
    })
    expect(before).toBeLessThan(epochs)
    expect(await pointsOf(page, 'loss')).toBe(epochs)
    expect(await page.locator('[data-metric="loss"]').getAttribute('data-last-epoch')).toBe(String(epochs))
    // The page refuses a repeated epoch and counts it: resuming with afterEpoch must send none.
    expect(await page.locator('[data-metric="loss"]').getAttribute('data-duplicates')).toBe('0')
    await page.screenshot({ path: screenshotPath('run-live'), fullPage: true })

    // A reload draws the stored history through metricHistory: the same points.
    await page.reload()
    await waitFor(async () => (await pointsOf(page, 'loss').catch(() => 0)) === epochs)
    // A narrow window: one chart per row, nothing wider than the window.
    await page.setViewportSize({ width: 400, height: 800 })
    await waitFor(async () => (await page.evaluate('document.documentElement.scrollWidth')) === 400)
    await page.screenshot({ path: screenshotPath('run-narrow'), fullPage: true })
    await page.close()
  }, 360_000)

  test('the cancel button cancels a running run', async () => {
    const id = await startRun({
      experiment: 'live',
      name: 'to-cancel',
      epochs: 2000,
      hiddenLayers: [16],
      batchSize: 8,
    })
    const page = await newPage()
    await page.goto(`${base}/runs/${id}`)
    await waitFor(async () => (await pageStatus(page)) === 'RUNNING', { timeoutMs: 120_000 })
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await waitFor(async () => (await pageStatus(page)) === 'CANCELLED', { timeoutMs: 60_000 })
    expect(await runStatus(id)).toBe('CANCELLED')
    await expect(page.getByRole('button', { name: 'Cancel run' }).isHidden()).resolves.toBe(true)
    await page.close()
  }, 240_000)

  test('datasets: the list with versions, and a version with its feature statistics', async () => {
    const page = await newPage()
    await page.goto(`${base}/`)
    await page.getByRole('link', { name: 'Datasets' }).click()
    await page.locator('tr[data-dataset="web-linear"]').getByRole('link', { name: 'v1' }).click()
    const stats = page.locator('[data-feature-stats] tbody tr')
    await stats.first().waitFor()
    const dataset = await t.gql<{ dataset: { featureNames: string[] } }>(
      `query($id: ID!) { dataset(id: $id) { featureNames } }`,
      { id: datasetId },
    )
    expect(await stats.locator('td:first-child').allTextContents()).toEqual(
      dataset.data!.dataset.featureNames,
    )
    await page.close()
  })
})
