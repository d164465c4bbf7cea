import { expect } from 'chai';
import { Storage, capBytes, MAX_OUTPUT_BYTES } from '../../platform/storage-server.js';
import { createMemoryData, createPostgresData } from '../../platform/storage-data.js';
import type { StorageData } from '../../platform/storage-data.js';
import { ServiceError } from '../../platform/contract-server.js';
import { createInProcessEventBus } from '../../clients/event-bus.js';
import { silentLogger } from '../../lib/logger.js';
import { DATABASE_URL, dropSchema, uniqueName, until } from '../helpers/services.js';

async function refused(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ServiceError) return err.status;
    throw err;
  }
  return undefined;
}

function storageContract(name: string, make: () => Promise<StorageData>): void {
  describe(`reference storage service on ${name}`, () => {
    let data: StorageData;
    let st: Storage;
    beforeEach(async () => {
      data = await make();
      // A clock that moves a millisecond a reading, so creation order is never a tie.
      let t = Date.now();
      st = new Storage(data, () => new Date(t++));
    });
    afterEach(() => data.close());

    it('creates once; a second create of the id is refused', async () => {
      const e = await st.create({ id: 'e1', code: 'print(1)', status: 'queued' });
      expect(e).to.include({
        id: 'e1',
        status: 'queued',
        language: 'python',
        output: null,
        output_truncated: false,
      });
      expect(await st.create({ id: 'e1', code: 'other' })).to.equal(null);
      expect((await st.get('e1')).code).to.equal('print(1)');
    });

    it('moves only along the state machine, stamping start and end', async () => {
      await st.create({ id: 'e2', code: 'x', status: 'queued' });
      expect(await refused(st.update('e2', { status: 'completed' }))).to.equal(409);
      const running = await st.update('e2', { status: 'running' });
      expect(running.started_at).to.be.a('string');
      const done = await st.update('e2', {
        status: 'completed',
        output: 'ok\n',
        exit_code: 0,
        runtime_ms: 12,
      });
      expect(done).to.include({
        status: 'completed',
        output: 'ok\n',
        exit_code: 0,
        runtime_ms: 12,
      });
      expect(done.completed_at).to.be.a('string');
      expect(await refused(st.update('e2', { status: 'failed' }))).to.equal(409);
      expect(await refused(st.update('e2', { output: 'changed' }))).to.equal(409);
      expect((await st.update('e2', { metadata: { note: 'kept' } })).metadata).to.include({
        note: 'kept',
      });
      const trail = (await data.events('e2')).map((e) => e.message);
      expect(trail).to.deep.equal([
        'Evaluation created (queued)',
        'queued → running',
        'running → completed',
      ]);
    });

    it('keeps at most 1 MiB of output, flagging the cut', async () => {
      await st.create({ id: 'e3', code: 'x', status: 'running' });
      const e = await st.update('e3', {
        output: 'a'.repeat(MAX_OUTPUT_BYTES + 10),
        error: 'short',
      });
      expect(Buffer.byteLength(e.output ?? '')).to.equal(MAX_OUTPUT_BYTES);
      expect(e).to.include({ output_truncated: true, error_truncated: false, error: 'short' });
    });

    it('marks where an evaluation runs and forgets it when it ends', async () => {
      await st.create({ id: 'e4', code: 'x', status: 'running' });
      const info = await st.markRunning('e4', { executor_id: 'ex-1' });
      expect(info).to.include({ eval_id: 'e4', executor_id: 'ex-1' });
      expect((await data.running()).map((d) => d.id)).to.deep.equal(['e4']);
      await st.update('e4', { status: 'failed', error: 'boom' });
      expect(await data.running()).to.deep.equal([]);
      expect((await st.get('e4')).running ?? null).to.equal(null);
    });

    it("lists one owner's evaluations only, when asked", async () => {
      await st.create({ id: 'o1', code: 'x', status: 'queued', metadata: { owner: 'team-a' } });
      await st.create({ id: 'o2', code: 'x', status: 'queued', metadata: { owner: 'team-b' } });
      await st.create({ id: 'o3', code: 'x', status: 'queued' });
      const page = await data.list({
        limit: 10,
        offset: 0,
        owner: 'team-a',
        sort_by: 'created_at',
        sort_order: 'desc',
      });
      expect(page.evaluations.map((e) => e.id)).to.deep.equal(['o1']);
      expect(page.total).to.equal(1);
    });

    it('lists newest first with filters, and counts statistics', async () => {
      for (const [id, status] of [
        ['l1', 'queued'],
        ['l2', 'running'],
        ['l3', 'queued'],
      ] as const) {
        await st.create({ id, code: 'x', status });
      }
      await st.update('l2', { status: 'completed', runtime_ms: 100 });
      const page = await data.list({
        limit: 10,
        offset: 0,
        status: 'queued',
        sort_by: 'created_at',
        sort_order: 'desc',
      });
      expect(page).to.deep.include({ total: 2 });
      expect(page.evaluations.map((e) => e.id)).to.deep.equal(['l3', 'l1']);
      const stats = await data.statistics(new Date());
      expect(stats).to.include({
        total_evaluations: 3,
        average_runtime_ms: 100,
        success_rate: 1,
        last_24h_count: 3,
      });
      expect(stats.by_status).to.deep.equal({ queued: 2, completed: 1 });
    });

    it('follows the events: queued creates at the submit time; a cancel that arrives first wins', async () => {
      const bus = createInProcessEventBus();
      st.follow(bus, silentLogger());
      const submitted_at = '2024-07-01T12:00:00.000Z';
      await bus.publish('evaluation:queued', {
        eval_id: 'f1',
        code: 'print(1)',
        language: 'python',
        metadata: { submitted_at, timeout: 30, priority: false },
      });
      await until(async () => (await data.get('f1')) !== null);
      expect(await st.get('f1')).to.include({
        status: 'queued',
        created_at: submitted_at,
        code: 'print(1)',
      });
      await bus.publish('evaluation:cancelled', { eval_id: 'f2', reason: 'cancelled on request' });
      await until(async () => (await data.get('f2')) !== null);
      await bus.publish('evaluation:queued', {
        eval_id: 'f2',
        code: 'x',
        language: 'python',
        metadata: { submitted_at, timeout: 30, priority: false },
      });
      // The queued event for f2 must find it cancelled and leave it so (it creates nothing new).
      const events = async () => (await data.events('f2')).length;
      const trail = await events();
      await bus.publish('evaluation:queued', {
        eval_id: 'f-marker',
        code: 'x',
        language: 'python',
        metadata: { submitted_at, timeout: 30, priority: false },
      });
      await until(async () => (await data.get('f-marker')) !== null);
      expect((await st.get('f2')).status).to.equal('cancelled');
      expect(await events()).to.equal(trail);
    });

    it('follows a queue giving up: the evaluation ends failed with the reason, or is created failed', async () => {
      const bus = createInProcessEventBus();
      st.follow(bus, silentLogger());
      await st.create({ id: 'g1', code: 'x', status: 'queued' });
      const error = 'No worker finished it in 3 attempts; the queue gave up';
      await bus.publish('evaluation:failed', { eval_id: 'g1', error, failed_at: 'attempts' });
      await bus.publish('evaluation:failed', { eval_id: 'g2', error, failed_at: 'attempts' });
      await until(async () => (await data.get('g2')) !== null);
      await until(async () => (await st.get('g1')).status === 'failed');
      expect(await st.get('g1')).to.include({ status: 'failed', error });
      expect((await st.get('g2')).status).to.equal('failed');
    });

    it('keeps NUL characters of output as U+FFFD, so PostgreSQL can hold it', async () => {
      await st.create({ id: 'n1', code: 'x', status: 'running' });
      await st.update('n1', { status: 'completed', output: 'a\u0000b', error: '\u0000' });
      expect(await st.get('n1')).to.include({ output: 'a\uFFFDb', error: '\uFFFD' });
    });
  });
}

describe('reference storage', () => {
  const schemas: string[] = [];
  after(async () => {
    for (const s of schemas) await dropSchema(s);
  });
  storageContract('memory', () => Promise.resolve(createMemoryData()));
  storageContract('PostgreSQL (real)', () => {
    const schema = uniqueName('platform');
    schemas.push(schema);
    return createPostgresData(DATABASE_URL, schema);
  });

  it('cuts output on a character boundary', () => {
    expect(capBytes('ééé', 5)).to.deep.equal(['éé', true]);
    expect(capBytes('abc', 5)).to.deep.equal(['abc', false]);
  });
});
