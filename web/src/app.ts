import type { LabClient } from './gql'

/** What every view gets: the client, the route's parameters and what the key may do. */
export interface ViewContext {
  client: LabClient
  params: Record<string, string>
  /** The key (or an open server) allows mutations: cancel, start. */
  canWrite: boolean
  navigate(href: string): void
}

/** Renders into `root`; returns its cleanup (subscriptions, timers). */
export type View = (root: HTMLElement, ctx: ViewContext) => (() => void) | void

export const TERMINAL = ['SUCCEEDED', 'FAILED', 'CANCELLED']

/** The most runs one comparison draws: more lines than this are no longer told apart. */
export const MAX_COMPARED = 10

/** The page of a comparison: run ids in the path, so it can be bookmarked and shared. */
export function compareHref(ids: string[]): string {
  return `/compare/${ids.map(encodeURIComponent).join(',')}`
}
