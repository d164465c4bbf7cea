import type { JWTVerifyGetKey, KeyObject } from 'jose';
import type { Config } from '../../lib/config.js';
import { GatewayError } from '../../lib/errors.js';
import { ALL_SCOPES } from '../../core/api-keys.js';
import type { Scope } from '../../core/api-keys.js';
import type { Identity } from '../../core/identity.js';

type JwtConfig = Pick<
  Config['gateway'],
  | 'jwtJwksUrl'
  | 'jwtPublicKey'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'jwtClockSkewS'
  | 'jwtOwnerClaim'
  | 'jwtScopesClaim'
>;

const invalid = (detail: string): GatewayError =>
  new GatewayError('GW_ERR_UNAUTHORIZED', detail, {
    headers: { 'www-authenticate': 'Bearer realm="crucible", error="invalid_token"' },
  });

/**
 * `Authorization: Bearer <JWT>` (RFC 6750) verified with jose: against a JWKS (jose caches it and
 * fetches it again when a token names an unknown `kid`) or a configured public key; `iss` and
 * `aud` when configured, `exp` and `nbf` with a small clock skew. The owner and the scopes come
 * from configurable claims. Undefined when neither JWT_JWKS_URL nor JWT_PUBLIC_KEY is set.
 */
export async function createBearer(
  config: JwtConfig,
): Promise<((token: string) => Promise<Identity>) | undefined> {
  if (!config.jwtJwksUrl && !config.jwtPublicKey) return undefined;
  // Loaded only when JWTs are configured: it costs ~30 ms of start-up.
  const { createRemoteJWKSet, importSPKI, jwtVerify } = await import('jose');
  let key: JWTVerifyGetKey | KeyObject | Awaited<ReturnType<typeof importSPKI>>;
  if (config.jwtJwksUrl) key = createRemoteJWKSet(new URL(config.jwtJwksUrl));
  else if (config.jwtPublicKey) {
    const pem = config.jwtPublicKey.replaceAll('\\n', '\n');
    const alg = /BEGIN PUBLIC KEY/.test(pem) ? await algorithmOf(pem) : 'RS256';
    key = await importSPKI(pem, alg);
  } else return undefined;
  const known = new Set<string>(ALL_SCOPES);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
        ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
        ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
        clockTolerance: config.jwtClockSkewS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw invalid(`The bearer token is not valid: ${(err as Error).message}`);
    }
    const owner = payload[config.jwtOwnerClaim];
    if (typeof owner !== 'string' || owner === '')
      throw invalid(`The bearer token names no owner (claim ${config.jwtOwnerClaim})`);
    const raw = payload[config.jwtScopesClaim];
    const listed = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw : [];
    const scopes = new Set(listed.filter((s): s is Scope => typeof s === 'string' && known.has(s)));
    const who: Identity = {
      owner,
      scopes,
      via: { kind: 'jwt', subject: typeof payload.sub === 'string' ? payload.sub : owner },
    };
    return who;
  };
}

/** ES256 for an EC key, else RS256: what a PEM key of each type signs with by default. */
async function algorithmOf(pem: string): Promise<string> {
  const { createPublicKey } = await import('node:crypto');
  const type = createPublicKey(pem).asymmetricKeyType;
  return type === 'ec' ? 'ES256' : type === 'ed25519' ? 'EdDSA' : 'RS256';
}
