import './style.css'
import type { View } from './app'
import { h, link, mount, notice } from './dom'
import { LabClient, LabError, storedKey, storeKey } from './gql'
import { compareView } from './views/compare'
import { datasetsView, datasetView } from './views/datasets'
import { experimentsView } from './views/experiments'
import { runView } from './views/run'
import { runsView } from './views/runs'
import { startView } from './views/start'
import { sweepsView, sweepView } from './views/sweeps'

const routes: [RegExp, string[], View][] = [
  [/^\/(?:experiments\/?)?$/, [], experimentsView],
  [/^\/experiments\/([^/]+)\/?$/, ['name'], runsView],
  [/^\/runs\/([^/]+)\/?$/, ['id'], runView],
  [/^\/compare\/([^/]*)\/?$/, ['ids'], compareView],
  [/^\/sweeps\/?$/, [], sweepsView],
  [/^\/sweeps\/([^/]+)\/?$/, ['id'], sweepView],
  [/^\/datasets\/?$/, [], datasetsView],
  [/^\/datasets\/([^/]+)\/?$/, ['id'], datasetView],
  [/^\/new\/?$/, [], startView],
]

const client = new LabClient()
const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true })
const main = h('main', { id: 'main', tabindex: '-1' })
const keyButton = h('button', { type: 'button', class: 'link', hidden: true }, 'Forget API key')
// Offered once the key's scope is known to allow starting runs.
const newRunLink = link('/new', 'New run')
newRunLink.hidden = true
document.body.append(
  h('a', { href: '#main', class: 'skip' }, 'Skip to content'),
  h(
    'header',
    {},
    h(
      'nav',
      { 'aria-label': 'Main' },
      link('/', h('strong', {}, 'Explainable Lab')),
      link('/', 'Experiments'),
      link('/sweeps', 'Sweeps'),
      link('/datasets', 'Datasets'),
      newRunLink,
    ),
    keyButton,
  ),
  banner,
  main,
)

let canWrite = false
let cleanup: (() => void) | void = undefined

function render() {
  if (typeof cleanup === 'function') cleanup()
  cleanup = undefined
  const path = decodeURI(location.pathname)
  for (const [pattern, names, view] of routes) {
    const match = pattern.exec(path)
    if (!match) continue
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? '')]))
    cleanup = view(main, { client, params, canWrite, navigate })
    return
  }
  mount(
    main,
    h('h1', {}, 'Not found'),
    notice('empty', 'This page does not exist.'),
    link('/', 'Go to the experiments'),
  )
}

function navigate(href: string) {
  history.pushState(null, '', href)
  render()
  main.focus({ preventScroll: true })
  window.scrollTo(0, 0)
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element | null)?.closest?.('a[data-nav]')
  if (!(a instanceof HTMLAnchorElement) || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey)
    return
  e.preventDefault()
  navigate(a.getAttribute('href') ?? '/')
})
window.addEventListener('popstate', render)

client.onState((s) => {
  banner.hidden = s !== 'reconnecting'
  banner.textContent = 'Connection to the server lost; reconnecting… Live updates resume on their own.'
})

/** Asks for an API key and keeps it for this browser session only. */
function askForKey(message: string): Promise<void> {
  return new Promise((resolve) => {
    const input = h('input', {
      type: 'password',
      name: 'key',
      required: true,
      autocomplete: 'off',
      id: 'api-key',
    })
    const form = h(
      'form',
      { class: 'key-form' },
      h('h1', {}, 'API key'),
      h('p', {}, message),
      h('label', { for: 'api-key' }, 'Key'),
      input,
      h('button', { type: 'submit' }, 'Continue'),
      h(
        'p',
        { class: 'muted' },
        'The key stays in this tab (session storage) and is sent only to this server.',
      ),
    )
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      storeKey(input.value.trim())
      resolve()
    })
    mount(main, form)
    input.focus()
  })
}

async function start() {
  mount(main, notice('loading', 'Connecting to the server…'))
  for (;;) {
    try {
      // Who may do what: the server tells each key its scope; READ keys get no mutation buttons.
      const { viewer } = await client.request<{ viewer: { scope: string } }>(
        `query Viewer { viewer { scope } }`,
      )
      canWrite = viewer.scope !== 'READ'
      break
    } catch (err) {
      const e = err as LabError
      if (e.code === 'UNAUTHENTICATED') {
        await askForKey(
          storedKey() ? 'That key was not accepted. Enter another one.' : 'This server needs an API key.',
        )
        continue
      }
      mount(main, notice('error', e.code === 'UNREACHABLE' ? e.message : `The server refused: ${e.message}`))
      await new Promise((r) => setTimeout(r, 3000))
    }
  }
  keyButton.hidden = storedKey() === null
  newRunLink.hidden = !canWrite
  render()
}

keyButton.addEventListener('click', () => {
  storeKey(null)
  void client.resetConnection()
  location.reload()
})

void start()
