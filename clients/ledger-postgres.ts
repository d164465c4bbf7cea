import { GatewayError } from '../lib/errors.js';
import { openPostgres } from '../lib/postgres.js';
import type { Migration } from '../lib/postgres.js';
import type { Ledger, SubmissionRecord } from './ledger.js';
import type { KeyStore } from '../core/ports/key-store.js';
import { createPostgresKeyStore } from './keys-postgres.js';

/** Each migration runs once, in order, in its own transaction. Never edit one that shipped. */
const MIGRATIONS: Migration[] = [
  (s) => `
    CREATE TABLE ${s}.submissions (
      eval_id      text PRIMARY KEY,
      backend      text NOT NULL CHECK (backend IN ('legacy', 'bull')),
      task_id      text NOT NULL,
      status       text NOT NULL,
      language     text NOT NULL,
      timeout      integer NOT NULL,
      priority     boolean NOT NULL,
      client       text,
      fallback     boolean NOT NULL DEFAULT false,
      batch        boolean NOT NULL DEFAULT false,
      submitted_at timestamptz NOT NULL,
      updated_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE ${s}.idempotency_keys (
      key          text PRIMARY KEY,
      request_hash text NOT NULL,
      status       integer,
      body         jsonb,
      created_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX idempotency_keys_created_at ON ${s}.idempotency_keys (created_at);`,
  // The source, for queueing an evaluation again when its backend lost it; the reconciler's
  // work list is the accepted records not looked at for a while.
  (s) => `
    ALTER TABLE ${s}.submissions ADD COLUMN code text, ADD COLUMN requeues integer NOT NULL DEFAULT 0;
    CREATE INDEX submissions_pending ON ${s}.submissions (updated_at)
      WHERE status IN ('submitted', 'queued');`,
  // Running ones too: a worker may die with its evaluation, unrecorded.
  (s) => `
    DROP INDEX ${s}.submissions_pending;
    CREATE INDEX submissions_unfinished ON ${s}.submissions (updated_at)
      WHERE status IN ('submitted', 'queued', 'provisioning', 'running');`,
  // Managed API keys, and who owns each evaluation.
  (s) => `
    CREATE TABLE ${s}.api_keys (
      id         text PRIMARY KEY,
      prefix     text NOT NULL UNIQUE,
      hash       text NOT NULL,
      owner      text NOT NULL,
      scopes     text[] NOT NULL,
      name       text,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    );
    ALTER TABLE ${s}.submissions ADD COLUMN owner text;`,
  // A key's own rate limit and concurrency quota.
  (s) => `
    ALTER TABLE ${s}.api_keys ADD COLUMN rate_limit_per_minute integer,
      ADD COLUMN max_concurrent integer;`,
  (s) => `ALTER TABLE ${s}.submissions ADD COLUMN stdin text;`,
  (s) => `ALTER TABLE ${s}.submissions ADD COLUMN args text[];`,
  (s) => `ALTER TABLE ${s}.submissions ADD COLUMN test_cases jsonb;`,
  (s) => `ALTER TABLE ${s}.submissions ADD COLUMN callback_url text;`,
  (s) => `ALTER TABLE ${s}.submissions ADD COLUMN files jsonb, ADD COLUMN limits jsonb;`,
  (s) => `
    ALTER TABLE ${s}.submissions ADD COLUMN batch_id text, ADD COLUMN batch_index integer;
    CREATE INDEX submissions_batch ON ${s}.submissions (batch_id, batch_index)
      WHERE batch_id IS NOT NULL;`,
];

// A fixed key for pg_advisory_xact_lock, so that gateways starting together migrate one at a time.
const MIGRATION_LOCK = 0x63727563;
// With the schema's hash, the session lock the reconciling gateway holds.
const RECONCILE_LOCK = 0x72656330;
const COLUMNS =
  "eval_id, backend, task_id, status, language, timeout, priority, client, owner, fallback, batch, submitted_at, COALESCE(code, '') AS code, COALESCE(stdin, '') AS stdin, COALESCE(args, '{}') AS args, COALESCE(test_cases, '[]'::jsonb) AS test_cases, callback_url, COALESCE(files, '[]'::jsonb) AS files, COALESCE(limits, '{}'::jsonb) AS limits, batch_id, batch_index, requeues";

function unavailable(err: unknown): GatewayError {
  return new GatewayError(
    'GW_ERR_DOWNSTREAM_UNAVAILABLE',
    `Gateway ledger unavailable: ${(err as Error).message}`,
    {
      cause: err,
    },
  );
}

/**
 * PostgreSQL through `postgres`. `schema` is a validated identifier (lib/config.ts); it is the
 * only text ever placed into SQL unescaped. Migrations run before this resolves.
 */
