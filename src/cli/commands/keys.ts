import { API_KEY_SCOPES, API_KEYS, ApiKeyScope, CREATE_API_KEY, REVOKE_API_KEY } from '../api'
import { Context, tableWidth } from '../context'
import { ExitCode, UsageError } from '../errors'
import { formatDate, formatTable } from '../table'

export function parseScope(value: string): ApiKeyScope {
  const scope = API_KEY_SCOPES.find((s) => s === value.toUpperCase())
  if (!scope) throw new UsageError(`--scope must be read, write or admin, not ${value}`)
  return scope
}

/** `lab keys create --name N --scope S`: the secret goes to stdout, once; the server keeps only its hash. */
export async function createKey(
  ctx: Context,
  opts: { name: string; scope: ApiKeyScope; json?: boolean },
): Promise<ExitCode> {
  const key = (await ctx.client.request(CREATE_API_KEY, { input: { name: opts.name, scope: opts.scope } }))
    .createApiKey
  if (opts.json) {
    ctx.out(JSON.stringify(key, null, 2))
    return ExitCode.OK
  }
  ctx.err(`created ${key.scope} key ${key.id} (${key.name}); the key is shown only this once:`)
  ctx.out(key.key)
  return ExitCode.OK
}

/** `lab keys list`: every key, revoked ones included; never a secret. */
export async function listKeys(ctx: Context, opts: { json?: boolean }): Promise<ExitCode> {
  const keys = (await ctx.client.request(API_KEYS, {})).apiKeys
  if (opts.json) {
    ctx.out(JSON.stringify(keys, null, 2))
    return ExitCode.OK
  }
  ctx.out(
    formatTable(
      [
        { header: 'ID' },
        { header: 'NAME', shrink: true },
        { header: 'SCOPE' },
        { header: 'PREFIX' },
        { header: 'CREATED' },
        { header: 'LAST USED' },
        { header: 'REVOKED' },
      ],
      keys.map((k) => [
        k.id,
        k.name,
        k.scope.toLowerCase(),
        k.prefix,
        formatDate(k.createdAt),
        formatDate(k.lastUsedAt),
        formatDate(k.revokedAt),
      ]),
      tableWidth(ctx.io),
    ),
  )
  return ExitCode.OK
}

/** `lab keys revoke ID`. */
export async function revokeKey(ctx: Context, id: string): Promise<ExitCode> {
  const revoked = (await ctx.client.request(REVOKE_API_KEY, { id })).revokeApiKey
  ctx.err(revoked ? `revoked key ${id}` : `key ${id} was already revoked`)
  return ExitCode.OK
}
