/**
 * The HTTP side of {@link SplicedLists} (src/modules/common/spliced-lists.ts): every GraphQL request over HTTP
 * gets its own registry in `res.locals`, and the response Apollo sends is spliced before express writes it.
 * Apollo sends a complete response as one string through `res.send` (@as-integrations/express5); the spliced
 * bytes go through the same `res.send`, so status, Content-Type, Content-Length and ETag are computed as before.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { SplicedLists } from '../modules/common/spliced-lists'

/** Where `res.locals` keeps the request's {@link SplicedLists} (read by the GraphQL context). */
export const SPLICED_LISTS_LOCAL = 'splicedLists'

/** Gives each request a {@link SplicedLists} and splices the response text before it is sent. */
export function splicedJsonResponses(): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    const lists = new SplicedLists()
    res.locals[SPLICED_LISTS_LOCAL] = lists
    const send = res.send.bind(res)
    res.send = (body?: unknown) =>
      send(typeof body === 'string' && lists.size > 0 ? lists.splice(body) : body)
    next()
  }
}
