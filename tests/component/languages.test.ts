import { expect } from 'chai';
import nock from 'nock';
import { isolate, startGateway } from '../helpers/harness.js';

const A = 'http://exec-a.test:8083';
const B = 'http://exec-b.test:8083';
const C = 'http://exec-c.test:8083';

/** GET /api/languages: what the executors report, for the languages the deployment allows. */
describe('GET /api/languages', () => {
  isolate();

  it('merges what the executors report, leaves out one that fails, and reuses the answers for 30 s', async () => {
    const gw = await startGateway({
      EXECUTOR_URLS: `a=${A},b=${B},c=${C}`,
      ALLOWED_LANGUAGES: 'python,javascript,ruby',
      HEALTH_INTERVAL_MS: '3600000',
    });
    try {
      const langs = (id: string, list: [string, string | null][]) => ({
        executor_id: id,
        languages: list.map(([name, version]) => ({ name, version })),
      });
      nock(A)
        .get('/languages')
        .reply(
          200,
          langs('a', [
            ['python', '3.11.7'],
            ['bash', '5.2.15'],
          ]),
        );
      nock(B)
        .get('/languages')
        .reply(
          200,
          langs('b', [
            ['python', '3.12.1'],
            ['javascript', null],
          ]),
        );
      nock(C).get('/languages').reply(500, { detail: 'broken' });
      const r = await gw.call('GET', '/api/languages');
      expect(r.status).to.equal(200);
      expect(r.body.languages).to.deep.equal([
        { name: 'python', versions: ['3.11.7', '3.12.1'], executors: 2 },
        { name: 'javascript', versions: [], executors: 1 }, // runs, version unknown
        { name: 'ruby', versions: [], executors: 0 }, // allowed, but nobody runs it
      ]);
      // Cached: no executor is asked again (nock has nothing left; a call would fail).
      expect((await gw.call('GET', '/api/languages')).body.languages[0].executors).to.equal(2);
    } finally {
      await gw.close();
    }
  });
});
