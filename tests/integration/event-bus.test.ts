import { expect } from 'chai';
import nock from 'nock';
import { Redis } from 'ioredis';
import { createRedisEventBus } from '../../clients/event-bus.js';
import type { Channel, EventBus } from '../../clients/event-bus.js';
import { OwnRedis } from '../helpers/own-redis.js';
import { silentLogger } from '../../lib/logger.js';
import { newEvalId } from '../../core/ids.js';
import { QUEUE, refusedUrl, startGateway } from '../helpers/harness.js';
import { until } from '../helpers/services.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Resolves with the first event for `evalId`, or rejects after `ms`. */
function nextEvent(
  bus: EventBus,
  evalId: string,
  ms = 3000,
): Promise<{ channel: Channel; payload: any }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no event for ${evalId} within ${ms} ms`));
    }, ms);
    const off = bus.subscribe((channel, payload: any) => {
      if (payload?.eval_id !== evalId) return; // other processes may share this Redis
      clearTimeout(timer);
      off();
      resolve({ channel, payload });
    });
  });
}

describe('the Redis event bus (real Redis)', () => {
  let a: EventBus;
  let b: EventBus;
  before(async () => {
    a = createRedisEventBus(REDIS_URL, silentLogger());
    b = createRedisEventBus(REDIS_URL, silentLogger());
    await a.ping();
    await b.ping();
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('delivers an event published by one bus to the subscribers of another', async () => {
    const id = newEvalId();
    const received = nextEvent(b, id);
    await b.subscribed();
    const sent = await a.publish('evaluation:cancelled', { eval_id: id, reason: 'test' });
    expect(sent).to.equal(true);
    expect(await received).to.deep.equal({
      channel: 'evaluation:cancelled',
      payload: { eval_id: id, reason: 'test' },
    });
  });

  it('keeps output chunks per evaluation, gives each an id, and replays those after an id', async () => {
    const id = newEvalId();
    const got: any[] = [];
    const off = b.subscribe((channel, p: any) => {
      if (channel === 'evaluation:output' && p.eval_id === id) got.push(p);
    });
    await b.subscribed();
    try {
      for (const [i, data] of ['a', 'bb', 'ccc'].entries())
        await a.publish('evaluation:output', {
          eval_id: id,
          stream: 'stdout',
          data,
          offset: i,
        });
      await until(() => got.length === 3, 3000);
      // Subscribers of another bus get each chunk with the id the kept copy has.
      const kept = await b.history(id);
      expect(kept).to.deep.equal(got);
      expect(kept.map((c) => c.data)).to.deep.equal(['a', 'bb', 'ccc']);
      expect(await b.history(id, kept[0]!.id)).to.deep.equal(kept.slice(1));
      expect(await b.history(id, kept[2]!.id)).to.deep.equal([]);
      // Kept for an hour, not for ever.
      const redis = new Redis(REDIS_URL);
      const ttl = await redis.pttl(`crucible:output:${id}`);
      await redis.del(`crucible:output:${id}`);
      redis.disconnect();
      expect(ttl).to.be.within(3_500_000, 3_600_000);
    } finally {
      off();
    }
  });

  it('refuses a payload outside spec/events.yaml before it reaches Redis', async () => {
    let error: unknown;
    try {
      await a.publish('evaluation:queued', { eval_id: 'x' } as never);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/evaluation:queued payload breaks spec\/events.yaml.*code/);
  });

  it('holds events Redis refuses, in a bounded buffer, without throwing', async () => {
    const url = (await refusedUrl()).replace('http:', 'redis:');
    const down = createRedisEventBus(url, silentLogger(), 2);
    try {
      const sent = await Promise.all(
        ['a', 'b', 'c'].map((id) =>
          down.publish('evaluation:cancelled', { eval_id: id, reason: 'r' }),
        ),
      );
      expect(sent).to.deep.equal([false, false, false]);
      expect(down.pending).to.equal(2);
      expect(down.dropped).to.equal(1);
    } finally {
      await down.close();
    }
  });

  it('publishes the held events once Redis answers again (killed and restarted)', async function () {
    this.timeout(20_000);
    const redis = await OwnRedis.start();
    const bus = createRedisEventBus(redis.url, silentLogger());
    try {
      expect(
        await bus.publish('evaluation:cancelled', { eval_id: 'before', reason: 'r' }),
      ).to.equal(true);
      await redis.kill();
      for (const id of ['e1', 'e2', 'e3'])
        await bus.publish('evaluation:cancelled', { eval_id: id, reason: 'r' });
      expect(bus.pending).to.equal(3);
      await redis.restart();
      await until(() => bus.pending === 0, 10_000);
      expect(bus.dropped).to.equal(0);
      expect(await bus.publish('evaluation:cancelled', { eval_id: 'after', reason: 'r' })).to.equal(
        true,
      );
    } finally {
      await bus.close();
      await redis.kill();
    }
  });
});

describe('a gateway with REDIS_URL (real Redis)', () => {
  before(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  after(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('publishes evaluation:queued on Redis, where another process can hear it', async () => {
    const gw = await startGateway({ REDIS_URL });
    const listener = createRedisEventBus(REDIS_URL, silentLogger());
    try {
      const seen: any[] = [];
      listener.subscribe((channel, payload) => seen.push({ channel, payload }));
      await listener.subscribed();
      nock(QUEUE)
        .post('/tasks')
        .reply(200, (_u, body: any) => ({ eval_id: body.eval_id, status: 'queued', position: 0 }));
      const r = await gw.call('POST', '/api/eval', { json: { code: 'print(1)' } });
      expect(r.status).to.equal(202);
      await until(() => seen.filter((e) => e.payload.eval_id === r.body.eval_id).length >= 2);
      const mine = seen.filter((e) => e.payload.eval_id === r.body.eval_id);
      expect(mine.map((e) => e.channel)).to.deep.equal([
        'evaluation:submitted',
        'evaluation:queued',
      ]);
      expect(mine[1].payload.code).to.equal('print(1)');
    } finally {
      await listener.close();
      await gw.close();
    }
  });

  it('reports Redis healthy in /api/status after a check, and unhealthy when it is gone', async () => {
    const gw = await startGateway({ REDIS_URL });
    const down = await startGateway({ REDIS_URL: (await refusedUrl()).replace('http:', 'redis:') });
    try {
      nock(QUEUE).get('/health').twice().reply(200, { status: 'ok' });
      nock('http://storage.test:8082').get('/health').twice().reply(200, { status: 'ok' });
      await gw.deps.health.checkNow();
      await down.deps.health.checkNow();
      const up = await gw.call('GET', '/api/status');
      expect(up.body.services.redis.status).to.equal('healthy');
      expect(up.body.status).to.equal('healthy');
      const gone = await down.call('GET', '/api/status');
      expect(gone.body.services.redis.status).to.equal('unhealthy');
      expect(gone.body.status).to.equal('degraded');
    } finally {
      await gw.close();
      await down.close();
    }
  });
});
