import { expect } from 'chai';
import nock from 'nock';
import { QUEUE, isolate, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { sample } from '../helpers/prometheus.js';
import { connect } from '../helpers/ws-client.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths.js';

/** `/metrics` as Prometheus scrapes it, after a scripted run. */
describe('Prometheus metrics', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ METRICS_TOKEN: 'scrape-me' });
  });
  after(() => gw.close());

  const scrape = async () => {
    const r = await gw.call('GET', '/metrics', { headers: { authorization: 'Bearer scrape-me' } });
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^text\/plain/);
    return r.text;
  };

  it('counts exactly what was done: 5 submits by backend, a 422 under its operation and class', async () => {
    const before = await scrape();
    nock(QUEUE)
      .post('/tasks')
      .times(5)
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    for (let i = 0; i < 5; i++)
      expect(
        (await gw.call('POST', '/api/eval', { json: { code: `print(${i})` } })).status,
      ).to.equal(202);
    expect((await gw.call('POST', '/api/eval', { json: { code: ' ' } })).status).to.equal(422);
    const after = await scrape();
    const delta = (name: string, labels = '') =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(
      delta('crucible_submissions_total', '{backend="legacy"}') +
        delta('crucible_submissions_total', '{backend="bull"}'),
    ).to.equal(5);
    expect(
      delta('crucible_http_requests_total', '{operation="submitEvaluation",status_class="2xx"}'),
    ).to.equal(5);
    expect(
      delta('crucible_http_requests_total', '{operation="submitEvaluation",status_class="4xx"}'),
    ).to.equal(1);
    expect(
      delta('crucible_http_request_duration_seconds_count', '{operation="submitEvaluation"}'),
    ).to.equal(6);
    expect(sample(after, 'crucible_traffic_split_ratio', '{kind="configured"}')).to.equal(0);
    expect(after).to.match(/^crucible_process_cpu_seconds_total /m); // the process's own
    expect(after).to.not.match(/eval_\d{8}/); // no ids in labels
  });

  it('times downstream calls by service, and counts WebSocket connections and messages', async () => {
    const before = await scrape();
    nock(QUEUE)
      .post('/tasks')
      .reply(200, (_u, b: any) => ({ eval_id: b.eval_id, status: 'queued', position: 0 }));
    await gw.call('POST', '/api/eval', { json: { code: 'print(1)' } });
    const ws = await connect(gw.url.replace('http', 'ws') + '/ws');
    try {
      ws.send({ type: 'ping' });
      await ws.next((m) => m.type === 'pong');
      const after = await scrape();
      const delta = (line: string) => sample(after, line) - sample(before, line);
      expect(
        delta('crucible_downstream_request_duration_seconds_count{service="queue",outcome="ok"}'),
      ).to.equal(1);
      expect(sample(after, 'crucible_ws_connections')).to.equal(1);
      expect(delta('crucible_ws_messages_received_total')).to.equal(1);
      expect(delta('crucible_ws_messages_sent_total')).to.be.at.least(1); // the pong
    } finally {
      ws.close();
    }
  });

  it('shows queue depths from the background sample: a scrape never calls a queue', async () => {
    nock(QUEUE)
      .get('/status')
      .reply(200, { queued: 7, processing: 2, queue_length: 7, total_tasks: 9 });
    await gw.deps.depths.sample(); // what the background round does every METRICS_SAMPLE_MS
    // No interceptor is left: a scrape that called the queue would fail (isolate()).
    for (let i = 0; i < 2; i++) {
      const text = await scrape();
      expect(sample(text, 'crucible_queue_depth', '{backend="legacy",state="waiting"}')).to.equal(
        7,
      );
      expect(sample(text, 'crucible_queue_depth', '{backend="legacy",state="active"}')).to.equal(2);
    }
  });

  it('has every metric the Grafana dashboard charts (deploy/grafana)', async () => {
    const dashboard = JSON.parse(
      readFileSync(join(projectRoot, 'deploy/grafana/crucible-gateway.json'), 'utf8'),
    ) as { panels: { id: number; targets: { expr: string }[] }[] };
    const text = await scrape();
    const served = new Set<string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      served.add(m[1]!);
      if (m[2] === 'histogram')
        for (const s of ['_bucket', '_count', '_sum']) served.add(m[1]! + s);
    }
    const charted = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/crucible_\w+/g)].map((m) => m[0])),
    );
    expect(charted.length).to.be.above(20);
    for (const name of charted) expect(served.has(name), name).to.equal(true);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('answers 404 with METRICS_ENABLED=false', async () => {
    const off = await startGateway({ METRICS_ENABLED: 'false' });
    try {
      const r = await off.call('GET', '/metrics');
      expect(r.status).to.equal(404);
      expect(r.body.detail).to.match(/METRICS_ENABLED/);
    } finally {
      await off.close();
    }
  });

  it('wants the METRICS_TOKEN when one is set', async () => {
    const r = await gw.call('GET', '/metrics');
    expect(r.status).to.equal(401);
    expect(r.headers.get('www-authenticate')).to.match(/^Bearer /);
  });
});
