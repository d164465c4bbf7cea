import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/**
 * A webhook receiver on loopback: records every request, and answers each with the next status
 * of `answers` (the last one repeats).
 */
export async function startReceiver(answers: number[] = [200]): Promise<{
  url: string;
  received: Received[];
  answers: number[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const state = { answers };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body, at: Date.now() });
      const status = state.answers.length > 1 ? state.answers.shift()! : state.answers[0]!;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get answers() {
      return state.answers;
    },
    set answers(a: number[]) {
      state.answers = a;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
