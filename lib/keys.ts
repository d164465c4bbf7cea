import { createHash, timingSafeEqual } from 'node:crypto';

/** A key's sha256, so that comparisons take the same time whatever the key's length. */
export const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** Whether `given` is one of the keys whose digests are `keys`, compared in constant time. */
export function keyMatches(given: string | undefined, keys: readonly Buffer[]): boolean {
  if (!given) return false;
  const d = digest(given);
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(d, k) || ok;
  return ok;
}
