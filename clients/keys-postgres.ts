import type { Sql } from 'postgres';
import { GatewayError } from '../lib/errors.js';
import type { ApiKeyRecord, KeyStore } from '../core/ports/key-store.js';

/** Managed keys in the gateway's PostgreSQL schema (table made by the ledger's migrations). */
export function createPostgresKeyStore(sql: Sql, schema: string): KeyStore {
  const table = sql(`${schema}.api_keys`);
  const columns = sql.unsafe(
    'id, prefix, hash, owner, scopes, name, rate_limit_per_minute, max_concurrent, created_at, revoked_at',
  );
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new GatewayError(
        'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        `API key store unavailable: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  const one = (rows: ApiKeyRecord[]): ApiKeyRecord | null => rows[0] ?? null;
  return {
    kind: 'postgres',
    create: (k) =>
      guard(async () => {
        await sql`INSERT INTO ${table}
          (id, prefix, hash, owner, scopes, name, rate_limit_per_minute, max_concurrent, created_at)
          VALUES (${k.id}, ${k.prefix}, ${k.hash}, ${k.owner}, ${k.scopes}, ${k.name},
            ${k.rate_limit_per_minute}, ${k.max_concurrent}, ${k.created_at})`;
      }),
    byPrefix: (prefix) =>
      guard(async () =>
        one(await sql<ApiKeyRecord[]>`SELECT ${columns} FROM ${table} WHERE prefix = ${prefix}`),
      ),
    get: (id) =>
      guard(async () =>
        one(await sql<ApiKeyRecord[]>`SELECT ${columns} FROM ${table} WHERE id = ${id}`),
      ),
    list: (owner) =>
      guard(async () => [
        ...(owner === undefined
          ? await sql<ApiKeyRecord[]>`SELECT ${columns} FROM ${table} ORDER BY created_at DESC`
          : await sql<
              ApiKeyRecord[]
            >`SELECT ${columns} FROM ${table} WHERE owner = ${owner} ORDER BY created_at DESC`),
      ]),
    replaceSecret: (id, prefix, hash) =>
      guard(async () =>
        one(
          await sql<ApiKeyRecord[]>`UPDATE ${table} SET prefix = ${prefix}, hash = ${hash}
            WHERE id = ${id} AND revoked_at IS NULL RETURNING ${columns}`,
        ),
      ),
    revoke: (id) =>
      guard(async () =>
        one(
          await sql<ApiKeyRecord[]>`UPDATE ${table} SET revoked_at = COALESCE(revoked_at, now())
            WHERE id = ${id} RETURNING ${columns}`,
        ),
      ),
    countActive: () =>
      guard(async () => {
        const [row] = await sql<
          { n: number }[]
        >`SELECT count(*)::int AS n FROM ${table} WHERE revoked_at IS NULL`;
        return row?.n ?? 0;
      }),
  };
}
