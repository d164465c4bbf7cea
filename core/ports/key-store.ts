import type { components } from '../../generated/types/gateway.js';

export type Scope = components['schemas']['Scope'];

/** A managed API key as stored: never its secret, only the secret's SHA-256. */
export interface ApiKeyRecord {
  id: string;
  /** The secret's first characters (`crk_` + 8), unique: how a presented key is looked up. */
  prefix: string;
  /** SHA-256 of the whole secret, hex. */
  hash: string;
  owner: string;
  scopes: Scope[];
  name: string | null;
  /** Its own requests a minute, instead of the gateway's; null: the gateway's. */
  rate_limit_per_minute: number | null;
  /** At most this many of its owner's evaluations unfinished when it submits; null: no quota. */
  max_concurrent: number | null;
  created_at: Date;
  revoked_at: Date | null;
}

/** Where managed keys live: PostgreSQL with DATABASE_URL, else memory. */
export interface KeyStore {
  readonly kind: 'postgres' | 'memory';
  create(key: ApiKeyRecord): Promise<void>;
  byPrefix(prefix: string): Promise<ApiKeyRecord | null>;
  get(id: string): Promise<ApiKeyRecord | null>;
  /** Newest first, revoked ones included. */
  list(owner?: string): Promise<ApiKeyRecord[]>;
  /** A new secret for a key not revoked; null when there is none such. */
  replaceSecret(id: string, prefix: string, hash: string): Promise<ApiKeyRecord | null>;
  /** Marks it revoked (once); null when no key has the id. */
  revoke(id: string): Promise<ApiKeyRecord | null>;
  /** Keys not revoked. */
  countActive(): Promise<number>;
}
