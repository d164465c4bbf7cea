import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export const ISSUER = 'https://id.example';
export const AUDIENCE = 'crucible-gateway';

export interface Jwks {
  url: string;
  /** A token signed by the published key; `aud` in the claims overrides the audience. */
  sign: (claims: Record<string, unknown>, over?: { exp?: number; nbf?: number }) => Promise<string>;
  /** The same, signed by a key nobody publishes. */
  signWithStranger: (claims: Record<string, unknown>) => Promise<string>;
  close: () => Promise<void>;
}

/** An identity provider's JWKS on loopback (one ES256 key, kid k1), and tokens it would issue. */
export async function startJwks(): Promise<Jwks> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const build = (claims: Record<string, unknown>, over: { exp?: number; nbf?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience((claims.aud as string | undefined) ?? AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(over.nbf ?? now)
      .setExpirationTime(over.exp ?? now + 300);
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    sign: (claims, over) => build(claims, over).sign(privateKey),
    signWithStranger: (claims) => build(claims).sign(stranger.privateKey),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
