import type { Scope } from './ports/key-store.js';

/** Who is calling, once authenticated: whose evaluations it may see, and what it may do. */
export interface Identity {
  owner: string;
  scopes: ReadonlySet<Scope>;
  /** A managed key's own requests a minute, and its quota of unfinished evaluations. */
  perMinute?: number;
  maxConcurrent?: number;
  /** What made it: a managed key, a JWT, a bootstrap key, the admin key, or nothing (open). */
  via:
    | { kind: 'key'; keyId: string }
    | { kind: 'jwt'; subject: string }
    | { kind: 'bootstrap' }
    | { kind: 'admin' }
    | { kind: 'open' };
}

/** The owner of calls made without a key to a gateway that runs open (no keys anywhere). */
export const ANONYMOUS = 'anonymous';
/** The owner of the bootstrap keys (`API_KEYS`). */
export const BOOTSTRAP_OWNER = 'default';

export const isAdmin = (who: Identity): boolean => who.scopes.has('admin');

/** Whether `who` may see an evaluation recorded for `owner` (null: before owners existed). */
export function mayAccess(who: Identity, owner: string | null | undefined): boolean {
  return isAdmin(who) || (owner ?? ANONYMOUS) === who.owner;
}
