import fs from 'node:fs'
import path from 'node:path'
import { defaultWebDir } from '../../src/server/web'
import { startTestLab, TestLab } from '../helpers/lab'

// The built dashboard as the server hands it out: content types, caching, security headers, the fallback.
let t: TestLab
let base: string
const webDir = defaultWebDir()

beforeAll(async () => {
  if (!fs.existsSync(path.join(webDir, 'index.html')))
    throw new Error(`${webDir}/index.html is missing: run npm run build (npm test does)`)
  t = await startTestLab({ LAB_WORKERS: '0' })
  base = `http://127.0.0.1:${t.lab.port}`
})
afterAll(async () => {
  await t?.stop()
})

function assetOf(html: string, ext: string): string {
  const match = new RegExp(`(/assets/[^"]+\\.${ext})"`).exec(html)
  if (!match?.[1]) throw new Error(`no .${ext} asset named in index.html`)
  return match[1]
}

test('/ is the page, with a CSP that allows no inline script, never cached', async () => {
  const res = await fetch(`${base}/`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  expect(res.headers.get('cache-control')).toBe('no-cache')
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  const csp = res.headers.get('content-security-policy') ?? ''
  expect(csp).toContain("script-src 'self'")
  expect(csp).not.toContain('unsafe-inline')
  const html = await res.text()
  // Every script is a file of this origin: nothing inline, nothing from elsewhere.
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\//)
})

test('hashed assets have their content type and are cached for good', async () => {
  const html = await (await fetch(`${base}/`)).text()
  const js = await fetch(base + assetOf(html, 'js'))
  expect(js.status).toBe(200)
  expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript/)
  expect(js.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/)
  const css = await fetch(base + assetOf(html, 'css'))
  expect(css.headers.get('content-type')).toMatch(/^text\/css/)
  // A stale hash is a plain 404, never the page (a script must not receive HTML).
  const stale = await fetch(`${base}/assets/index-00000000.js`)
  expect(stale.status).toBe(404)
  expect(stale.headers.get('content-type')).not.toMatch(/html/)
})

test('the page routes fall back to index.html; /graphql and /healthz are never shadowed', async () => {
  const deep = await fetch(`${base}/runs/some-id`, { headers: { accept: 'text/html' } })
  expect(deep.status).toBe(200)
  expect(await deep.text()).toContain('<title>Explainable Lab</title>')

  const health = await fetch(`${base}/healthz`, { headers: { accept: 'text/html' } })
  expect(health.headers.get('content-type')).toMatch(/json/)
  const gql = await t.gql<{ experiments: { totalCount: number } }>('{ experiments { totalCount } }')
  expect(gql.data?.experiments.totalCount).toBe(0)
  const below = await fetch(`${base}/graphql/x`, { headers: { accept: 'text/html' } })
  expect(await below.text()).not.toContain('<title>Explainable Lab</title>')
  const json = await fetch(`${base}/nothing-here`, { headers: { accept: 'application/json' } })
  expect(json.status).toBe(404)
})
