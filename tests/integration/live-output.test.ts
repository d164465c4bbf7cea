import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Gateway } from '../../server/compose.js';
import { contractViolations } from '../helpers/contract.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';
import { openEvents } from '../helpers/sse.js';
import type { SseEvent } from '../helpers/sse.js';
import { connect } from '../helpers/ws-client.js';

// Prints a word, then sleeps: each word is out well before the run ends.
const WORDS =
  'import time\nfor w in ["one", "two", "three"]:\n    print(w, flush=True)\n    time.sleep(0.8)';
const ALL = 'one\ntwo\nthree\n';

const stdout = (events: { event?: string; type?: string; data?: any; stream?: string }[]): string =>
  events
    .map((e) => (e.event === 'output' ? e.data : e))
    .filter((o) => o.stream === 'stdout' && typeof o.data === 'string')
    .map((o) => o.data as string)
    .join('');

/** Live output (issue: output only after the end) over SSE and WebSocket, both event buses. */
describe('live output: Server-Sent Events with Last-Event-ID, and WebSocket output messages', function () {
  this.timeout(60_000);
  const prefix = uniqueName('live');
  for (const [bus, env] of [
    ['in-process bus, legacy queue', {}],
    [
      'Redis bus, Bull',
      { REDIS_URL, CELERY_ENABLED: 'true', CELERY_PERCENTAGE: '1', BULL_PREFIX: prefix },
    ],
  ] as const) {
    describe(bus, () => {
      let gateway: Gateway;
      let base: string;
      const submitted: string[] = [];
      before(async () => {
        ({ gateway, base } = await startEmbedded(env));
      });
      after(async () => {
        await gateway?.close();
        if ('REDIS_URL' in env) {
          await dropRedisPrefix(prefix);
          // The chunks kept for this suite's evaluations (they would expire in an hour).
          const redis = new Redis(REDIS_URL);
          await redis.del(...submitted.map((id) => `crucible:output:${id}`));
          redis.disconnect();
        }
      });

      const submit = async (code: string): Promise<string> => {
        const r = await fetch(`${base}/api/eval`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code, timeout: 30 }),
        });
        const body = (await r.json()) as any;
        expect(r.status).to.equal(202);
        submitted.push(body.eval_id);
        return body.eval_id;
      };
      const status = async (id: string): Promise<any> => {
        const r = await fetch(`${base}/api/eval-status/${id}`);
        const body = await r.json();
        expect(
          contractViolations('GET', `/api/eval-status/${id}`, r.status, 'application/json', body),
        ).to.deep.equal([]);
        return body;
      };

      it('streams each chunk while the program runs, then the finished evaluation', async () => {
        const id = await submit(WORDS);
        const sse = await openEvents(base, `/api/eval/${id}/events`);
        expect((await sse.next(() => true)).event).to.equal('status');
        const first = await sse.next((e) => e.event === 'output');
        // Output arrives while it still runs, not after the end.
        expect((await status(id)).status).to.equal('running');
        expect(first.data).to.deep.include({ stream: 'stdout', offset: 0 });
        const end = await sse.next((e) => e.event === 'end');
        await sse.ended;
        expect(sse.events.at(-1)).to.equal(end);
        expect(end.data).to.include({ eval_id: id, status: 'completed', output: ALL });
        expect(stdout(sse.events)).to.equal(ALL);
        // Offsets count the bytes before each chunk; ids increase.
        let at = 0;
        const chunks = sse.events.filter((e) => e.event === 'output');
        for (const c of chunks) {
          expect(c.data.offset).to.equal(at);
          at += Buffer.byteLength(c.data.data);
        }
        const ids = chunks.map((c) => c.id!);
        expect(ids).to.deep.equal([...ids].sort(byId));
        expect(new Set(ids).size).to.equal(ids.length);
      });

      it('sends all of what a program printed just before it exited, in chunks of at most 64 KiB', async () => {
        const id = await submit(
          'import sys\nsys.stdout.write("é" * 100000)\nsys.stderr.write("oops")',
        );
        const sse = await openEvents(base, `/api/eval/${id}/events`);
        const end = await sse.next((e) => e.event === 'end');
        const chunks = sse.events.filter((e) => e.event === 'output');
        expect(stdout(sse.events)).to.equal('é'.repeat(100000));
        expect(chunks.every((c) => c.data.data.length <= 65536)).to.equal(true);
        expect(
          chunks
            .filter((c) => c.data.stream === 'stderr')
            .map((c) => c.data.data)
            .join(''),
        ).to.equal('oops');
        // The chunks came before the end; the end carries the same output.
        expect(sse.events.indexOf(end)).to.be.greaterThan(sse.events.indexOf(chunks.at(-1)!));
        expect(end.data.output).to.equal('é'.repeat(100000));
      });

      it('resumes after Last-Event-ID without losing or repeating a chunk', async () => {
        const id = await submit(WORDS);
        const one = await openEvents(base, `/api/eval/${id}/events`);
        const first = await one.next((e) => e.event === 'output');
        one.close();
        // Reconnect while it runs, as EventSource does, from the last id received.
        const two = await openEvents(base, `/api/eval/${id}/events`, {
          'last-event-id': first.id!,
        });
        await two.next((e) => e.event === 'end');
        const again = two.events.filter((e) => e.event === 'output');
        expect(again.every((e) => byId(e.id!, first.id!) > 0)).to.equal(true);
        expect(first.data.data + stdout(again)).to.equal(ALL);
        // Once it ended: without Last-Event-ID every chunk kept is replayed, then `end`.
        const three = await openEvents(base, `/api/eval/${id}/events`);
        await three.ended;
        expect(three.events.map((e) => e.event)).to.include.members(['status', 'output', 'end']);
        expect(stdout(three.events)).to.equal(ALL);
      });

      it('sends output messages over WebSocket: kept chunks after the snapshot, then live', async () => {
        const id = await submit(WORDS);
        const sse = await openEvents(base, `/api/eval/${id}/events`);
        await sse.next((e) => e.event === 'output'); // "one" is out before the WebSocket follows
        sse.close();
        const ws = await connect(`${base.replace('http', 'ws')}/ws?eval_id=${id}`);
        try {
          const done = await ws.next((m) => m.type === 'event' && m.status === 'completed', 20_000);
          const before = ws.messages.slice(0, ws.messages.indexOf(done));
          const snapshot = before.findIndex((m) => m.type === 'snapshot');
          const outputs = before.filter((m) => m.type === 'output');
          expect(before.indexOf(outputs[0])).to.be.greaterThan(snapshot);
          expect(stdout(outputs)).to.equal(ALL);
          expect(outputs.some((m) => m.data.includes('three'))).to.equal(true);
        } finally {
          ws.close();
        }
      });

      it('refuses an unknown evaluation and a malformed Last-Event-ID with a problem', async () => {
        const missing = await openEvents(base, '/api/eval/eval_nope/events');
        expect(missing.status).to.equal(404);
        const id = await submit('print(1)');
        const bad = await openEvents(base, `/api/eval/${id}/events`, { 'last-event-id': 'x' });
        expect(bad.status).to.be.oneOf([400, 422]);
      });
    });
  }
});

describe('event streams when the gateway stops', function () {
  this.timeout(20_000);
  it('are ended by a stopping gateway, which does not wait for their evaluations', async () => {
    // A shutdown that had to cut the stream would take longer than this test may.
    const { gateway, base } = await startEmbedded({ SHUTDOWN_TIMEOUT_MS: '60000' });
    const r = await fetch(`${base}/api/eval`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'import time\ntime.sleep(60)', timeout: 120 }),
    });
    const { eval_id } = (await r.json()) as any;
    const sse = await openEvents(base, `/api/eval/${eval_id}/events`);
    await sse.next((e) => e.event === 'status');
    // Were the stream left open, this close would wait its whole 60 s for it.
    await gateway.close();
    await sse.ended;
    expect(sse.events.some((e) => e.event === 'end')).to.equal(false);
  });
});

function byId(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

export type { SseEvent };
