/** API-key vocabulary shared by the store, the API and the tests (no GraphQL here). */

/** What a key may do; the names of the Prisma and GraphQL enum `ApiKeyScope`. Each includes the ones before. */
export enum ApiKeyScope {
  /** Queries and subscriptions. */
  READ = 'READ',
  /** READ plus every mutation on datasets, runs and sweeps. */
  WRITE = 'WRITE',
  /** WRITE plus managing keys. */
  ADMIN = 'ADMIN',
}

const RANK: Record<ApiKeyScope, number> = {
  [ApiKeyScope.READ]: 0,
  [ApiKeyScope.WRITE]: 1,
  [ApiKeyScope.ADMIN]: 2,
}

/** Whether a key of scope `has` may do what needs `needs`. */
export function scopeAllows(has: ApiKeyScope, needs: ApiKeyScope): boolean {
  return RANK[has] >= RANK[needs]
}

/**
 * Who sent a request: anyone, when auth is off (everything is allowed, as before keys existed), or
 * the holder of one key.
 */
export type Principal = { kind: 'open' } | { kind: 'key'; keyId: string; name: string; scope: ApiKeyScope }

export const OPEN: Principal = { kind: 'open' }

/** The key a request was made with, or null when auth is off. */
export function keyIdOf(principal: Principal): string | null {
  return principal.kind === 'key' ? principal.keyId : null
}
