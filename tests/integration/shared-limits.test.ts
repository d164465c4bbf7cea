import { expect } from 'chai';
import nock from 'nock';
import { startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../helpers/services.js';

/** Budgets kept in one real Redis, so that every gateway enforces the same figure. */
describe('limits shared by two gateways on one Redis', () => {
  let prefix: string;
  let gateways: Gateway[];
  // Each test its own pair of gateways and its own Redis prefix: no budget carries over.
  beforeEach(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    prefix = uniqueName('rl');
    gateways = [];
    for (let i = 0; i < 2; i++) {
      gateways.push(
        await startGateway({
          REDIS_URL,
          RATE_LIMIT_PREFIX: prefix,
          RATE_LIMIT_PER_MINUTE: '20',
          AUTH_FAILURES_PER_MINUTE: '5',
          API_KEYS: 'alice,bob',
        }),
      );
    }
  });
  afterEach(async () => {
    for (const g of gateways) await g.close();
    nock.enableNetConnect();
    await dropRedisPrefix(`${prefix}:req`);
    await dropRedisPrefix(`${prefix}:authfail`);
  });

  it('lets one key through 20 requests a minute in all, however they are spread', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await gateways[i % 2]!.call('GET', '/api/celery-status', {
        headers: { 'x-api-key': 'alice' },
      });
      statuses.push(r.status);
      if (i === 0) {
        expect(r.headers.get('ratelimit-policy')).to.equal('"per-key";q=20;w=60');
        expect(r.headers.get('ratelimit')).to.match(/^"per-key";r=19;t=\d+$/);
      }
    }
    expect(statuses.filter((s) => s === 200)).to.have.length(20);
    expect(statuses.slice(20).every((s) => s === 429)).to.equal(true);
    // Another key has its own budget.
    const bob = await gateways[1]!.call('GET', '/api/celery-status', {
      headers: { 'x-api-key': 'bob' },
    });
    expect(bob.status).to.equal(200);
  });

  it('stops an address guessing keys on every gateway, even before a right guess', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await gateways[i % 2]!.call('GET', '/api/celery-status', {
        headers: { 'x-api-key': `guess-${i}` },
      });
      statuses.push(r.status);
    }
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429, 429]);
    const right = await gateways[0]!.call('GET', '/api/celery-status', {
      headers: { 'x-api-key': 'bob' },
    });
    expect(right.status).to.equal(429); // the right key, from that address, waits too
    expect(Number(right.headers.get('retry-after'))).to.be.within(1, 60);
  });
});
