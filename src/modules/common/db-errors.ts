/**
 * Constraint violations as PostgreSQL reports them through Prisma (a known request error with its
 * code, or the driver adapter's error kind). Repositories translate the ones a race can cause into
 * the API's vocabulary here, so they never surface as INTERNAL_SERVER_ERROR with Prisma's text.
 */
import { AppError } from '../../errors'

type DbErrorKind = 'unique' | 'foreign-key'

const KINDS: Record<string, DbErrorKind> = {
  P2002: 'unique',
  P2003: 'foreign-key',
  UniqueConstraintViolation: 'unique',
  ForeignKeyConstraintViolation: 'foreign-key',
}

/** Which constraint an error from Prisma violated, if any. */
export function constraintViolated(err: unknown): DbErrorKind | undefined {
  const e = err as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } } | null
  const code = typeof e?.code === 'string' ? KINDS[e.code] : undefined
  const kind = e?.meta?.driverAdapterError?.cause?.kind
  return code ?? (typeof kind === 'string' ? KINDS[kind] : undefined)
}

export const isUniqueViolation = (err: unknown): boolean => constraintViolated(err) === 'unique'

/**
 * Runs a write and maps the constraint violations a concurrent request can cause: a row it refers
 * to deleted meanwhile (foreign key), or the same unique value taken meanwhile.
 */
export async function mapConstraints<T>(
  write: () => Promise<T>,
  map: { foreignKey?: () => AppError; unique?: () => AppError },
): Promise<T> {
  try {
    return await write()
  } catch (err) {
    const kind = constraintViolated(err)
    const mapped =
      kind === 'foreign-key' ? map.foreignKey?.() : kind === 'unique' ? map.unique?.() : undefined
    throw mapped ?? err
  }
}
