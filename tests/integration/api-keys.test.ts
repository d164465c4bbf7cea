import { expect } from 'chai';
import { createPostgresLedger } from '../../clients/ledger-postgres.js';
import { ApiKeys } from '../../core/api-keys.js';
import { DATABASE_URL, dropSchema, uniqueName } from '../helpers/services.js';

/** Managed keys in real PostgreSQL, shared by two gateways (two ledgers on one schema). */
describe('API keys in PostgreSQL, seen by every gateway', () => {
  const schema = uniqueName('gw');
  after(() => dropSchema(schema));

  it('a key made on one gateway works on another, and its revocation reaches it within a second', async () => {
    const [a, b] = await Promise.all(
      [1, 2].map(() => createPostgresLedger(DATABASE_URL, schema, 24)),
    );
    let t = 1_000_000;
    const clock = () => t;
    const onA = new ApiKeys(a!.keys, 1_000, clock);
    const onB = new ApiKeys(b!.keys, 1_000, clock);
    try {
      expect(await onB.anyActive()).to.equal(false);
      const { key, secret } = await onA.create('team-a', ['evaluations:read'], 'ci');
      t += 1_000; // B counted before the key existed; it counts again after a second
      expect(await onB.anyActive()).to.equal(true);
      expect((await onB.resolve(secret))?.owner).to.equal('team-a');
      expect(await onB.resolve(`${secret.slice(0, -1)}x`)).to.equal(null); // one char off
      expect((await onA.list('team-a')).map((k) => k.id)).to.deep.equal([key.id]);
      expect(JSON.stringify(await onA.list())).to.not.include(secret);

      await onA.revoke(key.id);
      expect(await onA.resolve(secret)).to.equal(null); // at once where it was revoked
      t += 999;
      expect((await onB.resolve(secret))?.id).to.equal(key.id); // B's cached answer...
      t += 1;
      expect(await onB.resolve(secret)).to.equal(null); // ...lasts one second at most
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('rotates a key: the old secret stops working, the new one works, a revoked one cannot', async () => {
    const ledger = await createPostgresLedger(DATABASE_URL, schema, 24);
    const keys = new ApiKeys(ledger.keys, 0);
    try {
      const { key, secret } = await keys.create('team-b', ['evaluations:write'], null);
      const rotated = await keys.rotate(key.id);
      expect(rotated.key.prefix).to.not.equal(key.prefix);
      expect(await keys.resolve(secret)).to.equal(null);
      expect((await keys.resolve(rotated.secret))?.id).to.equal(key.id);
      await keys.revoke(key.id);
      let err: unknown;
      await keys.rotate(key.id).catch((e: unknown) => (err = e));
      expect((err as { status?: number }).status).to.equal(409);
    } finally {
      await ledger.close();
    }
  });
});
