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
