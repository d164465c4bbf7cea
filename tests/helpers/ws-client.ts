import { expect } from 'chai';
import WebSocket from 'ws';
import { describeErrors, schemaValidator } from '../../lib/validators.js';
import type { Gateway } from '../../server/compose.js';
import { startEmbedded } from './embedded.js';

const validate = schemaValidator('events_ServerMessage');

export interface WsClient {
  ws: WebSocket;
  /** Every message received, each already checked against spec/events.yaml. */
  messages: any[];
  send(m: unknown): void;
  /** The first message (from `from` on) that matches, waiting up to `ms`. */
  next(match: (m: any) => boolean, ms?: number, from?: number): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<WsClient> {
  const ws = new WebSocket(url, { headers });
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString());
    expect(
      validate(m),
      `server message outside spec/events.yaml: ${describeErrors(validate.errors)}`,
    ).to.equal(true);
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
  });
  return {
    ws,
    messages,
    send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)),
    async next(match, ms = 10_000, from = 0) {
      const end = Date.now() + ms;
      for (;;) {
        const found = messages.slice(from).find(match);
        if (found) return found;
        const left = end - Date.now();
        if (left <= 0)
          throw new Error(
            `no matching message within ${ms} ms; got ${JSON.stringify(messages.slice(-5))}`,
          );
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    closed,
    close: () => ws.close(),
  };
}

/**
 * A whole gateway in this process, as `npm start` composes it: embedded platform with a real
 * worker unless service URLs are given. Listening on a free loopback port.
 */
export async function startWsGateway(
  env: Record<string, string> = {},
): Promise<{ gw: Gateway; http: string; ws: string }> {
  const { gateway, base } = await startEmbedded({ WORKER_POLL_MS: '50', ...env });
  return { gw: gateway, http: base, ws: `${base.replace('http', 'ws')}/ws` };
}

export async function submit(http: string, body: unknown): Promise<string> {
  const res = await fetch(`${http}/api/eval`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).to.equal(202);
  return ((await res.json()) as { eval_id: string }).eval_id;
}
