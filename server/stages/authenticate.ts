import type { IncomingMessage } from 'node:http';
import type { Config } from '../../lib/config.js';
import { GatewayError } from '../../lib/errors.js';
import { header } from '../../lib/http/body.js';
import type { RouteOperation } from '../../lib/http/router.js';
import { digest, keyMatches } from '../../lib/keys.js';
import { ALL_SCOPES } from '../../core/api-keys.js';
import type { ApiKeys, Scope } from '../../core/api-keys.js';
import { ANONYMOUS, BOOTSTRAP_OWNER } from '../../core/identity.js';
import type { Identity } from '../../core/identity.js';

const CHALLENGE = { 'www-authenticate': 'APIKey realm="crucible", header="X-API-Key"' };
const unauthorized = (detail: string): GatewayError =>
  new GatewayError('GW_ERR_UNAUTHORIZED', detail, { headers: CHALLENGE });

const READ_WRITE: ReadonlySet<Scope> = new Set(['evaluations:read', 'evaluations:write']);
const PUBLIC: Identity = { owner: ANONYMOUS, scopes: new Set(), via: { kind: 'open' } };
const OPEN: Identity = { owner: ANONYMOUS, scopes: READ_WRITE, via: { kind: 'open' } };
const BOOTSTRAP: Identity = {
  owner: BOOTSTRAP_OWNER,
  scopes: READ_WRITE,
  via: { kind: 'bootstrap' },
};
const ADMIN: Identity = { owner: 'admin', scopes: new Set(ALL_SCOPES), via: { kind: 'admin' } };

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
const bearerToken = (req: IncomingMessage): string | undefined =>
  /^bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')?.[1];

export type Authenticate = (
  op: RouteOperation,
  req: IncomingMessage,
) => Promise<{ identity: Identity; client: string }>;

/**
 * Stage 4: who is calling, and whether it may (401 with `WWW-Authenticate`, RFC 9110 §15.5.2;
 * 403 for a missing scope, §15.5.4). A managed key (`crk_…`), a bootstrap key (`API_KEYS`) or
 * the admin key (`ADMIN_API_KEY`, in X-Admin-Key); without any, only a gateway that has no key
 * at all runs open. A presented key is always checked. The operation's scope is the spec's.
 */
export function createAuthenticator(
  config: Pick<Config['gateway'], 'apiKeys' | 'adminApiKey'>,
  keys: ApiKeys,
  address: (req: IncomingMessage) => string,
  /** Verifies a bearer token (JWT) when the gateway accepts them. */
  bearer?: (token: string) => Promise<Identity>,
): { authenticate: Authenticate; identify: (key: string | undefined) => Promise<Identity> } {
  const bootstrap = config.apiKeys.map(digest);
  const adminKeys = config.adminApiKey ? [digest(config.adminApiKey)] : [];

  /** The identity of an X-API-Key (or of none); throws 401 for a key that is not valid. */
  async function identify(apiKey: string | undefined): Promise<Identity> {
    if (apiKey !== undefined) {
      if (keyMatches(apiKey, bootstrap)) return BOOTSTRAP;
      const key = await keys.resolve(apiKey);
      if (!key) throw unauthorized('The X-API-Key is not valid (unknown, rotated or revoked)');
      return {
        owner: key.owner,
        scopes: new Set(key.scopes),
        via: { kind: 'key', keyId: key.id },
        ...(key.rate_limit_per_minute ? { perMinute: key.rate_limit_per_minute } : {}),
        ...(key.max_concurrent ? { maxConcurrent: key.max_concurrent } : {}),
      };
    }
    if (bootstrap.length === 0 && !bearer && !(await keys.anyActive())) return OPEN;
    throw unauthorized('An X-API-Key header is required');
  }

  async function authenticate(op: RouteOperation, req: IncomingMessage) {
    const apiKey = header(req, 'x-api-key');
    let client = apiKey
      ? `key:${digest(apiKey).toString('hex').slice(0, 16)}`
      : `ip:${address(req)}`;
    if (op.schemes.length === 0) return { identity: PUBLIC, client };
    const adminKey = op.schemes.includes('AdminKey') ? header(req, 'x-admin-key') : undefined;
    const token = bearerToken(req);
    let identity: Identity;
    if (adminKey !== undefined) {
      if (!keyMatches(adminKey, adminKeys)) throw unauthorized('The X-Admin-Key is not valid');
      identity = ADMIN;
    } else if (token !== undefined && apiKey === undefined) {
      if (!bearer) throw unauthorized('This gateway accepts no bearer tokens; use X-API-Key');
      identity = await bearer(token);
      client = `jwt:${identity.owner}`;
    } else identity = await identify(apiKey);
    // A managed key's bucket follows the key, not its current secret (rotation keeps it).
    if (identity.via.kind === 'key') client = `key:${identity.via.keyId}`;
    const scope = op.scope as Scope | undefined;
    // `admin` may do everything the other scopes allow.
    if (scope && !identity.scopes.has(scope) && !identity.scopes.has('admin')) {
      // No credential at all (an open gateway): ask for one; a credential short of it: refuse.
      if (identity.via.kind === 'open')
        throw unauthorized(`This operation needs a key with the ${scope} scope`);
      throw new GatewayError('GW_ERR_FORBIDDEN', `This operation needs the ${scope} scope`);
    }
    return { identity, client };
  }

  return { authenticate, identify };
}

/**
 * A WebSocket upgrade's identity, from a bearer token, X-API-Key or (browsers cannot set headers
 * on a WebSocket) the `api_key` query parameter; null when it may not connect.
 */
export function createUpgradeCheck(
  identify: (key: string | undefined) => Promise<Identity>,
  bearer?: (token: string) => Promise<Identity>,
): (req: IncomingMessage, url: URL) => Promise<Identity | null> {
  return async (req, url) => {
    try {
      const token = bearerToken(req);
      const who =
        token !== undefined && bearer
          ? await bearer(token)
          : await identify(
              header(req, 'x-api-key') ?? url.searchParams.get('api_key') ?? undefined,
            );
      return who.scopes.has('evaluations:read') ? who : null;
    } catch {
      return null;
    }
  };
}
