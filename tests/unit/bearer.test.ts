import { expect } from 'chai';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { createBearer } from '../../server/stages/bearer.js';

const base = { jwtClockSkewS: 30, jwtOwnerClaim: 'tenant', jwtScopesClaim: 'perms' };

describe('bearer tokens against a configured public key (JWT_PUBLIC_KEY)', () => {
  it('verifies an RS256 token and reads the owner and scopes from the configured claims', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    // As an environment variable carries it: line breaks written as \n.
    const pem = (await exportSPKI(publicKey)).replaceAll('\n', '\\n');
    const verify = (await createBearer({ ...base, jwtPublicKey: pem }))!;
    const token = await new SignJWT({ tenant: 'acme', perms: ['evaluations:read', 'nonsense'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('5m')
      .sign(privateKey);
    const who = await verify(token);
    expect(who.owner).to.equal('acme');
    expect([...who.scopes]).to.deep.equal(['evaluations:read']); // unknown scopes dropped
    const noExp = await new SignJWT({ tenant: 'acme' })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    let err: unknown;
    await verify(noExp).catch((e: unknown) => (err = e));
    expect((err as { status?: number }).status).to.equal(401); // a token that never expires
  });

  it('is off when neither a JWKS URL nor a public key is configured', async () => {
    expect(await createBearer(base)).to.equal(undefined);
  });
});
