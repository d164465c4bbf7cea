import { expect } from 'chai';
import { REDIS_URL, dropRedisPrefix, uniqueName, until } from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = `00-${TRACE}-00f067aa0ba902b7-01`;
const traceOf = (tp: unknown): string | undefined => /^00-([0-9a-f]{32})-/.exec(String(tp))?.[1];

/**
 * One submission followed by its trace id through the whole platform: the client's traceparent
 * → gateway → queue (legacy task or Bull job) → worker, whose storage calls and running /
 * completed events carry a span of its own in the same trace; the record in storage keeps the
 * gateway's (`metadata.traceparent`).
 */
describe('a trace followed gateway → queue → worker → storage (embedded platform)', function () {
  this.timeout(90_000);
  const prefix = uniqueName('bull');
  after(() => dropRedisPrefix(prefix));

  for (const [backend, split] of [
    ['legacy', { CELERY_ENABLED: 'false' }],
    ['bull', { CELERY_ENABLED: 'true', CELERY_PERCENTAGE: '1', BULL_PREFIX: prefix }],
  ] as const) {
    it(`through the ${backend} queue`, async () => {
      const { gateway, base } = await startEmbedded({ REDIS_URL, ...split });
      const events: { channel: string; payload: Record<string, any> }[] = [];
      gateway.deps.events.subscribe((channel, payload) =>
        events.push({ channel, payload: payload as Record<string, any> }),
      );
      try {
        const r = await fetch(`${base}/api/eval`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', traceparent: CALLER },
          // Its stdin travels the same way: task or job, worker, program.
          body: JSON.stringify({ code: 'print(input())', stdin: 'traced\n' }),
        });
        const { eval_id, backend: took } = (await r.json()) as { eval_id: string; backend: string };
        expect(took).to.equal(backend);
        let record: { status: string; metadata: Record<string, unknown> } | undefined;
        await until(async () => {
          record = (await (await fetch(`${base}/api/eval/${eval_id}`)).json()) as typeof record;
          return record?.status === 'completed';
        }, 30_000);
        // The gateway's span in the record (from the queued event), the worker's in its events.
        expect((record as unknown as { output: string }).output).to.equal('traced\n');
        expect(traceOf(record!.metadata.traceparent)).to.equal(TRACE);
        // Storage hears of the end just before the event is published: wait for the event.
        const mine = (channel: string) =>
          events.some((e) => e.channel === channel && e.payload.eval_id === eval_id);
        await until(() => mine('evaluation:completed'), 10_000);
        const worker = events.filter((e) => e.payload.eval_id === eval_id);
        const completed = worker.find((e) => e.channel === 'evaluation:completed')!.payload;
        expect(completed.resources.wall_time_ms).to.be.a('number'); // what the kernel measured
        expect(worker.map((e) => e.channel)).to.include.members([
          'evaluation:running',
          'evaluation:completed',
        ]);
        // Every lifecycle step of the worker's (output chunks are data, not steps: no trace).
        const steps = ['evaluation:queued', 'evaluation:submitted', 'evaluation:output'];
        for (const e of worker.filter((x) => !steps.includes(x.channel)))
          expect(traceOf(e.payload.traceparent), e.channel).to.equal(TRACE);
        expect(
          worker.find((e) => e.channel === 'evaluation:completed')!.payload.traceparent,
        ).to.not.equal(
          record!.metadata.traceparent, // a span of the worker's own
        );
      } finally {
        await gateway.close();
      }
    });
  }
});
