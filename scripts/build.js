#!/usr/bin/env node
// Builds what changed since the last build, nothing else: `npm start` with nothing changed goes straight to
// the server. Each step hashes the content of its inputs (not mtimes: a checkout or a copy touches every file)
// and skips itself when the hash matches the one it stamped after its last successful run.
//   node scripts/build.js          build what changed
//   node scripts/build.js --force  build everything
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const force = process.argv.includes('--force')

/** Files under `entry` (a file or a folder), skipping the folders in `skip`, in a stable order. */
function filesOf(entry, skip) {
  const full = path.join(root, entry)
  if (!fs.existsSync(full)) return []
  if (!fs.statSync(full).isDirectory()) return [entry]
  return fs
    .readdirSync(full, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) => {
      const child = path.join(entry, d.name)
      if (skip.includes(child)) return []
      return d.isDirectory() ? filesOf(child, skip) : [child]
    })
}

function hashOf(entries, skip = []) {
  const hash = crypto.createHash('sha256')
  for (const file of entries.flatMap((e) => filesOf(e, skip))) {
    hash
      .update(file)
      .update('\0')
      .update(fs.readFileSync(path.join(root, file)))
      .update('\0')
  }
  return hash.digest('hex')
}

function run(script, args) {
  const result = spawnSync(process.execPath, [path.join(root, script), ...args], {
    stdio: 'inherit',
    cwd: root,
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

/** Runs `build` unless `stamp` holds the hash of `inputs` and every file in `outputs` exists. */
function step(name, { inputs, skip, stamp, outputs, build }) {
  const digest = hashOf(inputs, skip)
  const stampFile = path.join(root, stamp)
  const current = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === digest
  if (!force && current && outputs.every((o) => fs.existsSync(path.join(root, o)))) {
    console.log(`${name}: up to date`)
    return digest
  }
  build()
  fs.mkdirSync(path.dirname(stampFile), { recursive: true })
  fs.writeFileSync(stampFile, digest)
  return digest
}

step('prisma generate', {
  inputs: ['prisma/schema.prisma', 'prisma.config.ts', 'package-lock.json', 'scripts/generate.js'],
  stamp: 'src/generated/.build-stamp',
  outputs: ['src/generated/prisma'],
  build: () => run('scripts/generate.js', []),
})

step('tsc', {
  // The generated client is an input through its stamp (its own hash), not file by file.
  inputs: [
    'src',
    'bench',
    'tsconfig.json',
    'tsconfig.build.json',
    'package-lock.json',
    'src/generated/.build-stamp',
  ],
  skip: [path.join('src', 'generated')],
  stamp: 'dist/.build-stamp',
  outputs: ['dist/src/main.js'],
  build: () => run('node_modules/typescript/bin/tsc', ['-p', 'tsconfig.build.json']),
})

step('web', {
  // The dashboard (web/ -> dist/web, served at /). Its own stamp: vite empties dist/web before writing.
  inputs: ['web', 'package-lock.json'],
  stamp: 'dist/.web-build-stamp',
  outputs: ['dist/web/index.html'],
  build: () => run('node_modules/vite/bin/vite.js', ['build', '--config', 'web/vite.config.mjs']),
})
