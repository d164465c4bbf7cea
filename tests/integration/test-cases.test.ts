import { expect } from 'chai';
import { contractViolations } from '../helpers/contract.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';

// Adds two numbers; some inputs make it fail in a known way.
const SUM = `import sys, time
a, b = map(int, input().split())
if a == 98: sys.exit(3)
if a == 99: time.sleep(60)
if a == 97: print("x" * 2_000_000)
print(a + b)`;

const CASES: { case: { stdin?: string; expected_output?: string }; verdict: string }[] = [
  { case: { stdin: '1 2\n', expected_output: '3\n' }, verdict: 'passed' },
  { case: { stdin: '2 2\n', expected_output: '4\n\n' }, verdict: 'passed' }, // trailing newlines
  { case: { stdin: '5 5\n', expected_output: '11\n' }, verdict: 'wrong_output' },
  { case: { stdin: '98 0\n', expected_output: '98\n' }, verdict: 'error' },
  { case: { stdin: '99 0\n', expected_output: '99\n' }, verdict: 'timeout' },
  { case: { stdin: '97 0\n', expected_output: '97\n' }, verdict: 'limit' },
  { case: { stdin: '10 20\n', expected_output: '30\n' }, verdict: 'passed' },
  { case: { stdin: '0 0\n' }, verdict: 'passed' }, // no expected output: exit 0 passes
  { case: { stdin: '-1 1\n', expected_output: '0' }, verdict: 'passed' },
  { case: { stdin: '3 4\n', expected_output: '7   \n' }, verdict: 'passed' }, // trailing spaces
];

/** Test cases against the embedded platform: each case in its own sandbox, through both queues. */
describe('test cases: one program, many inputs, a verdict each', function () {
  this.timeout(90_000);
  const prefix = uniqueName('cases');
  after(() => dropRedisPrefix(prefix));
  for (const [backend, env] of [
    ['legacy', {}],
    ['bull', { REDIS_URL, CELERY_ENABLED: 'true', CELERY_PERCENTAGE: '1', BULL_PREFIX: prefix }],
  ] as const) {
    it(`runs a 10-case submission through the ${backend} queue with the known verdicts`, async () => {
      const { gateway, base } = await startEmbedded(env);
      try {
        const post = await fetch(`${base}/api/eval`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'wait=60' },
          body: JSON.stringify({ code: SUM, timeout: 2, test_cases: CASES.map((c) => c.case) }),
        });
        const body = (await post.json()) as any;
        const type = post.headers.get('content-type') ?? '';
        expect(contractViolations('POST', '/api/eval', post.status, type, body)).to.deep.equal([]);
        expect(post.status, JSON.stringify(body)).to.equal(200);
        expect(body.backend ?? backend).to.equal(backend);
        expect(body.test_results.map((t: any) => t.verdict)).to.deep.equal(
          CASES.map((c) => c.verdict),
        );
        expect(body.test_results.map((t: any) => t.index)).to.deep.equal([...CASES.keys()]);
        expect(body.test_summary).to.deep.equal({
          total: 10,
          passed: 6,
          failed: 4,
          verdict: 'failed',
        });
        // Not every case passed: the evaluation failed, and shows the first case that did not.
        expect(body).to.include({
          status: 'failed',
          success: false,
          output: '10\n',
          error: '4 of 10 test cases did not pass',
        });
        expect(body.test_results[0]).to.include({ output: '3\n', exit_code: 0 });
        expect(body.test_results[3]).to.include({ exit_code: 3, termination_reason: 'exited' });
        expect(body.test_results[4].termination_reason).to.equal('timeout');
        expect(body.test_results[5].termination_reason).to.equal('output_limit');
        expect(body.test_results[4].resources.wall_time_ms).to.be.at.least(2000);
        // The full record says the same.
        const rec = await fetch(`${base}/api/eval/${body.eval_id}`);
        const full = (await rec.json()) as any;
        expect(
          contractViolations(
            'GET',
            `/api/eval/${body.eval_id}`,
            rec.status,
            'application/json',
            full,
          ),
        ).to.deep.equal([]);
        expect(full.test_summary).to.deep.equal(body.test_summary);
      } finally {
        await gateway.close();
      }
    });
  }

  it('completes when every case passes, and refuses stdin given with test cases', async () => {
    const { gateway, base } = await startEmbedded();
    try {
      const call = (b: unknown) =>
        fetch(`${base}/api/eval`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', prefer: 'wait=30' },
          body: JSON.stringify(b),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      const ok = await call({ code: SUM, test_cases: [CASES[0]!.case, CASES[6]!.case] });
      expect(ok.status).to.equal(200);
      expect(ok.body).to.include({ status: 'completed', success: true, output: '30\n' });
      expect(ok.body.test_summary).to.deep.equal({
        total: 2,
        passed: 2,
        failed: 0,
        verdict: 'passed',
      });
      const both = await call({ code: SUM, stdin: '1 1\n', test_cases: [{ stdin: '1 1\n' }] });
      expect(both.status).to.equal(422);
      expect(both.body.errors.map((e: any) => e.pointer)).to.deep.equal(['/stdin']);
      const many = await call({ code: SUM, test_cases: Array.from({ length: 33 }, () => ({})) });
      expect(many.status).to.equal(422);
    } finally {
      await gateway.close();
    }
  });
});
