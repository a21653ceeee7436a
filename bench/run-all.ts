/**
 * Runs every benchmark in sequence, each in its own Node process (so one bench's servers, trainers and tfjs
 * state cannot disturb the next), and exits non-zero if any failed.
 *
 * Run: `npm run bench` (builds first), or `npx tsc -p tsconfig.build.json && node dist/bench/run-all.js
 * [--quick] [--backend wasm|cpu|tensorflow]`. `--quick` uses smaller sizes for a smoke test; the figures in
 * bench/README.md come from full runs. bench/train-overhead.ts is not run on its own: its bare `model.fit`
 * figure is part of bench/training.ts (a).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { fmt, machineLine, parseBenchArgs } from './support'

/** In the order they run; `--backend` is passed to those that train. */
const BENCHES: { name: string; trains: boolean; args?: string[] }[] = [
  { name: 'datasets', trains: false },
  { name: 'training', trains: true },
  { name: 'explanations', trains: true },
  { name: 'queries', trains: false },
  { name: 'query-threads', trains: false },
  { name: 'sweeps', trains: true },
  { name: 'sequence', trains: true },
  // 20 s of training under load here (60 s when run alone): long enough for several run changes.
  { name: 'load', trains: true, args: ['--duration', '20'] },
]

function runBench(name: string, args: string[]): Promise<number> {
  const file = path.join(__dirname, `${name}.js`)
  console.log(`\n==> node ${path.relative(process.cwd(), file)} ${args.join(' ')}`.trimEnd())
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit' })
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

async function main(): Promise<void> {
  if (__filename.endsWith('.ts')) {
    console.error('Run the compiled script: npx tsc -p tsconfig.build.json && node dist/bench/run-all.js')
    process.exit(2)
  }
  const args = parseBenchArgs()
  const quick = args.quick ? ['--quick'] : []
  const backend = args.backend ? ['--backend', args.backend] : []
  console.log(`# Explainable Lab benchmarks${args.quick ? ' (--quick)' : ''}\n${machineLine()}`)
  const start = performance.now()
  const failed: string[] = []
  for (const { name, trains, args: own = [] } of BENCHES) {
    if (!fs.existsSync(path.join(__dirname, `${name}.js`))) {
      console.log(`\n==> ${name}: not built (dist/bench/${name}.js missing), skipped`)
      continue
    }
    const code = await runBench(name, [...quick, ...(trains ? backend : []), ...own])
    if (code !== 0) failed.push(`${name} (exit ${code})`)
  }
  console.log(`\n${machineLine()}`)
  console.log(`all benchmarks: ${fmt((performance.now() - start) / 1000, 0)} s`)
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(', ')}`)
    process.exitCode = 1
  }
}

void main()
