import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { ExitCode } from '../../../src/cli/main'
import { runCli } from './harness'

/**
 * The CLI in-process against no server, or a stub that answers canned HTTP: argument handling, local
 * validation and how each kind of failure maps to an exit code. test/integration/cli.test.ts runs the
 * same commands against the real server.
 */

interface Canned {
  status: number
  body: string
  type?: string
}

interface GqlRequest {
  query: string
  variables: Record<string, unknown>
}

let stub: Server
let stubUrl: string
/** What the stub answers to each request; set per test. */
let respond: (request: GqlRequest) => Canned
let answer: Canned
const requests: { body: GqlRequest }[] = []
let dir: string

async function readBody(req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of req) text += String(chunk)
  return text
}

beforeAll(async () => {
  stub = createServer((req, res) => {
    void readBody(req).then((text) => {
      const body = JSON.parse(text) as GqlRequest
      requests.push({ body })
      const canned = respond(body)
      res.writeHead(canned.status, { 'content-type': canned.type ?? 'application/json' })
      res.end(canned.body)
    })
  })
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve))
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/graphql`
  dir = await mkdtemp(path.join(tmpdir(), 'lab-cli-'))
})

afterAll(async () => {
  await new Promise((resolve) => stub.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

beforeEach(() => {
  requests.length = 0
  respond = () => answer
})

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

const gqlError = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: JSON.stringify({ data: null, errors: [{ message, extensions: { code, ...extra } }] }),
})

describe('arguments', () => {
  it('prints help on stdout with exit 0, listing the commands and exit codes', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(ExitCode.OK)
    for (const command of ['sweep', 'watch', 'runs', 'dataset', 'datasets'])
      expect(r.stdout).toContain(command)
    expect(r.stdout).toMatch(/Exit codes: 0 ok/)
    expect((await runCli(['sweep', 'cancel', '--help'])).stdout).toMatch(/Usage: lab sweep cancel/)
  })

  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [[], /Usage: lab/],
    [['watch'], /missing required argument 'run-id'/],
    [['runs', '--limit', 'ten'], /--limit must be a positive integer/],
    [['runs', '--sort', 'loss'], /cannot sort by loss/],
    [['runs', '--status', 'done'], /unknown status done/],
    [['dataset', 'import', 'x.csv'], /--target <column> is required for --task regression/],
    [
      ['dataset', 'import', 'x.csv', '--task', 'binary'],
      /--target <column> is required for --task binary_classification/,
    ],
    [
      ['dataset', 'import', 'x.csv', '--task', 'unsupervised', '--target', 'y'],
      /--task unsupervised takes no --target/,
    ],
    [['dataset', 'import', 'x.csv', '--target', 'y', '--task', 'clustering'], /--task must be regression/],
    [['--url', 'ftp://lab', 'runs'], /must start with http/],
  ])('refuses lab %j with exit 2 and a message on stderr', async (argv, message) => {
    const r = await runCli(argv, { env: { LAB_URL: stubUrl } })
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe('')
    expect(requests).toHaveLength(0)
  })

  it('validates a sweep file before calling the server, naming file, line and column', async () => {
    const file = path.join(dir, 'bad.yaml')
    await writeFile(
      file,
      'method: grid\nmetric: {name: val_loss}\nparameters:\n  learning_rate: {values: [0.1, -1]}\n',
    )
    const r = await runCli(['sweep', 'bad.yaml', '--dataset', 'd', '--experiment', 'e'], {
      env: { LAB_URL: stubUrl },
      cwd: dir,
    })
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toBe(
      'error: bad.yaml:4:33: parameters.learning_rate.values[1]: must be greater than 0\n',
    )
    expect(requests).toHaveLength(0)
  })

  it('needs a dataset and an experiment from the file or the flags', async () => {
    await writeFile(
      path.join(dir, 'ok.yaml'),
      'method: grid\nmetric: {name: loss}\nparameters:\n  seed: {values: [1]}\n',
    )
    const r = await runCli(['sweep', 'ok.yaml'], { env: { LAB_URL: stubUrl }, cwd: dir })
    expect(r.code).toBe(ExitCode.USAGE)
    expect(r.stderr).toMatch(/no dataset: .*--dataset ID/)
    expect(r.stderr).toMatch(/no experiment: .*--experiment NAME/)
  })

  it('says so when a file cannot be read', async () => {
    const r = await runCli(['sweep', 'missing.yaml'], { env: { LAB_URL: stubUrl }, cwd: dir })
    expect(r).toMatchObject({
      code: ExitCode.USAGE,
      stderr: 'error: cannot read missing.yaml: no such file\n',
    })
  })
})

describe('talking to the server', () => {
  it('uses --url over LAB_URL, and sends the typed documents', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        data: { datasets: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] } },
      }),
    }
    const r = await runCli(['--url', stubUrl, 'datasets', '--json'], {
      env: { LAB_URL: 'http://127.0.0.1:1/x' },
    })
    expect(r.code).toBe(ExitCode.OK)
    expect(JSON.parse(r.stdout)).toEqual({ totalCount: 0, datasets: [] })
    expect(requests[0]!.body.query).toMatch(/query Datasets/)
    expect(requests[0]!.body.variables).toEqual({ first: 100, after: null })
  })

  it('pages through runs 100 at a time for --limit above 100, with filter and order', async () => {
    let served = 0
    const node = (i: number) => ({ id: `r${i}`, name: `run-${i}` })
    respond = (body) => {
      const first = body.variables['first'] as number
      const edges = Array.from({ length: first }, () => ({ node: node(served++) }))
      const runs = { totalCount: 1000, pageInfo: { hasNextPage: true, endCursor: `c${served}` }, edges }
      return { status: 200, body: JSON.stringify({ data: { runs } }) }
    }
    const r = await runCli(
      [
        'runs',
        '--limit',
        '250',
        '--status',
        'succeeded',
        '--tag',
        'a',
        '--tag',
        'b',
        '--sort',
        'final_val_loss',
        '--json',
      ],
      { env: { LAB_URL: stubUrl } },
    )
    expect(r.code).toBe(ExitCode.OK)
    expect((JSON.parse(r.stdout) as { runs: unknown[] }).runs).toHaveLength(250)
    expect(requests.map((q) => [q.body.variables['first'], q.body.variables['after']])).toEqual([
      [100, null],
      [100, 'c100'],
      [50, 'c200'],
    ])
    expect(requests[0]!.body.variables).toMatchObject({
      filter: { status: ['SUCCEEDED'], tags: ['a', 'b'] },
      orderBy: [{ field: 'FINAL_VAL_LOSS', direction: 'ASC' }],
    })
  })

  it('exits 4 when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/graphql`
    const r = await runCli(['datasets'], { env: { LAB_URL: url } })
    expect(r.code).toBe(ExitCode.UNREACHABLE)
    expect(r.stderr).toMatch(/cannot reach the server at .*ECONNREFUSED/)
    const w = await runCli(['watch', 'some-run'], { env: { LAB_URL: url } })
    expect(w.code).toBe(ExitCode.UNREACHABLE)
  })
})

