import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../lib/errors.js';
import type { ApiKeyRecord, KeyStore, Scope } from './ports/key-store.js';

export type { ApiKeyRecord, Scope };
export const ALL_SCOPES: readonly Scope[] = ['evaluations:read', 'evaluations:write', 'admin'];

const PREFIX_CHARS = 8;
const alnum = (n: number): string =>
  randomBytes(n * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, n)
    .padEnd(n, '0');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A new secret: `crk_<8 letters or digits>_<43 base64url>` (256 random bits after the prefix). */
export function newSecret(): { secret: string; prefix: string; hash: string } {
  const prefix = `crk_${alnum(PREFIX_CHARS)}`;
  const secret = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { secret, prefix, hash: sha256(secret) };
}

/** The prefix of something that looks like a managed key, else undefined. */
export function prefixOf(presented: string): string | undefined {
  return /^crk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/.test(presented)
    ? presented.slice(0, 4 + PREFIX_CHARS)
    : undefined;
}

const notFound = (id: string): GatewayError =>
  new GatewayError('GW_ERR_KEY_NOT_FOUND', `No API key has the id ${id}`);

/**
 * Managed API keys: made, listed, rotated and revoked by admins; resolved on every request with
 * a cache of `cacheMs`, so that a revocation reaches every gateway within that time.
 */
export class ApiKeys {
  private readonly cache = new Map<string, { key: ApiKeyRecord | null; at: number }>();
  private active: { count: number; at: number } | undefined;

  constructor(
    private readonly store: KeyStore,
    private readonly cacheMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  async create(
    owner: string,
    scopes: Scope[],
    name: string | null,
    limits: { rate_limit_per_minute?: number | null; max_concurrent?: number | null } = {},
  ) {
    const { secret, prefix, hash } = newSecret();
    const key: ApiKeyRecord = {
      id: `key_${randomBytes(8).toString('hex')}`,
      prefix,
      hash,
      owner,
      scopes: [...new Set(scopes)],
      name,
      rate_limit_per_minute: limits.rate_limit_per_minute ?? null,
      max_concurrent: limits.max_concurrent ?? null,
      created_at: new Date(this.now()),
      revoked_at: null,
    };
    await this.store.create(key);
    this.active = undefined;
    return { key, secret };
  }

  list(owner?: string): Promise<ApiKeyRecord[]> {
    return this.store.list(owner);
  }

  async rotate(id: string) {
    const known = await this.store.get(id);
    if (!known) throw notFound(id);
    if (known.revoked_at)
      throw new GatewayError('GW_ERR_INVALID_TRANSITION', `The API key ${id} is revoked`);
    const { secret, prefix, hash } = newSecret();
    const key = await this.store.replaceSecret(id, prefix, hash);
    if (!key) throw new GatewayError('GW_ERR_INVALID_TRANSITION', `The API key ${id} is revoked`);
    this.cache.delete(known.prefix);
    return { key, secret };
  }

  async revoke(id: string): Promise<ApiKeyRecord> {
    const key = await this.store.revoke(id);
    if (!key) throw notFound(id);
    this.cache.delete(key.prefix);
    this.active = undefined;
    return key;
  }

  /** The live key a presented secret is, or null (unknown, revoked, or a wrong secret). */
  async resolve(presented: string): Promise<ApiKeyRecord | null> {
    const prefix = prefixOf(presented);
    if (!prefix) return null;
    const t = this.now();
    let hit = this.cache.get(prefix);
    if (!hit || t - hit.at >= this.cacheMs) {
      hit = { key: await this.store.byPrefix(prefix), at: t };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(prefix, hit);
    }
    const key = hit.key;
    if (!key || key.revoked_at) return null;
    const a = Buffer.from(sha256(presented), 'hex');
    const b = Buffer.from(key.hash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? key : null;
  }

  /** Whether any key is live (re-counted at most every `cacheMs`): the API is not open then. */
  async anyActive(): Promise<boolean> {
    const t = this.now();
    if (!this.active || t - this.active.at >= this.cacheMs)
      this.active = { count: await this.store.countActive(), at: t };
    return this.active.count > 0;
  }
}
