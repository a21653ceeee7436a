import { ClassType, Field, Int, ObjectType } from 'type-graphql'
import { encodeCursor, Page } from './page'

export { MAX_PAGE_SIZE, pageArgs } from './page'

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
export function toConnection<T extends { createdAt: Date; id: string }>(
  page: Page<T>,
  cursorOf: (node: T) => string = encodeCursor,
): ConnectionShape<T> {
  const edges = page.nodes.map((node) => ({ cursor: cursorOf(node), node }))
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: page.totalCount,
  }
}
