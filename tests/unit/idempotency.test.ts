import { expect } from 'chai';
import { createMemoryLedger } from '../../clients/ledger.js';
import { canonicalJson, idempotent } from '../../core/idempotency.js';
import { GatewayError } from '../../lib/errors.js';

const reply = (n: number) => ({ status: 202, body: { n } });

describe('idempotent (memory ledger)', () => {
  it('writes JSON with keys sorted at every depth, arrays in order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: [3, 'x'] }], e: undefined })).to.equal(
      '{"a":[{"c":[3,"x"],"d":2}],"b":1}',
    );
    expect(canonicalJson({ ab: 1, b: 2, a: 3 })).to.equal('{"a":3,"ab":1,"b":2}');
  });

  it('runs without a key every time', async () => {
    const ledger = createMemoryLedger(24);
    let runs = 0;
    await idempotent(ledger, undefined, 'c', {}, () => Promise.resolve(reply(++runs)));
    await idempotent(ledger, undefined, 'c', {}, () => Promise.resolve(reply(++runs)));
    expect(runs).to.equal(2);
  });

  it('answers a repeat with the first answer, marked replayed, whatever the key order', async () => {
    const ledger = createMemoryLedger(24);
    let runs = 0;
    const first = await idempotent(ledger, 'k', 'c', { a: 1, b: [1, 2] }, () =>
      Promise.resolve(reply(++runs)),
    );
    const again = await idempotent(ledger, 'k', 'c', { b: [1, 2], a: 1 }, () =>
      Promise.resolve(reply(++runs)),
    );
    expect(runs).to.equal(1);
    expect(first.headers).to.equal(undefined);
    expect(again).to.deep.equal({
      status: 202,
      body: { n: 1 },
      headers: { 'idempotent-replayed': 'true' },
    });
  });

  const refused = async (p: Promise<unknown>): Promise<GatewayError> => {
    try {
      await p;
    } catch (err) {
      if (err instanceof GatewayError) return err;
      throw err;
    }
    throw new Error('expected a refusal');
  };

  it('refuses the key with another body (422), with an array in another order too', async () => {
    const ledger = createMemoryLedger(24);
    await idempotent(ledger, 'k', 'c', { a: [1, 2] }, () => Promise.resolve(reply(1)));
    const err = await refused(
      idempotent(ledger, 'k', 'c', { a: [2, 1] }, () => Promise.resolve(reply(2))),
    );
    expect(err.code).to.equal('GW_ERR_IDEMPOTENCY_MISMATCH');
    expect(err.status).to.equal(422);
    expect(err.message).to.match(/different request body/);
  });

  it('answers 409 while the first is still running', async () => {
    const ledger = createMemoryLedger(24);
    let finish!: () => void;
    const first = idempotent(
      ledger,
      'k',
      'c',
      {},
      () => new Promise((r) => (finish = () => r(reply(1)))),
    );
    await new Promise((r) => setImmediate(r));
    const err = await refused(idempotent(ledger, 'k', 'c', {}, () => Promise.resolve(reply(2))));
    expect(err.code).to.equal('GW_ERR_IDEMPOTENCY_IN_PROGRESS');
    expect(err.message).to.match(/still being processed/);
    finish();
    expect((await first).body).to.deep.equal({ n: 1 });
  });

  it('forgets a first attempt that failed, so the retry runs', async () => {
    const ledger = createMemoryLedger(24);
    const err = await refused(
      idempotent(ledger, 'k', 'c', {}, () =>
        Promise.reject(new GatewayError('GW_ERR_DOWNSTREAM_UNAVAILABLE', 'down')),
      ),
    );
    expect(err.code).to.equal('GW_ERR_DOWNSTREAM_UNAVAILABLE');
    const retry = await idempotent(ledger, 'k', 'c', {}, () => Promise.resolve(reply(7)));
    expect(retry).to.deep.equal(reply(7));
  });

  it('keeps keys of different scopes apart', async () => {
    const ledger = createMemoryLedger(24);
    await idempotent(ledger, 'k', 'alice', { a: 1 }, () => Promise.resolve(reply(1)));
    const other = await idempotent(ledger, 'k', 'bob', { a: 2 }, () => Promise.resolve(reply(2)));
    expect(other).to.deep.equal(reply(2));
  });
});
