import type { Browser, Page } from 'playwright-core'
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

// The sweep pages in a real Chromium against the real server (port 0, its own database, one worker).
const START = `mutation($input: SweepInput!) { startSweep(input: $input) { id runCap } }`
const GET = `query($id: ID!) { sweep(id: $id) {
  status runCap finishedCount bestRun { id }
  runs(first: 100) { edges { node { id status error learningRate batchSize summary { metrics { name value } } } } }
} }`

interface ApiRun {
  id: string
  status: string
  error: string | null
  learningRate: number
  batchSize: number
  summary: { metrics: { name: string; value: number }[] }
}
interface ApiSweep {
  status: string
  runCap: number
  finishedCount: number
  bestRun: { id: string } | null
  runs: { edges: { node: ApiRun }[] }
}

describeInBrowser('sweep pages in Chromium', () => {
  let t: TestLab
  let browser: Browser
  let base: string
  let datasetId: string

  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(30_000)
    return page
  }
  const getSweep = async (id: string) => (await t.gql<{ sweep: ApiSweep }>(GET, { id })).data!.sweep

  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '1', LAB_TF_BACKEND: 'cpu' })
    base = `http://127.0.0.1:${t.lab.port}`
    const res = await t.gql<{ generateDataset: { id: string } }>(
      `mutation { generateDataset(input: { name: "sweep-web", generator: LINEAR, rows: 200, noise: 0.1, seed: 4 }) { id } }`,
    )
    datasetId = res.data!.generateDataset.id
    browser = await launchBrowser()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await t?.stop()
  })

  test('the list says there are no sweeps yet', async () => {
    const page = await newPage()
    await page.goto(`${base}/`)
    await page.getByRole('link', { name: 'Sweeps' }).click()
    await page.getByText('No sweeps yet').waitFor()
    await page.close()
  }, 30_000)

  test('a sweep page follows the sweep live to its end and draws what the API reports', async () => {
    // The median rule of the sweeps test: a hopeless learning rate is stopped once a good run is done.
    const res = await t.gql<{ startSweep: { id: string; runCap: number } }>(START, {
      input: {
        experiment: 'web-sweep',
        datasetId,
        method: 'GRID',
        parameters: [
          { name: 'learningRate', values: [0.02, 0.0000001] },
          { name: 'batchSize', values: [16, 32] },
        ],
        base: { datasetId, epochs: 40, hiddenLayers: [8], explain: [] },
        metric: 'loss',
        goal: 'MINIMIZE',
        maxConcurrent: 1,
        earlyTerminate: { type: 'MEDIAN_STOP', minEpochs: 2 },
      },
    })
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    const { id, runCap } = res.data!.startSweep
    expect(runCap).toBe(4)

    const page = await newPage()
    await page.goto(`${base}/sweeps`)
    await page.locator(`tr[data-sweep-id="${id}"] a`).click()
    const progress = page.locator('[data-progress]')
    await progress.waitFor()
    // Every value the progress shows, recorded in the page; a reload would lose the marker and the record.
    // (The test's TypeScript has no DOM types: in-page code goes over as text.)
    await page.evaluate(`(() => {
      window.seen = []
      const record = () => {
        const v = Number(document.querySelector('[data-progress]')?.getAttribute('data-finished'))
        if (window.seen.at(-1) !== v) window.seen.push(v)
      }
      record()
      new MutationObserver(record).observe(document.querySelector('main'), {
        subtree: true,
        childList: true,
        attributes: true,
      })
    })()`)
    const seen = () => page.evaluate<number[] | undefined>('window.seen')
    expect((await seen())![0]).toBeLessThan(runCap)

    await waitFor(
      async () =>
        (await page.locator('[data-sweep-status]').getAttribute('data-sweep-status')) === 'FINISHED',
      { timeoutMs: 80_000, what: 'the page to show the sweep finished' },
    )
    const api = await getSweep(id)
    expect(api.status).toBe('FINISHED')
    expect(await progress.getAttribute('data-finished')).toBe(String(runCap))
    expect(await progress.getAttribute('data-planned')).toBe(String(runCap))
    const history = (await seen())!
    expect(history.at(-1)).toBe(runCap)
    expect(history.length).toBeGreaterThanOrEqual(2)
    expect(history).toEqual([...history].sort((a, b) => a - b))

    // The runs table: every run of the API, early-stopped ones marked as such.
    const runs = api.runs.edges.map((e) => e.node)
    expect(runs).toHaveLength(runCap)
    const rows = page.locator('table.runs tbody tr')
    expect(await rows.count()).toBe(runCap)
    const early = runs.filter((r) => r.status === 'CANCELLED' && r.error?.startsWith('stopped early'))
    expect(early.length).toBeGreaterThan(0)
    for (const r of runs) {
      const row = page.locator(`table.runs tr[data-run-id="${r.id}"]`)
      const isEarly = early.includes(r)
      expect((await row.getAttribute('data-early-stopped')) !== null).toBe(isEarly)
      expect(await row.locator('td[data-col="status"]').textContent()).toBe(
        isEarly ? 'stopped early' : r.status.toLowerCase(),
      )
    }

    // Parallel coordinates: one line per ended run with the metric, the numbers the API has.
    const metricOf = (r: ApiRun) => r.summary.metrics.find((m) => m.name === 'loss')?.value
    const drawn = runs.filter((r) => metricOf(r) !== undefined)
    expect(drawn.length).toBeGreaterThanOrEqual(2)
    expect(await page.locator('canvas[data-lines]').getAttribute('data-lines')).toBe(String(drawn.length))
    const lines = page.locator('[data-parallel] tr[data-line]')
    expect(await lines.count()).toBe(drawn.length)
    for (const r of drawn) {
      const line = page.locator(`[data-parallel] tr[data-line="${r.id}"]`)
      const value = async (axis: string) =>
        Number(await line.locator(`td[data-axis="${axis}"]`).getAttribute('data-value'))
      expect(await value('learningRate')).toBe(r.learningRate)
      expect(await value('batchSize')).toBe(r.batchSize)
      expect(await value('loss')).toBe(metricOf(r))
    }

    // The best run is the API's, in the facts, the table and the drawing.
    expect(api.bestRun).not.toBeNull()
    const bestId = api.bestRun!.id
    expect(await page.locator('dd[data-best-run]').getAttribute('data-best-run')).toBe(bestId)
    expect(await page.locator('[data-parallel] tr[data-best]').getAttribute('data-line')).toBe(bestId)
    expect(await page.locator('table.runs tr.best').getAttribute('data-run-id')).toBe(bestId)
    // The canvas has lines on it, not only axes: the best one's orange is drawn.
    const orange = await page.evaluate<number>(`(() => {
      const c = document.querySelector('canvas[data-lines]')
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 110 && d[i + 2] < 60) n++
      return n
    })()`)
    expect(orange).toBeGreaterThan(50)
    await page.screenshot({ path: screenshotPath('sweep-page'), fullPage: true })

    // A narrow window: the drawing shrinks with it and wide tables scroll inside their box, not the page.
    await page.setViewportSize({ width: 400, height: 800 })
    await waitFor(async () => (await page.evaluate('document.documentElement.scrollWidth')) === 400)
    expect(await lines.count()).toBe(drawn.length)
    await page.setViewportSize({ width: 1280, height: 800 })

    // The list shows the same sweep done, with its best run.
    await page.getByRole('link', { name: '← Sweeps' }).click()
    const listRow = page.locator(`tr[data-sweep-id="${id}"]`)
    await listRow.waitFor()
    expect(await listRow.locator('[data-best-run]').getAttribute('data-best-run')).toBe(bestId)
    expect(await listRow.locator('td[data-progress]').textContent()).toContain(`${runCap} of ${runCap}`)
    await page.close()
  }, 100_000)

  test('the sweeps list follows a running sweep to its end without a reload', async () => {
    const res = await t.gql<{ startSweep: { id: string; runCap: number } }>(START, {
      input: {
        experiment: 'web-sweep-list',
        datasetId,
        method: 'GRID',
        parameters: [{ name: 'learningRate', values: [0.01, 0.02, 0.03] }],
        base: { datasetId, epochs: 30, hiddenLayers: [8], explain: [] },
        metric: 'loss',
        goal: 'MINIMIZE',
        maxConcurrent: 1,
      },
    })
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    const { id, runCap } = res.data!.startSweep
    const page = await newPage()
    await page.goto(`${base}/sweeps`)
    const row = `tr[data-sweep-id="${id}"]`
    await page.locator(row).waitFor()
    // Every finished count the row shows, recorded in the page: a reload would lose the record.
    await page.evaluate(`(() => {
      window.listSeen = []
      const record = () => {
        const v = document.querySelector('${row} [data-progress]')?.getAttribute('data-finished')
        if (v !== undefined && v !== null && window.listSeen.at(-1) !== Number(v)) window.listSeen.push(Number(v))
      }
      record()
      new MutationObserver(record).observe(document.querySelector('main'), { subtree: true, childList: true, attributes: true })
    })()`)
    await page.locator(`${row}[data-sweep-status="FINISHED"]`).waitFor({ timeout: 80_000 })
    const seen = (await page.evaluate<number[]>('window.listSeen'))!
    expect(seen[0]).toBeLessThan(runCap)
    expect(seen.at(-1)).toBe(runCap)
    const api = await getSweep(id)
    expect(api.status).toBe('FINISHED')
    expect(await page.locator(`${row} [data-best-run]`).getAttribute('data-best-run')).toBe(api.bestRun!.id)
    await page.close()
  }, 120_000)

  test('the cancel button cancels a running sweep and its runs', async () => {
    const res = await t.gql<{ startSweep: { id: string } }>(START, {
      input: {
        experiment: 'web-sweep-cancel',
        datasetId,
        method: 'GRID',
        parameters: [{ name: 'learningRate', values: [0.01, 0.02] }],
        base: { datasetId, epochs: 3000, hiddenLayers: [4], explain: [] },
        metric: 'loss',
        goal: 'MINIMIZE',
      },
    })
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    const { id } = res.data!.startSweep
    const page = await newPage()
    await page.goto(`${base}/sweeps/${id}`)
    await page.getByRole('button', { name: 'Cancel sweep' }).click()
    await waitFor(
      async () =>
        (await page.locator('[data-sweep-status]').getAttribute('data-sweep-status')) === 'CANCELLED',
      { what: 'the page to show the sweep cancelled' },
    )
    // A run the worker holds ends CANCELLED once the trainer has stopped it, a moment after the sweep.
    const api = await waitFor(
      async () => {
        const sweep = await getSweep(id)
        return sweep.runs.edges.every((e) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.node.status))
          ? sweep
          : undefined
      },
      { what: 'every run of the sweep to end' },
    )
    expect(api.status).toBe('CANCELLED')
    expect(api.runs.edges.map((e) => e.node.status)).toEqual(api.runs.edges.map(() => 'CANCELLED'))
    expect(await page.getByRole('button', { name: 'Cancel sweep' }).isHidden()).toBe(true)
    await page.close()
  }, 60_000)
})
