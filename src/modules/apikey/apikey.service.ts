import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { badInput, notFound } from '../../errors'
import type { Logger } from '../../logger'
import { isId } from '../common/ids'
import { checkName } from '../dataset/dataset.content'
import { ApiKeyRecord, ApiKeyRepository } from './apikey.repository'
import { ApiKeyScope, Principal } from './apikey.scope'

/** Characters of a secret kept in the clear to name the key in listings ("lab_" and four random ones). */
export const KEY_PREFIX_LENGTH = 8

/** lastUsedAt is written at most this often per key (one write per request would be wasteful). */
const TOUCH_INTERVAL_MS = 60_000

const hashOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest()

/** 256 random bits, URL- and header-safe. */
function newSecret(): string {
  return `lab_${randomBytes(32).toString('base64url')}`
}

/**
 * API keys: created with a random secret shown once, stored as its SHA-256 (a secret of 256 random bits
 * needs no slow hash), looked up by its short prefix and compared in constant time.
 */
export class ApiKeyService {
  private readonly touched = new Map<string, number>()

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly logger: Logger,
  ) {}

  /** A new key and its secret, which is not stored and cannot be shown again. */
  async create(input: { name: string; scope: ApiKeyScope }): Promise<ApiKeyRecord & { key: string }> {
    const name = checkName(input.name, 'name')
    if (!Object.values(ApiKeyScope).includes(input.scope)) {
      throw badInput(`unknown scope ${String(input.scope)}`, { field: 'scope' })
    }
    const key = newSecret()
    const record = await this.repo.create({
      name,
      scope: input.scope,
      prefix: key.slice(0, KEY_PREFIX_LENGTH),
      hash: hashOf(key).toString('hex'),
    })
    return { ...record, key }
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.repo.list()
  }

  /** Revokes a key: every later request with it is UNAUTHENTICATED. False when it was revoked already. */
  async revoke(id: string): Promise<boolean> {
    if (!isId(id) || !(await this.repo.findById(id))) throw notFound('API key', id)
    return this.repo.revoke(id)
  }

  /** Stores `secret` (LAB_ADMIN_KEY) as an ADMIN key unless it is stored already; a revoked one stays revoked. */
  async seedAdmin(secret: string): Promise<ApiKeyRecord> {
    const record = await this.repo.ensure({
      name: 'LAB_ADMIN_KEY',
      scope: ApiKeyScope.ADMIN,
      prefix: secret.slice(0, KEY_PREFIX_LENGTH),
      hash: hashOf(secret).toString('hex'),
    })
    if (record.revokedAt) this.logger.warn({ keyId: record.id }, 'LAB_ADMIN_KEY names a revoked key')
    return record
  }

  /** Whether any unrevoked ADMIN key exists (without one, nobody can create keys). */
  async hasAdmin(): Promise<boolean> {
    return (await this.repo.countActive(ApiKeyScope.ADMIN)) > 0
  }

  /** The key holding `secret`, or null for an unknown or revoked one. */
  async authenticate(secret: string): Promise<Principal | null> {
    const hash = hashOf(secret)
    let match: ApiKeyRecord | null = null
    // Every candidate is compared, so the time taken does not depend on which one matched.
    for (const candidate of await this.repo.activeByPrefix(secret.slice(0, KEY_PREFIX_LENGTH))) {
      const stored = Buffer.from(candidate.hash, 'hex')
      if (stored.length === hash.length && timingSafeEqual(stored, hash)) match = candidate
    }
    if (!match) return null
    this.touch(match.id)
    return { kind: 'key', keyId: match.id, name: match.name, scope: match.scope }
  }

  /** The key again, as stored now (a WebSocket re-checks before each operation): null once revoked. */
  async refresh(keyId: string): Promise<Principal | null> {
    const record = await this.repo.findById(keyId)
    if (!record || record.revokedAt) return null
    this.touch(record.id)
    return { kind: 'key', keyId: record.id, name: record.name, scope: record.scope }
  }

  private touch(id: string): void {
    const now = Date.now()
    if (now - (this.touched.get(id) ?? 0) < TOUCH_INTERVAL_MS) return
    this.touched.set(id, now)
    this.repo
      .touch(id, new Date(now))
      .catch((err: unknown) => this.logger.warn({ err, keyId: id }, 'could not record API key use'))
  }
}
