import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { Gateway } from '../../server/compose.js';
import { contractViolations, schemaViolations } from '../helpers/contract.js';
import {
  DATABASE_URL,
  REDIS_URL,
  dropRedisPrefix,
  dropSchema,
  uniqueName,
  until,
} from '../helpers/services.js';
import { startEmbedded } from '../helpers/embedded.js';
import { startReceiver } from '../helpers/receiver.js';
import { sample } from '../helpers/prometheus.js';

/**
 * Webhooks against the embedded platform, delivered to a loopback receiver (allowed by this
 * test's configuration), kept and queued in Redis; signatures checked with `standardwebhooks`,
 * an implementation of the specification that is not ours.
 */
describe('webhooks: signed, retried, durable (Standard Webhooks)', function () {
  this.timeout(60_000);
  const prefix = uniqueName('hooks');
  const env = {
    REDIS_URL,
    BULL_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_RETRY_MS: '100',
  };
  let gateway: Gateway;
  let base: string;
  before(async () => {
    ({ gateway, base } = await startEmbedded(env));
  });
  after(async () => {
    await gateway?.close();
    await dropRedisPrefix(prefix);
  });

  const call = async (method: string, path: string, body?: unknown, to = base) => {
    const r = await fetch(to + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await r.json()) as any;
    const type = r.headers.get('content-type') ?? '';
    expect(contractViolations(method, path, r.status, type, json)).to.deep.equal([]);
    return { status: r.status, body: json };
  };
  const secret = async (): Promise<string> =>
    (await call('GET', '/api/webhooks/secret')).body.secret;
  const delivery = async (id: string) => (await call('GET', `/api/eval/${id}/webhook`)).body;

  it('POSTs the finished evaluation once, signed so that standardwebhooks verifies it', async () => {
    const receiver = await startReceiver([200]);
    try {
      const r = await call('POST', '/api/eval', {
        code: 'print("hooked")',
        callback_url: receiver.url,
      });
      expect(r.status).to.equal(202);
      await until(() => receiver.received.length === 1, 20_000);
      const [got] = receiver.received;
      const key = await secret();
      const payload = new Webhook(key).verify(got!.body, got!.headers) as any;
      expect(schemaViolations('EvaluationWebhook', payload)).to.deep.equal([]);
      expect(payload.type).to.equal('evaluation.completed');
      expect(payload.data).to.include({
        eval_id: r.body.eval_id,
        status: 'completed',
        output: 'hooked\n',
      });
      expect(got!.headers['webhook-id']).to.equal(`msg_ev_${r.body.eval_id}`);
      // Tampered with, it no longer verifies.
      const forged = got!.body.replace('hooked', 'forged');
      expect(() => new Webhook(key).verify(forged, got!.headers)).to.throw(/signature/i);
      await until(async () => (await delivery(r.body.eval_id)).state === 'delivered', 5_000);
      const d = await delivery(r.body.eval_id);
      expect(d.attempts).to.have.length(1);
      expect(d.attempts[0]).to.include({ attempt: 1, status_code: 200, error: null });
      await new Promise((done) => setTimeout(done, 300));
      expect(receiver.received).to.have.length(1); // exactly once
    } finally {
      await receiver.close();
    }
  });

  it('retries a receiver that fails twice (500, then 503), then succeeds; each attempt readable', async () => {
    const receiver = await startReceiver([500, 503, 204]);
    try {
      const r = await call('POST', '/api/eval', { code: 'print(1)', callback_url: receiver.url });
      await until(async () => (await delivery(r.body.eval_id)).state === 'delivered', 20_000);
      const d = await delivery(r.body.eval_id);
      expect(d.attempts.map((a: any) => a.status_code)).to.deep.equal([500, 503, 204]);
      expect(d.attempts[0].error).to.equal('the receiver answered 500');
      expect(d.next_attempt_at).to.equal(null);
      expect(receiver.received).to.have.length(3);
      // Counted for operators: two retried attempts and a delivery, at least (other tests add).
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(
        sample(metrics, 'crucible_webhook_attempts_total', '{outcome="retried"}'),
      ).to.be.at.least(2);
      expect(
        sample(metrics, 'crucible_webhook_attempts_total', '{outcome="delivered"}'),
      ).to.be.at.least(1);
      // The same message each time: a receiver deduplicates by webhook-id.
      expect(new Set(receiver.received.map((x) => x.headers['webhook-id'])).size).to.equal(1);
      const key = await secret();
      for (const x of receiver.received) new Webhook(key).verify(x.body, x.headers);
    } finally {
      await receiver.close();
    }
  });

  it('stops at 410 Gone and calls that URL no more', async () => {
    const receiver = await startReceiver([410]);
    try {
      const a = await call('POST', '/api/eval', { code: 'print(1)', callback_url: receiver.url });
      await until(async () => (await delivery(a.body.eval_id)).state === 'disabled', 20_000);
      expect((await delivery(a.body.eval_id)).attempts).to.have.length(1);
      const b = await call('POST', '/api/eval', { code: 'print(2)', callback_url: receiver.url });
      await until(async () => (await delivery(b.body.eval_id)).state === 'disabled', 20_000);
      expect((await delivery(b.body.eval_id)).attempts).to.have.length(0);
      expect(receiver.received).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });

  it('makes one call for a batch, once every evaluation of it has ended', async () => {
    const receiver = await startReceiver([200]);
    try {
      const evaluations = [
        { code: 'print(1)' },
        { code: 'import time\ntime.sleep(1)\nprint(2)' },
        { code: 'print(3)' },
      ];
      const r = await call('POST', '/api/eval-batch', { evaluations, callback_url: receiver.url });
      expect(r.status).to.equal(202);
      await until(() => receiver.received.length === 1, 20_000);
      const payload = new Webhook(await secret()).verify(
        receiver.received[0]!.body,
        receiver.received[0]!.headers,
      ) as any;
      expect(schemaViolations('BatchWebhook', payload)).to.deep.equal([]);
      expect(payload.type).to.equal('batch.completed');
      expect(payload.data.batch_id).to.equal(r.body.batch_id);
      expect(payload.data.evaluations.map((e: any) => e.status)).to.deep.equal([
        'completed',
        'completed',
        'completed',
      ]);
      const d = (await call('GET', `/api/eval-batch/${r.body.batch_id}/webhook`)).body;
      expect(d.state).to.equal('delivered');
      await new Promise((done) => setTimeout(done, 300));
      expect(receiver.received).to.have.length(1);
    } finally {
      await receiver.close();
    }
  });

  it('delivers after the gateway that scheduled the retry stopped (another one takes it)', async () => {
    const receiver = await startReceiver([500, 200]);
    // A queue of their own (only these two gateways take its attempts), and one storage.
    const own = uniqueName('hooks_restart');
    const slow = {
      ...env,
      BULL_PREFIX: own,
      WEBHOOK_RETRY_MS: '3000',
      DATABASE_URL,
      DATABASE_SCHEMA: own,
      PLATFORM_SCHEMA: `${own}_platform`,
    };
    const first = await startEmbedded(slow);
    let second: Awaited<ReturnType<typeof startEmbedded>> | undefined;
    try {
      const body = { code: 'print(1)', callback_url: receiver.url };
      const r = await call('POST', '/api/eval', body, first.base);
      await until(() => receiver.received.length === 1, 20_000);
      await first.gateway.close(); // its retry (1.5–4.5 s away) is in Redis, not in it
      const closedAt = Date.now();
      second = await startEmbedded(slow);
      await until(() => receiver.received.length === 2, 20_000);
      expect(receiver.received[1]!.at).to.be.greaterThan(closedAt);
      const d = (await call('GET', `/api/eval/${r.body.eval_id}/webhook`, undefined, second.base))
        .body;
      expect(d.attempts.map((a: any) => a.status_code)).to.deep.equal([500, 200]);
      expect(d.state).to.equal('delivered');
    } finally {
      await second?.gateway.close();
      await receiver.close();
      await dropRedisPrefix(own);
      await dropSchema(own);
      await dropSchema(`${own}_platform`);
    }
  });
});

describe('webhooks: callback URLs that reach inside are refused', function () {
  this.timeout(30_000);
  let gateway: Gateway;
  let base: string;
  before(async () => {
    ({ gateway, base } = await startEmbedded());
  });
  after(() => gateway?.close());

  for (const url of [
    'http://127.0.0.1:8080/hook',
    'http://localhost/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://user:pass@example.com/hook',
  ])
    it(`refuses ${url} with 422 naming callback_url`, async () => {
      const r = await fetch(`${base}/api/eval`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: 'print(1)', callback_url: url }),
      });
      const body = (await r.json()) as any;
      expect(r.status).to.equal(422);
      expect(body.errors.map((e: any) => e.pointer)).to.deep.equal(['/callback_url']);
    });
});
