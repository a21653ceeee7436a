import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'

/**
 * The CLI is a client: it must stay loadable without the server's dependencies (type-graphql,
 * Prisma, TensorFlow ...), which are heavy and need generated code. Every import of src/cli stays
 * inside src/cli or names one of the few packages a client needs.
 */
const CLI = path.resolve(__dirname, '../../../src/cli')
const CLIENT_PACKAGES = new Set(['commander', 'yaml', 'cli-progress', 'graphql-ws', 'ws'])

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(file)
    return entry.name.endsWith('.ts') ? [file] : []
  })
}

describe('src/cli imports', () => {
  const files = sources(CLI)

  it('finds the CLI sources', () => {
    expect(files.map((f) => path.relative(CLI, f))).toEqual(expect.arrayContaining(['main.ts', 'client.ts']))
  })

  it.each(files.map((f) => [path.relative(CLI, f), f]))(
    '%s imports only the CLI and client packages',
    (_name, file) => {
      const text = readFileSync(file, 'utf8')
      const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)'([^']+)'/g)].map(
        (m) => m[1]!,
      )
      for (const specifier of specifiers) {
        if (specifier.startsWith('.')) {
          const target = path.resolve(path.dirname(file), specifier)
          expect(path.relative(CLI, target).startsWith('..')).toBe(false)
        } else if (!specifier.startsWith('node:')) {
          expect([specifier, CLIENT_PACKAGES.has(specifier)]).toEqual([specifier, true])
        }
      }
    },
  )
})
