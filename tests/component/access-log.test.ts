import { expect } from 'chai';
import nock from 'nock';
import { pino } from 'pino';
import { STORAGE, isolate, startGateway } from '../helpers/harness.js';

const ID = 'eval_20240701_120000_abc123def456';

/** The access log, as an operator reads it: one JSON line per request. */
describe('the access log', () => {
  isolate();

  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => void lines.push(JSON.parse(l)) },
    );
    return { lines, requests: () => lines.filter((l) => l.msg === 'request'), logger };
  };

  it('writes one line per request: method, route template, status, duration, request id, owner', async () => {
    const log = capture();
    const gw = await startGateway({ API_KEYS: 'k1' }, log.logger);
    try {
      await gw.call('GET', '/health');
      nock(STORAGE).get(`/evaluations/${ID}`).reply(404, { detail: 'Not Found' });
      const read = await gw.call('GET', `/api/eval-status/${ID}`, {
        headers: { 'x-api-key': 'k1' },
      });
      await gw.call('GET', '/nowhere');
      const lines = log.requests();
      expect(lines.map((l) => [l.method, l.route, l.status])).to.deep.equal([
        ['GET', '/health', 200],
        ['GET', '/api/eval-status/{eval_id}', 404], // the template: no id in the route
        ['GET', null, 404],
      ]);
      expect(lines[1]).to.include({
        owner: 'default',
        request_id: read.headers.get('x-request-id'),
      });
      expect(lines[1]!.duration_ms).to.be.a('number');
      expect(lines[1]!.trace_id).to.match(/^[0-9a-f]{32}$/); // the request's W3C trace
      expect(JSON.stringify(lines)).to.not.include('k1');
    } finally {
      await gw.close();
    }
  });

  it('keeps only the configured share of lines, and every server error', async () => {
    const log = capture();
    const gw = await startGateway({ ACCESS_LOG_SAMPLE: '0', DOWNSTREAM_RETRIES: '0' }, log.logger);
    try {
      for (let i = 0; i < 5; i++) await gw.call('GET', '/health');
      expect(log.requests()).to.deep.equal([]);
      nock(STORAGE)
        .get(`/evaluations/${ID}`)
        .replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      expect((await gw.call('GET', `/api/eval-status/${ID}`)).status).to.equal(503);
      expect(log.requests().map((l) => l.status)).to.deep.equal([503]);
      // The warning about the failure carries the same trace id as the request's line.
      const warning = log.lines.find((l) => l.code === 'GW_ERR_DOWNSTREAM_UNAVAILABLE');
      expect(warning?.trace_id).to.match(/^[0-9a-f]{32}$/);
      expect(warning?.trace_id).to.equal(log.requests()[0]!.trace_id);
    } finally {
      await gw.close();
    }
  });
});
