import express, { NextFunction, Request, Response, Router } from 'express'
import fs from 'node:fs'
import path from 'node:path'

/**
 * The page's Content-Security-Policy: scripts and styles only from this origin (Vite emits no inline script),
 * GraphQL over fetch and WebSocket to this origin only, no frames, no plugins.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ')

/** Paths the page never answers, so a typo in them stays a 404 of theirs and the fallback shadows neither. */
const NOT_THE_PAGE = ['/graphql', '/healthz']

/** dist/web of this checkout, found from this file whether it runs compiled (dist/src/server) or not (src/server). */
export function defaultWebDir(): string {
  let dir = __dirname
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return path.join(dir, 'dist', 'web')
}

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', WEB_CSP)
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Referrer-Policy', 'no-referrer')
  res.setHeader('X-Frame-Options', 'DENY')
}

/**
 * The web dashboard built by Vite (web/ -> dist/web): hashed assets cached for a year, index.html never
 * cached (it names the current hashes), and every other GET that wants HTML answered with index.html so
 * the page's own routes (/runs/:id ...) survive a reload.
 */
export function webPage(dir: string): Router {
  const router = express.Router()
  const index = path.join(dir, 'index.html')
  const isPagePath = (p: string) => !NOT_THE_PAGE.some((n) => p === n || p.startsWith(`${n}/`))

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!isPagePath(req.path)) return next()
    securityHeaders(res)
    next()
  })
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
  )
  router.use(
    express.static(dir, {
      index: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  )
  router.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isPagePath(req.path)) return next()
    // A missing file with an extension is a 404, not the page: a stale hashed script must not get HTML.
    if (path.extname(req.path) !== '' || req.path.startsWith('/assets/') || !req.accepts('html')) {
      res.status(404).type('text/plain').send('Not found\n')
      return
    }
    if (!fs.existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send('The web page is not built: run `npm run build` (or `npm start`, which builds it).\n')
      return
    }
    res.setHeader('Cache-Control', 'no-cache')
    res.sendFile(index)
  })
  return router
}
