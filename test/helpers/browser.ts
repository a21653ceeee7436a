import fs from 'node:fs'
import path from 'node:path'
import { Browser, chromium } from 'playwright-core'

/** Debian's Chromium (`.ci/run` installs it); never a browser downloaded by playwright. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/** Headless, and quiet on a closed network: without the background flags Chromium floods it with retries. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Screenshots and other artefacts of browser tests (gitignored). */
export const TEST_OUTPUT = path.join(__dirname, '..', '..', 'test-output')

export function chromiumPresent(): boolean {
  return fs.existsSync(CHROMIUM_PATH)
}

/**
 * `describe` for tests that need Chromium. Without it they are skipped with a message - except under CI,
 * where a missing browser fails the run rather than passing it silently.
 */
export function describeInBrowser(name: string, fn: () => void): void {
  if (chromiumPresent()) {
    describe(name, fn)
    return
  }
  if (process.env['CI']) {
    describe(name, () => {
      test('Chromium is installed', () => {
        throw new Error(`${CHROMIUM_PATH} is missing: .ci/run installs it (apt-get install -y chromium)`)
      })
    })
    return
  }
  console.warn(
    `Skipping the browser tests "${name}": ${CHROMIUM_PATH} is missing (apt-get install -y chromium, or set CHROMIUM_PATH).`,
  )
  describe.skip(name, fn)
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(TEST_OUTPUT, { recursive: true })
  return path.join(TEST_OUTPUT, `${name}.png`)
}
