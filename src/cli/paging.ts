import type { Connection } from './api'

/** The API's largest page. */
export const MAX_PAGE = 100

/**
 * Reads up to `limit` items (all of them for Infinity) from a cursor-paginated field, 100 at a time,
 * since the API answers at most 100 per page.
 */
export async function collectPages<T>(
  fetchPage: (first: number, after: string | null) => Promise<Connection<T>>,
  limit: number,
): Promise<{ items: T[]; totalCount: number }> {
  const items: T[] = []
  let after: string | null = null
  let totalCount = 0
  while (items.length < limit) {
    const page: Connection<T> = await fetchPage(Math.min(MAX_PAGE, limit - items.length), after)
    totalCount = page.totalCount
    items.push(...page.edges.map((e) => e.node))
    if (!page.pageInfo.hasNextPage || page.pageInfo.endCursor === null || page.edges.length === 0) break
    after = page.pageInfo.endCursor
  }
  return { items, totalCount }
}
