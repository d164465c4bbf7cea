import net from 'node:net';
import { expect } from 'chai';
import { isolate, startGateway } from '../helpers/harness.js';
import type { Gateway } from '../helpers/harness.js';
import { contractViolations } from '../helpers/contract.js';

/** Sends raw bytes and reads until the server closes the connection. */
function raw(url: string, bytes: string | Buffer, waitMs = 0): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.write(bytes);
    if (waitMs === 0) return;
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

function parse(answer: string): { status: number; type: string; body: any } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const type = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
  return { status, type, body: body ? JSON.parse(body) : undefined };
}

/** What node itself refuses is answered as a problem too, and the connection closed. */
describe('refusals below the API: problems, not bare statuses', () => {
  isolate();
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '600' });
  });
  after(() => gw.close());

  const cases: [string, string, number, string][] = [
    [
      'bytes HTTP forbids in a header',
      'GET /health HTTP/1.1\r\nHost: x\r\nBad\x01: y\r\n\r\n',
      400,
      'GW_ERR_BAD_REQUEST',
    ],
    [
      'over 16 KiB of headers',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'GW_ERR_HEADERS_TOO_LARGE',
    ],
    [
      'an Expect other than 100-continue',
      'GET /health HTTP/1.1\r\nHost: x\r\nExpect: 100-weird\r\nConnection: close\r\n\r\n',
      417,
      'GW_ERR_EXPECTATION_FAILED',
    ],
    [
      'headers never finished (slowloris)',
      'GET /health HTTP/1.1\r\nHost: x\r\n',
      408,
      'GW_ERR_REQUEST_TIMEOUT',
    ],
    [
      'a body never finished',
      'POST /api/eval HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"co',
      408,
      'GW_ERR_REQUEST_TIMEOUT',
    ],
  ];
  for (const [what, bytes, status, code] of cases) {
    it(`answers ${what} with ${status} ${code}`, async () => {
      const r = parse(await raw(gw.url, bytes, 5_000));
      expect(r.status).to.equal(status);
      expect(r.type).to.match(/^application\/problem\+json/);
      expect(r.body).to.include({ status, code });
      const [, method = '', path = ''] = /^(\w+) (\S+)/.exec(bytes) ?? [];
      expect(contractViolations(method, path, r.status, r.type, r.body)).to.deep.equal([]);
    });
  }
});
