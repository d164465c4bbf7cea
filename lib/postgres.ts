import postgres from 'postgres';
import type { Sql } from 'postgres';

/** A schema change; `schema` is the quoted schema name to qualify tables with. */
export type Migration = (schema: string) => string;

/**
 * Runs the `migrations` not yet applied to `schema`, in order, in one transaction. An advisory
 * lock (`lockKey`) makes processes that start together migrate one after the other, so each
 * migration runs exactly once. `schema` must be a validated identifier.
 */
export async function migrate(
  sql: Sql,
  schema: string,
  lockKey: number,
  migrations: readonly Migration[],
): Promise<void> {
  const s = `"${schema}"`;
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${lockKey})`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.unsafe(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const rows = await tx.unsafe<{ version: number }[]>(
      `SELECT version FROM ${s}.schema_migrations`,
    );
    const applied = new Set(rows.map((r) => r.version));
    for (const [i, migration] of migrations.entries()) {
      if (applied.has(i + 1)) continue;
      await tx.unsafe(migration(s));
      await tx.unsafe(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [i + 1]);
    }
  });
}

/** A connection pool to `url` with `schema` migrated; the pool is closed again if that fails. */
export async function openPostgres(
  url: string,
  schema: string,
  lockKey: number,
  migrations: readonly Migration[],
): Promise<Sql> {
  const sql = postgres(url, {
    max: 10,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => undefined,
  });
  try {
    await migrate(sql, schema, lockKey, migrations);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  return sql;
}
