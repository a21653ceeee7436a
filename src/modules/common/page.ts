/**
 * Keyset pagination without GraphQL (the trainer process imports repositories that use it).
 */
import { badInput } from '../../errors'
import { isId } from './ids'

/** Largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100
export const DEFAULT_PAGE_SIZE = 20

/**
 * Keyset position in a list ordered by (createdAt DESC, id DESC). Keyset rather than offset so a page
 * boundary does not move when rows are added while a client pages.
 */
export interface Cursor {
  createdAt: Date
  id: string
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url')
}

/** Whether a date is one PostgreSQL's timestamp holds and our rows can have (years 1 to 9999). */
export function isStorableDate(d: Date): boolean {
  const year = d.getUTCFullYear()
  return !Number.isNaN(d.getTime()) && year >= 1 && year <= 9999
}

export function decodeCursor(raw: string): Cursor {
  const text = Buffer.from(raw, 'base64url').toString('utf8')
  const sep = text.indexOf('|')
  const createdAt = new Date(text.slice(0, sep))
  const id = text.slice(sep + 1)
  if (sep < 0 || !isStorableDate(createdAt) || !isId(id)) {
    throw badInput('after is not a valid cursor', { field: 'after' })
  }
  return { createdAt, id }
}

export interface PageArgs {
  first: number
  after: Cursor | undefined
}

/** Validates `first`/`after` as given by a client. */
export function pageArgs(first: number | null | undefined, after: string | null | undefined): PageArgs {
  return { first: pageSize(first), after: after ? decodeCursor(after) : undefined }
}

/** A client's `first`, checked: 1 to MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, { field: 'first' })
  }
  return size
}

/** A page from `first + 1` fetched rows: the extra row only tells that another page follows. */
export function pageOf<R, T>(rows: R[], first: number, totalCount: number, map: (row: R) => T): Page<T> {
  return { nodes: rows.slice(0, first).map(map), hasNextPage: rows.length > first, totalCount }
}

/** A page as repositories return it: one row more than asked tells whether another page follows. */
export interface Page<T> {
  nodes: T[]
  hasNextPage: boolean
  totalCount: number
}

/** Prisma `where` for the rows after a cursor in (createdAt DESC, id DESC) order. */
export function keysetWhere(after: Cursor | undefined) {
  return after
    ? {
        OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
      }
    : {}
}
