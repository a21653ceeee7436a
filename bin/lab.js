#!/usr/bin/env node
// The `lab` command. The CLI is TypeScript compiled to dist/ by `npm run build`; a checkout that has
// not been built yet gets told so instead of a stack trace.
const fs = require('node:fs')
const path = require('node:path')

const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js')
if (!fs.existsSync(entry)) {
  process.stderr.write(
    `lab: ${path.relative(process.cwd(), entry) || entry} is missing: run \`npm run build\` first\n`,
  )
  process.exit(2)
}
require(entry).main()
