import { expect } from 'chai';
import nock from 'nock';
import { QUEUE, STORAGE, isolate, startGateway, stored } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { sample } from '../helpers/prometheus.js';

const ID = 'eval_20240701_120000_abc123def456';
const OPEN_MS = 400;

/** A storage service that fails, then recovers, as the circuit breaker in front of it sees it. */
describe('circuit breakers', () => {
  isolate();
  let gw: Gateway;
  beforeEach(async () => {
    gw = await startGateway({
      DOWNSTREAM_RETRIES: '0',
      CIRCUIT_FAILURE_RATIO: '0.5',
      CIRCUIT_WINDOW_MS: '10000',
      CIRCUIT_MIN_RPS: '0.5', // 5 calls in the window before it may open
      CIRCUIT_OPEN_MS: String(OPEN_MS),
    });
  });
  afterEach(() => gw.close());

  const read = () => gw.call('GET', `/api/eval-status/${ID}`);
  const storageCircuit = async () =>
    (await gw.call('GET', '/api/status')).body.services.storage.circuit as string;

  it('opens after its threshold, then refuses at once without calling the service', async () => {
    let calls = 0;
    nock(STORAGE)
      .get(`/evaluations/${ID}`)
      .times(100)
      .reply(() => {
        calls++;
        return [500, { detail: 'disk full' }];
      });
    expect(await storageCircuit()).to.equal('closed');
    // Five failures in five calls: over half of at least five.
    for (let i = 0; i < 5; i++) expect((await read()).status).to.equal(502);
    expect(calls).to.equal(5);
    expect(await storageCircuit()).to.equal('open');

    const started = performance.now();
    const refused = await read();
    const ms = performance.now() - started;
    expect(refused.status).to.equal(503);
    expect(refused.body.code).to.equal('GW_ERR_DOWNSTREAM_UNAVAILABLE');
    expect(refused.body.detail).to.match(/circuit is open/);
    expect(refused.headers.get('retry-after')).to.equal('1'); // OPEN_MS left, rounded up
    expect(calls, 'no call reaches a service whose circuit is open').to.equal(5);
    console.log(`      (answered in ${ms.toFixed(2)} ms while open)`);

    const metrics = (await gw.call('GET', '/metrics')).text;
    expect(sample(metrics, 'crucible_circuit_state{service="storage",state="open"}')).to.equal(1);
    expect(sample(metrics, 'crucible_circuit_state{service="queue",state="closed"}')).to.equal(1);
    expect(
      sample(metrics, 'crucible_downstream_errors_total{service="storage",kind="bad_gateway"}'),
    ).to.equal(5);
    expect(
      sample(metrics, 'crucible_downstream_errors_total{service="storage",kind="circuit_open"}'),
    ).to.equal(1);
    nock.cleanAll();
  });

  it('lets one call test the service after CIRCUIT_OPEN_MS, and closes when it answers', async () => {
    nock(STORAGE).get(`/evaluations/${ID}`).times(5).reply(500, { detail: 'disk full' });
    for (let i = 0; i < 5; i++) await read();
    expect(await storageCircuit()).to.equal('open');
    await new Promise((r) => setTimeout(r, OPEN_MS + 50));
    nock(STORAGE).get(`/evaluations/${ID}`).times(2).reply(200, stored(ID));
    expect((await read()).status).to.equal(200); // the test call
    expect(await storageCircuit()).to.equal('closed');
    expect((await read()).status).to.equal(200);
  });

  it('opens again when the test call fails', async () => {
    nock(STORAGE).get(`/evaluations/${ID}`).times(6).reply(500, { detail: 'disk full' });
    for (let i = 0; i < 5; i++) await read();
    await new Promise((r) => setTimeout(r, OPEN_MS + 50));
    expect((await read()).status).to.equal(502); // the test call reached it, and failed
    expect(await storageCircuit()).to.equal('open');
    expect((await read()).status).to.equal(503);
  });

  it('retries idempotent calls within a budget: a fifth of the calls, after a burst of 10', async () => {
    const off = await startGateway({ DOWNSTREAM_RETRIES: '2', CIRCUIT_FAILURE_RATIO: '0' });
    let calls = 0;
    nock(STORAGE)
      .get(`/evaluations/${ID}`)
      .times(1000)
      .reply(() => {
        calls++;
        return [503, { detail: 'busy' }];
      });
    try {
      for (let i = 0; i < 50; i++)
        expect((await off.call('GET', `/api/eval-status/${ID}`)).status).to.equal(502);
      // Without a budget: 150 calls (each read tried three times). With it: the 50 reads, the
      // burst of 10 retries, and at most one retry per 5 reads since.
      expect(calls).to.be.within(50 + 10, 50 + 10 + 10);
    } finally {
      nock.cleanAll();
      await off.close();
    }
  });

  it('lets background samples (queue depths for metrics) neither open a circuit nor be refused', async () => {
    nock(QUEUE).get('/status').times(12).reply(500, { detail: 'broken' });
    for (let i = 0; i < 12; i++) await gw.deps.depths.sample();
    expect((await gw.call('GET', '/api/status')).body.services.queue.circuit).to.equal('closed');
  });

  it('does not count answers the contract allows (404) as failures', async () => {
    nock(STORAGE).get(`/evaluations/${ID}`).times(8).reply(404, { detail: 'Not Found' });
    for (let i = 0; i < 8; i++) expect((await read()).status).to.equal(404);
    expect(await storageCircuit()).to.equal('closed');
  });
});
