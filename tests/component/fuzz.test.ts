import { expect } from 'chai';
import type { Gateway } from '../../server/compose.js';
import { fuzz } from '../fuzz/campaign.js';
import { operationIds } from '../helpers/contract.js';
import { startEmbedded } from '../helpers/embedded.js';

/**
 * 2,000 requests over every operation from the spec, valid and mutated, against the gateway with
 * its embedded platform (real storage, queue and worker behind it): every answer inside the
 * contract, never a 500.
 */
describe('the spec-driven fuzzer (seed 1, 2,000 requests, embedded platform)', function () {
  this.timeout(180_000);
  let gateway: Gateway;
  let base: string;

  before(async () => {
    ({ gateway, base } = await startEmbedded({
      ADMIN_API_KEY: 'fuzz-admin',
      API_KEYS: 'fuzz-key',
      // Its wrong keys would get this address throttled and most answers would be 429.
      AUTH_FAILURES_PER_MINUTE: '0',
    }));
  });
  after(() => gateway?.close());

  it('answers every request inside the contract: listed statuses, valid bodies, problems, no 500', async () => {
    const report = await fuzz(base, 1, 2_000, [
      {},
      { 'x-api-key': 'fuzz-key' },
      { 'x-api-key': 'fuzz-key' },
      { 'x-admin-key': 'fuzz-admin' },
    ]);
    expect(report.requests).to.equal(2_000);
    expect(Object.keys(report.byOperation).sort()).to.deep.equal([...operationIds].sort()); // all
    expect(report.violations.slice(0, 20)).to.deep.equal([]);
    expect(report.byStatus['500'] ?? 0).to.equal(0);
    console.log(`      by status: ${JSON.stringify(report.byStatus)}`);
  });
});
