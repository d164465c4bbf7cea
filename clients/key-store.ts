import type { ApiKeyRecord, KeyStore } from '../core/ports/key-store.js';
export type { ApiKeyRecord, KeyStore } from '../core/ports/key-store.js';

/** Managed keys in this process only (no DATABASE_URL): other gateways do not see them. */
export function createMemoryKeyStore(): KeyStore {
  const keys = new Map<string, ApiKeyRecord>();
  const copy = (k: ApiKeyRecord | undefined): ApiKeyRecord | null =>
    k ? { ...k, scopes: [...k.scopes] } : null;
  return {
    kind: 'memory',
    create(key) {
      keys.set(key.id, copy(key)!);
      return Promise.resolve();
    },
    byPrefix(prefix) {
      for (const k of keys.values()) if (k.prefix === prefix) return Promise.resolve(copy(k));
      return Promise.resolve(null);
    },
    get: (id) => Promise.resolve(copy(keys.get(id))),
    list(owner) {
      const all = [...keys.values()].filter((k) => owner === undefined || k.owner === owner);
      all.sort((a, b) => b.created_at.getTime() - a.created_at.getTime());
      return Promise.resolve(all.map((k) => copy(k)!));
    },
    replaceSecret(id, prefix, hash) {
      const k = keys.get(id);
      if (!k || k.revoked_at) return Promise.resolve(null);
      Object.assign(k, { prefix, hash });
      return Promise.resolve(copy(k));
    },
    revoke(id) {
      const k = keys.get(id);
      if (k) k.revoked_at ??= new Date();
      return Promise.resolve(copy(k));
    },
    countActive: () => Promise.resolve([...keys.values()].filter((k) => !k.revoked_at).length),
  };
}
