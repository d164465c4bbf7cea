import { expect } from 'chai';
import nock from 'nock';
import { startQueueServer } from '../../platform/queue-server.js';
import { Storage, startStorageServer } from '../../platform/storage-server.js';
import { startExecutorServer } from '../../platform/executor-server.js';
import { LocalExecutor } from '../../platform/local-executor.js';
import { createMemoryData } from '../../platform/storage-data.js';
import type { ContractServer } from '../../platform/contract-server.js';
import { createQueueService } from '../../clients/queue-service.js';
import { createStorageService } from '../../clients/storage-service.js';
import { createExecutors } from '../../clients/executors.js';
import { silentLogger } from '../../lib/logger.js';
import { signRequest } from '../../lib/signing.js';

const KEY = 'ref-key';
const logger = silentLogger();

/** The gateway's clients talking to the reference services: both sides of each contract. */
describe('the reference services through the gateway clients', () => {
  const servers: ContractServer[] = [];
  const urls: Record<string, string> = {};
  before(async () => {
    nock.enableNetConnect();
    const up = async (name: string, s: Promise<ContractServer>): Promise<void> => {
      const server = await s;
      servers.push(server);
      urls[name] = `http://127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
    };
    await up('queue', startQueueServer({ apiKey: KEY, logger }));
    await up(
      'storage',
      startStorageServer({ storage: new Storage(createMemoryData()), apiKey: KEY, logger }),
    );
    await up(
      'executor',
      startExecutorServer({
        executor: new LocalExecutor('ref-1', 2),
        apiKey: KEY,
        logger,
        memoryMb: 256,
        outputBytes: 10_000,
      }),
    );
  });
  after(async () => {
    for (const s of servers) await s.close();
  });
  const http = { apiKey: KEY, timeoutMs: 5000, retries: 0 };
  const signed = (method: string, target: string, body?: string, now?: number) => ({
    'content-type': 'application/json',
    'x-api-key': KEY,
    'x-crucible-signature': signRequest(KEY, method, target, body, now),
  });

  it('refuse a request that is not signed, signed long ago, or altered after signing', async () => {
    // Off-contract on purpose (no code): once the signature passes, it is refused with 422 and
    // nothing is queued that the other tests would see.
    const body = JSON.stringify({ eval_id: 's1', language: 'x' });
    const send = (headers: Record<string, string>, sent = body) =>
      fetch(`${urls.queue}/tasks`, { method: 'POST', headers, body: sent });
    const unsigned = await send({ 'content-type': 'application/json', 'x-api-key': KEY });
    expect(unsigned.status).to.equal(401);
    expect(await unsigned.json()).to.deep.equal({ detail: 'Refused: the request is not signed' });
    const stale = await send(signed('POST', '/tasks', body, Date.now() - 10 * 60_000));
    expect(await stale.json()).to.deep.equal({ detail: 'Refused: the signature is stale' });
    const altered = await send(signed('POST', '/tasks', body), body.replace('"x"', '"y"'));
    expect(altered.status).to.equal(401);
    expect(await altered.json()).to.deep.equal({
      detail: 'Refused: the signature does not match the request',
    });
    expect((await send(signed('POST', '/tasks', body))).status).to.equal(422);
  });

  it('queue: submit, count, hand out, report, and refuse removing what a worker holds', async () => {
    const q = createQueueService({ ...http, baseUrl: urls.queue! });
    expect(await q.submit({ eval_id: 'q1', code: 'x', priority: 1 })).to.deep.equal({
      eval_id: 'q1',
      status: 'queued',
      position: 0,
    });
    expect(await q.submit({ eval_id: 'q2', code: 'y', priority: 2 })).to.include({ position: 0 });
    expect(await q.status()).to.deep.equal({
      queued: 2,
      processing: 0,
      queue_length: 2,
      total_tasks: 2,
    });
    expect((await q.next())?.eval_id).to.equal('q2');
    expect(await q.remove('q2')).to.equal('taken');
    await q.report('q2', true);
    expect(await q.remove('q1')).to.equal('removed');
    expect(await q.next()).to.equal(null);
    await q.health(1000);
  });

  it('storage: create, read, move, list, where it runs, statistics', async () => {
    const s = createStorageService({ ...http, baseUrl: urls.storage! });
    expect(await s.create({ id: 's1', code: 'print(1)', status: 'queued' })).to.equal(true);
    expect(await s.create({ id: 's1', code: 'print(1)' })).to.equal(false);
    expect(await s.get('s1')).to.include({ id: 's1', status: 'queued' });
    await s.update('s1', { status: 'running' });
    await s.markRunning('s1', { executor_id: 'ref-1' });
    expect(await s.running('s1')).to.include({ eval_id: 's1', executor_id: 'ref-1' });
    await s.update('s1', { status: 'completed', output: 'ok', exit_code: 0 });
    expect(await s.running('s1')).to.equal(null);
    let refused: any;
    await s.update('s1', { status: 'failed' }).catch((e: unknown) => (refused = e));
    expect(refused?.code).to.equal('GW_ERR_EVALUATION_TERMINAL');
    const page = await s.list({ limit: 10, offset: 0 });
    expect(page).to.include({ total: 1, has_more: false });
    expect(await s.statistics()).to.include({ total_evaluations: 1, success_rate: 1 });
    expect(await s.find('nope')).to.equal(null);
  });

  it('executor: runs code over HTTP and says when there is nothing to kill', async () => {
    const job = JSON.stringify({ eval_id: 'x1', code: 'print(6*7)', timeout: 5 });
    const res = await fetch(`${urls.executor}/execute`, {
      method: 'POST',
      headers: signed('POST', '/execute', job),
      body: job,
    });
    expect(await res.json()).to.include({
      eval_id: 'x1',
      status: 'completed',
      output: '42\n',
      exit_code: 0,
      executor_id: 'ref-1',
    });
    const ex = createExecutors({
      ...http,
      known: [{ id: 'ref-1', url: urls.executor! }],
      urlTemplate: 'http://{executor_id}:8083',
    });
    let error: any;
    await ex.kill('ref-1', 'x1').catch((e: unknown) => (error = e));
    expect(error?.code).to.equal('GW_ERR_NOT_RUNNING');
    await ex.health('ref-1', 1000);
  });

  it('hold callers to the contracts: 401 without the key, 422 off-contract, {detail} always', async () => {
    const noKey = await fetch(`${urls.queue}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noKey.status).to.equal(401);
    expect(await noKey.json()).to.deep.equal({ detail: 'Invalid API key' });
    const bad = await fetch(`${urls.queue}/tasks`, {
      method: 'POST',
      headers: signed('POST', '/tasks', '{"eval_id":"q9"}'),
      body: '{"eval_id":"q9"}',
    });
    expect(bad.status).to.equal(422);
    expect(((await bad.json()) as { detail: string }).detail).to.match(/code/);
    const badStatus = await fetch(`${urls.storage}/evaluations?status=lost`, {
      headers: signed('GET', '/evaluations?status=lost'),
    });
    expect(badStatus.status).to.equal(422);
    expect((await fetch(`${urls.storage}/health`)).status).to.equal(200);
    expect(
      (await fetch(`${urls.storage}/nowhere`, { headers: { 'x-api-key': KEY } })).status,
    ).to.equal(404);
  });
});
