import { Client as PgClient } from 'pg'
import { collect, startTestLab, TestLab } from '../helpers/lab'

describe('server limits and errors', () => {
  let t: TestLab
  beforeAll(async () => {
    t = await startTestLab({
      LAB_MAX_BODY_BYTES: '20000',
      LAB_MAX_DATASET_ROWS: '50',
      LAB_MAX_QUERY_DEPTH: '3',
    })
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('answers /healthz with 200 and JSON while the database answers', async () => {
    const res = await fetch(t.lab.url.replace('/graphql', '/healthz'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', database: 'up' })
  })

  it('refuses a body over the limit with 413 and PAYLOAD_TOO_LARGE', async () => {
    const csv = 'a,y\n' + '1,2\n'.repeat(10_000)
    const res = await t.gql(
      `mutation($input: ImportCsvDatasetInput!) { importCsvDataset(input: $input) { id } }`,
      { input: { name: 'huge', task: 'REGRESSION', csv, targetColumn: 'y' } },
    )
    expect(res.status).toBe(413)
    expect(res.errors![0]!.extensions!.code).toBe('PAYLOAD_TOO_LARGE')
  })

  it('refuses a dataset over the row limit with PAYLOAD_TOO_LARGE', async () => {
    const csv = 'a,y\n' + '1,2\n'.repeat(51)
    const res = await t.gql(
      `mutation($input: ImportCsvDatasetInput!) { importCsvDataset(input: $input) { id } }`,
      { input: { name: 'too-many-rows', task: 'REGRESSION', csv, targetColumn: 'y' } },
    )
    expect(res.errors![0]!.extensions!.code).toBe('PAYLOAD_TOO_LARGE')
    expect(res.errors![0]!.message).toMatch(/51 rows x 1 features is larger than the limit/)
  })

  it('refuses queries deeper than the limit, over HTTP and over WebSocket', async () => {
    const deep = `{ datasets { edges { node { featureStats { name } } } } }`
    const res = await t.gql(deep)
    expect(res.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED')
    expect(res.errors![0]!.message).toMatch(/depth limit of 3 exceeded, found 5/)
    const shallow = await t.gql(`{ datasets { totalCount } }`)
    expect(shallow.errors).toBeUndefined()
    const sub = collect(t.ws(), deep)
    await expect(sub.done).rejects.toThrow(/depth limit of 3 exceeded, found 5/)
  })

  it('answers unknown fields and bad variables with client codes', async () => {
    expect((await t.gql(`{ nope }`)).errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED')
    const badVar = await t.gql(`query($first: Int) { datasets(first: $first) { totalCount } }`, {
      first: 'x',
    })
    expect(badVar.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT')
  })

  it('answers a lost database SERVICE_UNAVAILABLE without its internals, and reports 503 on /healthz', async () => {
    // Cut the server off its database: no new connections, existing ones terminated.
    const dbName = new URL(t.lab.databaseUrl).pathname.slice(1)
    const admin = new PgClient({ connectionString: t.lab.databaseUrl.replace(/\/[^/]*$/, '/postgres') })
    await admin.connect()
    try {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`)
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [dbName],
      )
      // Whether the query meets a terminated connection or a refused new one, it is an outage, said as such.
      const res = await t.gql(`{ datasets { totalCount } }`)
      expect(res.status).toBe(503)
      expect(res.errors![0]).toMatchObject({
        message: expect.stringMatching(/^the database is unavailable/),
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      })
      const text = JSON.stringify(res)
      expect(text).not.toMatch(/stack|select|Dataset"|prisma|postgres/i)
      const health = await fetch(t.lab.url.replace('/graphql', '/healthz'))
      expect(health.status).toBe(503)
    } finally {
      await admin.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`)
      await admin.end()
    }
    const recovered = await fetch(t.lab.url.replace('/graphql', '/healthz'))
    expect(recovered.status).toBe(200)
  })
})
