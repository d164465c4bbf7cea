import { expect } from 'chai';
import nock from 'nock';
import { STORAGE, isolate, refusedUrl, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';

const ID = 'eval_20240701_120000_abc123def456';

/** Every operation whose first step is a storage call, as a client would make it. */
const OPERATIONS: [string, string, string, Record<string, unknown>?][] = [
  ['getEvaluationStatus', 'GET', `/api/eval-status/${ID}`],
  ['getEvaluation', 'GET', `/api/eval/${ID}`],
  ['listEvaluations', 'GET', '/api/evaluations'],
  ['cancelEvaluation', 'POST', `/api/eval/${ID}/cancel`],
  ['killEvaluation', 'POST', `/api/eval/${ID}/kill`],
  ['updateEvaluationStatus', 'PATCH', `/api/eval/${ID}/status`, { status: 'failed' }],
  ['getStatistics', 'GET', '/api/statistics'],
];
const admin = { 'x-admin-key': 'adm' };

describe('when the storage service is unreachable or slow', () => {
  isolate();
  let down: Gateway;
  let slow: Gateway;
  before(async () => {
    down = await startGateway({
      STORAGE_SERVICE_URL: await refusedUrl(),
      ADMIN_API_KEY: 'adm',
      DOWNSTREAM_RETRIES: '0',
    });
    slow = await startGateway({
      ADMIN_API_KEY: 'adm',
      DOWNSTREAM_RETRIES: '0',
      DOWNSTREAM_TIMEOUT_MS: '100',
    });
  });
  after(async () => {
    await down.close();
    await slow.close();
  });

  for (const [operation, method, path, json] of OPERATIONS) {
    it(`${operation} answers 503 naming the storage service, with Retry-After`, async () => {
      const r = await down.call(method, path, { json, headers: admin });
      expect(r.status).to.equal(503);
      expect(r.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      expect(r.body).to.include({
        code: 'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        detail: 'Storage service unavailable',
      });
    });

    it(`${operation} answers 504 when storage does not answer in time`, async () => {
      nock(STORAGE).get(/.*/).delay(500).reply(200, {}); // every first storage call is a read
      const r = await slow.call(method, path, { json, headers: admin });
      expect(r.status).to.equal(504);
      expect(r.body).to.include({
        code: 'GW_ERR_DOWNSTREAM_TIMEOUT',
        detail: 'Storage service did not answer in time',
      });
    });
  }
});
