import type { Browser, Page } from 'playwright-core'
import { describeInBrowser, launchBrowser, screenshotPath } from '../helpers/browser'
import { startTestLab, TestLab } from '../helpers/lab'

// The dashboard against a server that requires API keys, and against one that has gone away. No worker:
// runs stay QUEUED, which is all these tests need.
const ADMIN_KEY = 'web-admin-key-0123456789abcdef'

describeInBrowser('web dashboard with API keys', () => {
  let t: TestLab
  let browser: Browser
  let base: string
  let runId: string
  let sweepId: string
  let stopped = false
  const keys: Record<'READ' | 'WRITE', string> = { READ: '', WRITE: '' }

  const admin = async <T>(query: string, variables: Record<string, unknown>) => {
    const res = await t.gql<T>(query, variables, { apiKey: ADMIN_KEY })
    if (res.errors) throw new Error(JSON.stringify(res.errors))
    return res.data!
  }
  const signIn = async (key: string, path: string, ready: string): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(30_000)
    await page.goto(base + path)
    await page.getByLabel('Key').fill(key)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.locator(ready).waitFor()
    return page
  }

  beforeAll(async () => {
    t = await startTestLab({ LAB_WORKERS: '0', LAB_AUTH: 'required', LAB_ADMIN_KEY: ADMIN_KEY })
    base = `http://127.0.0.1:${t.lab.port}`
    for (const scope of ['READ', 'WRITE'] as const) {
      const data = await admin<{ createApiKey: { key: string } }>(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`,
        { input: { name: `web-${scope}`, scope } },
      )
      keys[scope] = data.createApiKey.key
    }
    const dataset = await admin<{ generateDataset: { id: string } }>(
      `mutation($input: GenerateDatasetInput!) { generateDataset(input: $input) { id } }`,
      { input: { name: 'auth-xor', generator: 'XOR', rows: 200, seed: 1 } },
    )
    const run = await admin<{ startRun: { id: string } }>(
      `mutation($input: StartRunInput!) { startRun(input: $input) { id } }`,
      { input: { datasetId: dataset.generateDataset.id, experiment: 'auth', name: 'waiting', explain: [] } },
    )
    runId = run.startRun.id
    const sweep = await admin<{ startSweep: { id: string } }>(
      `mutation($input: SweepInput!) { startSweep(input: $input) { id } }`,
      {
        input: {
          experiment: 'auth-sweep',
          datasetId: dataset.generateDataset.id,
          method: 'GRID',
          parameters: [{ name: 'learningRate', values: [0.01, 0.02] }],
          base: { datasetId: dataset.generateDataset.id, explain: [] },
          metric: 'loss',
          goal: 'MINIMIZE',
        },
      },
    )
    sweepId = sweep.startSweep.id
    browser = await launchBrowser()
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    if (!stopped) await t?.stop()
  })

  test('asks for a key, refuses a wrong one, keeps a good one for the tab and offers only what it allows', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${base}/runs/${runId}`)
    await page.getByText('This server needs an API key.').waitFor()
    await page.getByLabel('Key').fill('not-a-key')
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.getByText('That key was not accepted').waitFor()
    await page.getByLabel('Key').fill(keys.READ)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.locator('[data-run-status="QUEUED"]').waitFor()
    expect(await page.evaluate('Object.values(sessionStorage)')).toContain(keys.READ)
    // READ may not cancel: the button is not offered.
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0)
    // Nor start runs: no New run link, and the page says why when opened directly.
    expect(await page.getByRole('link', { name: 'New run' }).count()).toBe(0)
    await page.reload()
    await page.locator('[data-run-status="QUEUED"]').waitFor()
    await page.close()
  })

  test('a WRITE key is offered the cancel button, and it cancels', async () => {
    const page = await signIn(keys.WRITE, `/runs/${runId}`, '[data-run-status="QUEUED"]')
    expect(await page.getByRole('link', { name: 'New run' }).count()).toBe(1)
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await page.locator('[data-run-status="CANCELLED"]').waitFor()
    await page.screenshot({ path: screenshotPath('run-cancelled'), fullPage: true })
    await page.close()
  })

  test('a READ key sees a running sweep without its cancel button; a WRITE key can cancel it', async () => {
    const reader = await signIn(keys.READ, `/sweeps/${sweepId}`, '[data-sweep-status="RUNNING"]')
    await reader.locator('[data-progress]').waitFor()
    expect(await reader.getByRole('button', { name: 'Cancel sweep' }).count()).toBe(0)
    await reader.close()
    const writer = await signIn(keys.WRITE, `/sweeps/${sweepId}`, '[data-sweep-status="RUNNING"]')
    await writer.getByRole('button', { name: 'Cancel sweep' }).click()
    await writer.locator('[data-sweep-status="CANCELLED"]').waitFor()
    await writer.close()
  })

  test('an unreachable server is said so, in words', async () => {
    // The runs table holds a live subscription, so the lost socket shows at once.
    const page = await signIn(keys.READ, '/experiments/auth', `tr[data-run-id="${runId}"]`)
    stopped = true
    await t.stop()
    await page.getByText('Connection to the server lost').waitFor()
    await page.getByRole('link', { name: 'Experiments', exact: true }).click()
    await page.getByText('The Explainable Lab server cannot be reached').waitFor()
    const text = await page.locator('main').innerText()
    expect(text).not.toMatch(/TypeError|Failed to fetch|at \w+ \(/)
    await page.close()
  })
})
