import { randomBytes } from 'node:crypto';

// Random bytes drawn 6 KiB at a time: a call to the OS per id cost 3% of a submit's CPU, and one
// per trace 15% of a /health.
const POOL_BYTES = 6 * 1024;
let pool = Buffer.alloc(0);
let used = 0;

/** `bytes` random bytes as hex, from a pool refilled from the OS when it runs out. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}