describe('server answers and exit codes', () => {
  it.each([
    [
      'BAD_USER_INPUT: exit 2 with the server message and field',
      gqlError('BAD_USER_INPUT', 'targetColumn "y" is not a column', { field: 'targetColumn' }),
      ExitCode.USAGE,
      'error: data.csv: targetColumn "y" is not a column (field targetColumn) [BAD_USER_INPUT]\n',
    ],
    [
      'another code: exit 5 with the code',
      gqlError('INTERNAL_SERVER_ERROR', 'Internal server error'),
      ExitCode.SERVER,
      'error: Internal server error [INTERNAL_SERVER_ERROR]\n',
    ],
    [
      'a validation failure (an older server): exit 5',
      {
        status: 400,
        body: JSON.stringify({
          errors: [{ message: 'Cannot query field', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
        }),
      },
      ExitCode.SERVER,
      'error: Cannot query field [GRAPHQL_VALIDATION_FAILED]\n',
    ],
    [
      'a proxy with no server behind it: exit 4',
      { status: 502, body: '<html>Bad Gateway</html>', type: 'text/html' },
      ExitCode.UNREACHABLE,
      /is unavailable \(HTTP 502\)/,
    ],
    [
      'something that is not GraphQL: exit 5',
      { status: 404, body: 'Not Found', type: 'text/plain' },
      ExitCode.SERVER,
      /did not answer with GraphQL \(HTTP 404\) \[HTTP_404\]/,
    ],
  ])('%s', async (_label, canned, code, stderr) => {
    answer = canned
    await writeFile(path.join(dir, 'data.csv'), 'x,y\n1,2\n')
    const r = await runCli(['dataset', 'import', 'data.csv', '--target', 'y'], {
      env: { LAB_URL: stubUrl },
      cwd: dir,
    })
    expect(r.code).toBe(code)
    if (typeof stderr === 'string') expect(r.stderr).toBe(stderr)
    else expect(r.stderr).toMatch(stderr)
    expect(r.stdout).toBe('')
  })

  it('sends the CSV with the name from the file and the default task', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        data: {
          importCsvDataset: {
            id: 'd1',
            name: 'data',
            version: 1,
            task: 'REGRESSION',
            rowCount: 1,
            featureNames: ['x'],
            targetName: 'y',
            createdAt: '2025-01-01T00:00:00Z',
          },
        },
      }),
    }
    const r = await runCli(['dataset', 'import', 'data.csv', '--target', 'y'], {
      env: { LAB_URL: stubUrl },
      cwd: dir,
    })
    expect(r.code).toBe(ExitCode.OK)
    expect(requests[0]!.body.variables).toEqual({
      input: { name: 'data', task: 'REGRESSION', csv: 'x,y\n1,2\n', targetColumn: 'y' },
    })
    expect(r.stdout).toBe('ID  NAME  VERSION  ROWS\nd1  data        1     1\n')
  })

  it('sends an unsupervised import without a target column, with its factor columns', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        data: {
          importCsvDataset: {
            id: 'd2',
            name: 'data',
            version: 1,
            task: 'UNSUPERVISED',
            rowCount: 1,
            featureNames: ['x'],
            targetName: null,
            factorNames: ['y'],
            imageShape: null,
            createdAt: '2025-01-01T00:00:00Z',
          },
        },
      }),
    }
    await writeFile(path.join(dir, 'data.csv'), 'x,y\n1,2\n')
    const r = await runCli(
      ['dataset', 'import', 'data.csv', '--task', 'unsupervised', '--factor', 'y', '--factor', 'z'],
      {
        env: { LAB_URL: stubUrl },
        cwd: dir,
      },
    )
    expect(r.code).toBe(ExitCode.OK)
    expect(requests[0]!.body.variables).toEqual({
      input: { name: 'data', task: 'UNSUPERVISED', csv: 'x,y\n1,2\n', factorColumns: ['y', 'z'] },
    })
  })

  it('reports a run that does not exist as NOT_FOUND (exit 5)', async () => {
    answer = { status: 200, body: JSON.stringify({ data: { run: null } }) }
    const r = await runCli(['watch', 'nope'], { env: { LAB_URL: stubUrl } })
    expect(r).toMatchObject({
      code: ExitCode.SERVER,
      stderr: 'error: run "nope" was not found [NOT_FOUND]\n',
    })
  })
})
