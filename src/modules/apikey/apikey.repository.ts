import type { Db } from '../../db/client'
import { ApiKeyScope } from './apikey.scope'

/** A stored key, without its hash (which never leaves this file except for comparison). */
export interface ApiKeyRecord {
  id: string
  name: string
  scope: ApiKeyScope
  prefix: string
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

const SELECT = {
  id: true,
  name: true,
  scope: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const

const toRecord = (row: Omit<ApiKeyRecord, 'scope'> & { scope: string }): ApiKeyRecord => ({
  ...row,
  scope: row.scope as ApiKeyScope,
})

export class ApiKeyRepository {
  constructor(private readonly db: Db) {}

  async create(key: {
    name: string
    scope: ApiKeyScope
    prefix: string
    hash: string
  }): Promise<ApiKeyRecord> {
    return toRecord(await this.db.apiKey.create({ data: key, select: SELECT }))
  }

  /** Creates the key unless one with this hash exists; returns the stored one either way. */
  async ensure(key: {
    name: string
    scope: ApiKeyScope
    prefix: string
    hash: string
  }): Promise<ApiKeyRecord> {
    const row = await this.db.apiKey.upsert({
      where: { hash: key.hash },
      create: key,
      update: {},
      select: SELECT,
    })
    return toRecord(row)
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.db.apiKey.findMany({
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: SELECT,
    })
    return rows.map(toRecord)
  }

  async findById(id: string): Promise<ApiKeyRecord | null> {
    const row = await this.db.apiKey.findUnique({ where: { id }, select: SELECT })
    return row ? toRecord(row) : null
  }

  /** Unrevoked keys whose secret starts with `prefix`, with their hashes, for comparison. */
  async activeByPrefix(prefix: string): Promise<(ApiKeyRecord & { hash: string })[]> {
    const rows = await this.db.apiKey.findMany({
      where: { prefix, revokedAt: null },
      select: { ...SELECT, hash: true },
    })
    return rows.map((r) => ({ ...toRecord(r), hash: r.hash }))
  }

  /** Marks the key revoked; false when there is no such key or it was revoked already. */
  async revoke(id: string): Promise<boolean> {
    const { count } = await this.db.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    })
    return count === 1
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.apiKey.update({ where: { id }, data: { lastUsedAt: at }, select: { id: true } })
  }

  async countActive(scope: ApiKeyScope): Promise<number> {
    return this.db.apiKey.count({ where: { scope, revokedAt: null } })
  }
}
