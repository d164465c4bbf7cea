import { expect } from 'chai';
import net from 'node:net';
import nock from 'nock';
import { connect, startWsGateway, submit } from '../helpers/ws-client.js';
import { until } from '../helpers/services.js';
import type { Gateway } from '../../server/compose.js';

const ORDER = [
  'submitted',
  'queued',
  'provisioning',
  'running',
  'completed',
  'failed',
  'cancelled',
];

describe('WS /ws (embedded platform, real worker)', function () {
  this.timeout(30_000);
  let gw: Gateway;
  let http: string;
  let wsUrl: string;
  before(async () => {
    nock.enableNetConnect();
    ({
      gw,
      http,
      ws: wsUrl,
    } = await startWsGateway({ WS_HEARTBEAT_MS: '200', WS_MAX_SUBSCRIPTIONS: '3' }));
  });
  after(() => gw.close());

  it('subscribed to everything, sees an evaluation go queued → running → completed, in order', async () => {
    const c = await connect(`${wsUrl}?all=true`);
    await c.next((m) => m.type === 'subscribed' && m.all === true);
    const id = await submit(http, { code: 'print("hi")' });
    const done = await c.next(
      (m) => m.type === 'event' && m.eval_id === id && m.status === 'completed',
    );
    expect(done.payload).to.include({ output: 'hi\n', exit_code: 0 });
    const seen = c.messages
      .filter((m) => m.type === 'event' && m.eval_id === id)
      .map((m) => m.status);
    expect(seen).to.deep.equal(['submitted', 'queued', 'running', 'completed']);
    c.close();
  });

  it('answers a subscription with a snapshot first, then every later event, ending in the terminal state', async () => {
    const id = await submit(http, { code: 'import time\ntime.sleep(0.5)\nprint("late")' });
    const c = await connect(wsUrl);
    c.send({ type: 'subscribe', eval_ids: [id] });
    const snap = await c.next((m) => m.type === 'snapshot');
    expect(snap).to.include({ eval_id: id });
    expect(snap.evaluation.eval_id).to.equal(id);
    await c.next((m) => m.type === 'event' && m.eval_id === id && m.status === 'completed');
    const mine = c.messages.filter((m) => m.eval_id === id && m.type !== 'output');
    expect(mine[0].type).to.equal('snapshot');
    const states = mine.map((m) => m.status);
    for (let i = 1; i < states.length; i++) {
      expect(ORDER.indexOf(states[i]), `${states.join(' → ')}`).to.be.at.least(
        ORDER.indexOf(states[i - 1]),
      );
    }
    c.close();
  });

  it('gives a finished evaluation its terminal snapshot (a reconnecting client misses nothing)', async () => {
    const id = await submit(http, { code: 'print(42)' });
    await until(
      async () =>
        ((await (await fetch(`${http}/api/eval-status/${id}`)).json()) as any).status ===
        'completed',
      10_000,
    );
    const c = await connect(`${wsUrl}?eval_id=${id}`);
    const snap = await c.next((m) => m.type === 'snapshot');
    expect(snap).to.include({ eval_id: id, status: 'completed' });
    expect(snap.evaluation).to.include({ output: '42\n', success: true });
    c.close();
  });

  it('answers a bad message with an error and keeps the connection', async () => {
    const c = await connect(wsUrl);
    c.send('not json');
    const e1 = await c.next((m) => m.type === 'error');
    expect(e1.code).to.equal('GW_ERR_WS_BAD_MESSAGE');
    c.send({ type: 'subscribe', eval_ids: ['bad id!'] });
    await c.next((m) => m.type === 'error', 5000, c.messages.indexOf(e1) + 1);
    c.send({ type: 'ping', id: 'p1' });
    expect(await c.next((m) => m.type === 'pong')).to.include({ id: 'p1' });
    expect(c.ws.readyState).to.equal(c.ws.OPEN);
    c.close();
  });

  it('says not found for an unknown evaluation', async () => {
    const c = await connect(wsUrl);
    c.send({ type: 'subscribe', eval_ids: ['eval_20240101_000000_000000000000'] });
    expect(await c.next((m) => m.type === 'error')).to.include({
      code: 'GW_ERR_EVALUATION_NOT_FOUND',
      eval_id: 'eval_20240101_000000_000000000000',
    });
    c.close();
  });

  it('limits subscriptions per connection', async () => {
    const c = await connect(wsUrl);
    c.send({ type: 'subscribe', eval_ids: ['a1', 'a2', 'a3', 'a4'] });
    expect(await c.next((m) => m.type === 'error')).to.include({
      code: 'GW_ERR_WS_TOO_MANY_SUBSCRIPTIONS',
    });
    c.send({ type: 'subscribe', eval_ids: ['a1', 'a2'] });
    expect(await c.next((m) => m.type === 'subscribed')).to.deep.include({
      eval_ids: ['a1', 'a2'],
    });
    c.send({ type: 'unsubscribe', eval_ids: ['a1'] });
    await until(() => c.messages.filter((m) => m.type === 'subscribed').length === 2);
    expect(c.messages.filter((m) => m.type === 'subscribed').at(-1).eval_ids).to.deep.equal(['a2']);
    c.close();
  });

  it('closes a connection whose message is over the size limit (1009)', async () => {
    const c = await connect(wsUrl);
    c.send({ type: 'ping', id: 'x'.repeat(70_000) });
    expect((await c.closed).code).to.equal(1009);
  });

  it('sends heartbeats and reaps a connection that stops answering pings', async () => {
    const c = await connect(wsUrl);
    await c.next((m) => m.type === 'heartbeat', 2000);
    expect(gw.app.ws.clients).to.be.at.least(1);
    // A client that stops reading also stops answering pings: the gateway drops it.
    (c.ws as any)._socket.pause();
    const before = gw.app.ws.clients;
    await until(() => gw.app.ws.clients < before, 3000);
  });

  it('disconnects a client too slow to read, with a close code and reason', async () => {
    const slow = await startWsGateway({ WS_MAX_BUFFERED_BYTES: '65536' });
    // A raw TCP client: it completes the handshake, then reads nothing until the end.
    const port = Number(new URL(slow.http).port);
    const sock = net.connect(port, '127.0.0.1');
    try {
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve) => {
        sock.once('data', (d: Buffer) => {
          chunks.push(d);
          sock.pause();
          resolve();
        });
        sock.write(
          'GET /ws?all=true HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
      expect(chunks[0]!.toString()).to.match(/^HTTP\/1.1 101/);
      const big = 'x'.repeat(200_000);
      for (let i = 0; i < 300; i++) {
        await slow.gw.deps.events.publish('evaluation:cancelled', {
          eval_id: `e${i}`,
          reason: big,
        });
        await new Promise((r) => setImmediate(r));
      }
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.resume();
      let close: { code: number; reason: string } | undefined;
      await until(() => (close = lastCloseFrame(Buffer.concat(chunks))) !== undefined, 10_000);
      const received = Buffer.concat(chunks).length;
      expect(received).to.be.below((300 * 200_000) / 4); // it stopped sending long before the end
      expect(close).to.deep.equal({ code: 1013, reason: 'client too slow: send buffer full' });
    } finally {
      sock.destroy();
      await slow.gw.close();
    }
  });

  it('requires the API key at upgrade when the gateway requires one', async () => {
    const locked = await startWsGateway({ API_KEYS: 'k1' });
    try {
      let refused: unknown;
      await connect(locked.ws).catch((e: unknown) => (refused = e));
      expect(String(refused)).to.match(/upgrade refused: 401/);
      const withHeader = await connect(locked.ws, { 'x-api-key': 'k1' });
      withHeader.close();
      const inUrl = await connect(`${locked.ws}?api_key=k1`);
      inUrl.close();
    } finally {
      await locked.gw.close();
    }
  });
});

/** The close frame (RFC 6455 §5.5.1) among the server frames after the HTTP 101 answer. */
function lastCloseFrame(data: Buffer): { code: number; reason: string } | undefined {
  let at = data.indexOf('\r\n\r\n') + 4;
  let close: { code: number; reason: string } | undefined;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let len = data[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      len = data.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (at + head + len > data.length) break; // cut short by the termination
    if (opcode === 0x8)
      close = {
        code: data.readUInt16BE(at + head),
        reason: data.subarray(at + head + 2, at + head + len).toString(),
      };
    at += head + len;
  }
  return close;
}
