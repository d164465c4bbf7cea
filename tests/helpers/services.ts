import { randomBytes } from 'node:crypto';
import { deleteRedisPrefix } from '../../lib/redis.js';
import postgres from 'postgres';

/** The real servers the integration tests use (scripts/services.sh starts them). */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A name no other test run uses, for a Bull prefix or a PostgreSQL schema. */
export function uniqueName(kind: string): string {
  return `test_${kind}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key under `prefix:`. */
export const dropRedisPrefix = (prefix: string): Promise<void> =>
  deleteRedisPrefix(REDIS_URL, prefix);

/**
 * Drops a test's schema. A process the test just stopped may still have a statement finishing
 * on the server, which can deadlock with the DROP's locks: PostgreSQL then aborts one side, and
 * the drop is tried again.
 */
export async function dropSchema(schema: string): Promise<void> {
  const sql = postgres(DATABASE_URL, { onnotice: () => undefined });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '40P01' || attempt === 5) throw err;
        await sleep(200 * attempt);
      }
    }
  } finally {
    await sql.end();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` is true, polling every 20 ms, at most `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}
