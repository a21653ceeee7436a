/**
 * Large JSON request bodies, parsed off the API's event loop. JSON.parse of a 1.9 MB `predict` body held the
 * loop for 30 ms and more per request on a busy machine; a query thread parses it instead (one bounded pool:
 * LAB_QUERY_THREADS and LAB_QUERY_QUEUE) and packs the numeric matrices it may (src/server/json-body.ts).
 * Smaller bodies, and every body when there are no query threads, are parsed by express.json as before.
 * What a client sees does not change: the same limits, the same errors, the same answers.
 */
import express, { NextFunction, Request, RequestHandler, Response } from 'express'
import { AppError, UnreachableCaseError } from '../errors'
import { httpStatusOf } from './errors'
import type { ParsedBody } from './json-body'

/** Bodies from this size on are parsed on a query thread; below it, parsing costs less than the hand-off. */
export const OFF_LOOP_BODY_BYTES = 64 * 1024

/** Where `res.locals` keeps the packed variables of a request (read by the GraphQL context). */
export const PACKED_VARIABLES_LOCAL = 'packedVariables'

/** A JSON body large enough to parse off the loop, in a charset the thread decodes (UTF-8, the default). */
function isLargeUtf8Json(req: Request): boolean {
  // A body without a length (chunked) is left to express.json too: its size is known only once read.
  if (!(Number(req.headers['content-length']) >= OFF_LOOP_BODY_BYTES) || !req.is('application/json'))
    return false
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]
  return charset === undefined || /^utf-?8$/i.test(charset)
}

/**
 * The middleware that parses large JSON bodies with `parse` (a query thread): it reads the body under the
 * same limit and content-encodings as express.json (errors: the same `entity.too.large` ...), leaves smaller
 * bodies to express.json, answers SERVER_BUSY when the pool refuses, and keeps the packed variables in
 * `res.locals` for the GraphQL context.
 */
export function offLoopJsonBodies(opts: {
  maxBodyBytes: number
  parse: (bytes: Uint8Array) => Promise<ParsedBody>
}): RequestHandler[] {
  const read = express.raw({
    type: (req) => isLargeUtf8Json(req as Request),
    limit: opts.maxBodyBytes,
  })
  const handOff = async (req: Request, res: Response, next: NextFunction) => {
    const bytes: unknown = req.body
    if (!Buffer.isBuffer(bytes)) return next()
    let parsed: ParsedBody
    try {
      parsed = await opts.parse(bytes)
    } catch (err) {
      if (!(err instanceof AppError)) return next(err)
      res.status(httpStatusOf(err.code)).json({
        errors: [{ message: err.message, extensions: { ...err.details, code: err.code } }],
      })
      return
    }
    switch (parsed.kind) {
      case 'invalid':
        // Answered by the body-parser error handler (src/server/http.ts), as express.json's failure would be.
        return next(
          Object.assign(new Error('request body is not valid JSON'), {
            type: 'entity.parse.failed',
            status: 400,
          }),
        )
      case 'tooDeep':
        // Valid JSON (the thread parsed it) that cannot be cloned back: parsed here, as every body was before.
        req.body = JSON.parse(parsed.text)
        break
      case 'parsed':
        req.body = parsed.body
        res.locals[PACKED_VARIABLES_LOCAL] = parsed.packed
        break
      default:
        throw new UnreachableCaseError(parsed)
    }
    next()
  }
  return [read, handOff]
}