export async function createPostgresLedger(
  url: string,
  schema: string,
  ttlHours: number,
): Promise<Ledger & { keys: KeyStore }> {
  const sql = await openPostgres(url, schema, MIGRATION_LOCK, MIGRATIONS);
  const table = sql(`${schema}.submissions`);
  const keysTable = sql(`${schema}.idempotency_keys`);
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  };
  const ttl = `${ttlHours} hours`;
  let leading: Awaited<ReturnType<typeof sql.reserve>> | undefined;
  const unlead = async (): Promise<void> => {
    const conn = leading;
    leading = undefined;
    if (!conn) return;
    await conn`SELECT pg_advisory_unlock(${RECONCILE_LOCK}, hashtext(${schema}))`.catch(
      () => undefined,
    );
    conn.release();
  };

  return {
    kind: 'postgres',
    keys: createPostgresKeyStore(sql, schema),
    record: (rec) =>
      guard(async () => {
        await sql`
          INSERT INTO ${table} ${sql({ ...rec, test_cases: sql.json(rec.test_cases), files: sql.json(rec.files), limits: sql.json(rec.limits) } as unknown as Record<string, unknown>)}
          ON CONFLICT (eval_id) DO UPDATE SET backend = EXCLUDED.backend, task_id = EXCLUDED.task_id,
            status = EXCLUDED.status, fallback = EXCLUDED.fallback, updated_at = now()`;
      }),
    find: (id) =>
      guard(async () => {
        const [row] = await sql<SubmissionRecord[]>`
          SELECT ${sql.unsafe(COLUMNS)} FROM ${table} WHERE eval_id = ${id}`;
        return row ?? null;
      }),
    inBatch: (batchId) =>
      guard(async () => [
        ...(await sql<SubmissionRecord[]>`
          SELECT ${sql.unsafe(COLUMNS)} FROM ${table}
          WHERE batch_id = ${batchId} ORDER BY batch_index`),
      ]),
    setStatus: (id, status) =>
      guard(async () => {
        await sql`UPDATE ${table} SET status = ${status}, updated_at = now() WHERE eval_id = ${id}`;
      }),
    stale: (olderThanMs, limit) =>
      guard(async () => {
        const rows = await sql<SubmissionRecord[]>`
          SELECT ${sql.unsafe(COLUMNS)} FROM ${table}
          WHERE status IN ('submitted', 'queued', 'provisioning', 'running')
            AND updated_at <= now() - make_interval(secs => ${olderThanMs / 1000})
          ORDER BY updated_at LIMIT ${limit}`;
        return [...rows];
      }),
    touch: (id, requeued) =>
      guard(async () => {
        await sql`UPDATE ${table} SET updated_at = now(), requeues = requeues + ${requeued ? 1 : 0}
          WHERE eval_id = ${id}`;
      }),
    async lead() {
      // One gateway reconciles: the one whose session holds the lock. A lost connection loses the
      // lock with it, and another gateway takes over at its next try.
      try {
        if (leading) {
          await leading`SELECT 1`;
          return true;
        }
        const conn = await sql.reserve();
        const [row] = await conn<{ won: boolean }[]>`
          SELECT pg_try_advisory_lock(${RECONCILE_LOCK}, hashtext(${schema})) AS won`;
        if (row?.won) leading = conn;
        else conn.release();
        return leading !== undefined;
      } catch {
        leading?.release();
        leading = undefined;
        return false;
      }
    },
    claim: (key, hash) =>
      guard(async () => {
        // Expired keys are replaced in the same statement, so a stale key never blocks a claim.
        const [won] = await sql<{ key: string }[]>`
          INSERT INTO ${keysTable} (key, request_hash) VALUES (${key}, ${hash})
          ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL, created_at = now()
            WHERE ${keysTable}.created_at < now() - ${ttl}::interval
          RETURNING key`;
        if (won) return { state: 'claimed' } as const;
        const [row] = await sql<{ request_hash: string; status: number | null; body: unknown }[]>`
          SELECT request_hash, status, body FROM ${keysTable} WHERE key = ${key}`;
        if (!row) return { state: 'claimed' } as const; // released between the two statements
        return row.status === null
          ? ({ state: 'pending', requestHash: row.request_hash } as const)
          : ({
              state: 'done',
              requestHash: row.request_hash,
              answer: { status: row.status, body: row.body },
            } as const);
      }),
    complete: (key, answer) =>
      guard(async () => {
        await sql`UPDATE ${keysTable} SET status = ${answer.status}, body = ${sql.json(answer.body as never)} WHERE key = ${key}`;
      }),
    release: (key) =>
      guard(async () => {
        await sql`DELETE FROM ${keysTable} WHERE key = ${key} AND status IS NULL`;
      }),
    prune: () =>
      guard(async () => {
        const r = await sql`DELETE FROM ${keysTable} WHERE created_at < now() - ${ttl}::interval`;
        return r.count;
      }),
    ping: () =>
      guard(async () => {
        await sql`SELECT 1`;
      }),
    async close() {
      await unlead();
      await sql.end({ timeout: 2 });
    },
  };
}
