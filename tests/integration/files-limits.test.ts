import { expect } from 'chai';
import { contractViolations } from '../helpers/contract.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';

const CODE = 'import helper\nprint(helper.double(int(open("data.txt").read())))\nprint("x" * 100)';

/** Extra files and a submission's own limits, end to end through both queues. */
describe('extra files and per-submission limits', function () {
  this.timeout(60_000);
  const prefix = uniqueName('files');
  after(() => dropRedisPrefix(prefix));
  const post = async (base: string, body: unknown) => {
    const r = await fetch(`${base}/api/eval`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify(body),
    });
    const json = (await r.json()) as any;
    const type = r.headers.get('content-type') ?? '';
    expect(contractViolations('POST', '/api/eval', r.status, type, json)).to.deep.equal([]);
    return { status: r.status, body: json };
  };

  for (const [backend, env] of [
    ['legacy', {}],
    ['bull', { REDIS_URL, CELERY_ENABLED: 'true', CELERY_PERCENTAGE: '1', BULL_PREFIX: prefix }],
  ] as const)
    it(`gives the program its files and holds it to its own output cap (${backend} queue)`, async () => {
      const { gateway, base } = await startEmbedded(env);
      try {
        const files = [
          { name: 'helper.py', content: 'def double(x):\n    return 2 * x\n' },
          { name: 'data.txt', content: '21' },
        ];
        const full = await post(base, { code: CODE, files });
        expect(full.body).to.include({ status: 'completed', output: `42\n${'x'.repeat(100)}\n` });
        const capped = await post(base, { code: CODE, files, limits: { output_bytes: 20 } });
        expect(capped.body).to.include({
          status: 'failed',
          output: `42\n${'x'.repeat(17)}`,
          output_truncated: true,
          termination_reason: 'output_limit',
        });
      } finally {
        await gateway.close();
      }
    });

  it('refuses limits above the deployment maxima, and file names that are not plain', async () => {
    const { gateway, base } = await startEmbedded({ EVAL_MEMORY_MB: '256' });
    try {
      // Within the schema's bounds, above this deployment's.
      const over = await post(base, {
        code: 'print(1)',
        limits: { memory_mb: 512, max_processes: 100 },
      });
      expect(over.status).to.equal(422);
      const said = Object.fromEntries(over.body.errors.map((e: any) => [e.pointer, e.message]));
      expect(said['/limits/memory_mb']).to.match(/at most 256/);
      expect(said['/limits/max_processes']).to.match(/at most 64/);
      for (const name of ['main.py', '../x', '..', 'a/b'])
        expect(
          (await post(base, { code: 'print(1)', files: [{ name, content: '' }] })).status,
          name,
        ).to.equal(422);
      const twice = await post(base, {
        code: 'print(1)',
        files: [
          { name: 'a', content: '' },
          { name: 'a', content: '' },
        ],
      });
      expect(twice.body.errors.map((e: any) => e.pointer)).to.deep.equal(['/files']);
    } finally {
      await gateway.close();
    }
  });
});
