// A few lines instead of a framework: elements built from tag, attributes and children.

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>

/** `h('a', { href: '/x', onclick: fn }, 'text')`: on* keys become listeners, false/null attributes are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value)
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'object' ? child : String(child))
  }
  return el
}

/** Replaces everything inside `el`. */
export function mount(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren()
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'object' ? child : String(child))
  }
}

/** A message for a person in place of a view: what happened, and what to do. */
export function notice(kind: 'empty' | 'error' | 'loading', text: string): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text)
}

export function fmt(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '–'
  if (Number.isInteger(value)) return String(value)
  if (Math.abs(value) >= 1e4 || Math.abs(value) < 1e-3) return value.toExponential(2)
  return String(Number(value.toPrecision(digits)))
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '–'
  const d = new Date(iso)
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' })
}

/** Navigation inside the page without a reload (links are real links, so keyboard and middle-click work). */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-nav': true }, ...children)
}

/** A column of {@link dataTable}: its header, `num` for numbers (right-aligned). */
export type Column = string | { label: string; num: boolean }

/**
 * A plain table in its scrolling wrapper: one header per column, one cell per column in each row (numbers in
 * `num` columns right-aligned). `rowAttrs` gives each row's attributes.
 */
export function dataTable(
  attrs: Attrs,
  columns: Column[],
  rows: Child[][],
  rowAttrs: (i: number) => Attrs = () => ({}),
): HTMLElement {
  const num = columns.map((c) => typeof c !== 'string' && c.num)
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid', ...attrs },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((c, j) => h('th', num[j] ? { class: 'num' } : {}, typeof c === 'string' ? c : c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells, i) =>
          h(
            'tr',
            rowAttrs(i),
            cells.map((cell, j) => h('td', num[j] ? { class: 'num' } : {}, cell)),
          ),
        ),
      ),
    ),
  )
}

/**
 * Runs `work` with `button` disabled; an error is said in `out` (after `prefix`), and the button can be
 * pressed again.
 */
export async function submitting(
  button: HTMLButtonElement,
  out: Element,
  work: () => Promise<void>,
  prefix = '',
): Promise<void> {
  button.disabled = true
  try {
    await work()
  } catch (err) {
    mount(out, notice('error', `${prefix}${(err as Error).message}`))
  } finally {
    button.disabled = false
  }
}
