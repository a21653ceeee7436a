import { ClassType, Field, Int, ObjectType } from 'type-graphql'
import { badInput } from '../../errors'

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

export function decodeCursor(raw: string): Cursor {
  const text = Buffer.from(raw, 'base64url').toString('utf8')
  const sep = text.indexOf('|')
  const createdAt = new Date(text.slice(0, sep))
  const id = text.slice(sep + 1)
  if (sep < 0 || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
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
  const size = first ?? DEFAULT_PAGE_SIZE
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, { field: 'first' })
  }
  return { first: size, after: after ? decodeCursor(after) : undefined }
}

/** A page as repositories return it: one row more than asked tells whether another page follows. */
export interface Page<T> {
  nodes: T[]
  hasNextPage: boolean
  totalCount: number
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean

  @Field(() => String, { nullable: true })
  endCursor!: string | null
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[]
  pageInfo: PageInfo
  totalCount: number
}

/** Builds the Relay-style `XConnection` and `XEdge` types for a node type. */
export function Connection<T extends object>(name: string, Node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String)
    cursor!: string

    @Field(() => Node)
    node!: T
  }

  @ObjectType()
  abstract class ConnectionClass implements ConnectionShape<T> {
    @Field(() => [Edge])
    edges!: Edge[]

    @Field(() => PageInfo)
    pageInfo!: PageInfo

    @Field(() => Int)
    totalCount!: number
  }
  return ConnectionClass
}

/** Turns a repository page into the connection shape. */
export function toConnection<T extends { createdAt: Date; id: string }>(page: Page<T>): ConnectionShape<T> {
  const edges = page.nodes.map((node) => ({ cursor: encodeCursor(node), node }))
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: page.totalCount,
  }
}
