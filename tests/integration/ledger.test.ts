import { expect } from 'chai';
import postgres from 'postgres';
import { createMemoryLedger } from '../../clients/ledger.js';
import { createPostgresLedger } from '../../clients/ledger-postgres.js';
import type { Ledger, SubmissionRecord } from '../../clients/ledger.js';
import { DATABASE_URL, dropSchema, uniqueName } from '../helpers/services.js';

const record = (id: string, over: Partial<SubmissionRecord> = {}): SubmissionRecord => ({
  eval_id: id,
  backend: 'bull',
  task_id: id,
  status: 'queued',
  language: 'python',
  timeout: 30,
  priority: false,
  client: 'key:abc',
  owner: 'team-a',
  fallback: false,
  batch: false,
  submitted_at: new Date('2024-07-01T12:00:00.123Z'),
  code: 'print(1)',
  stdin: 'line one\nline two\n',
  args: ['--name', 'two words', ''],
  test_cases: [{ stdin: '1 2\n', expected_output: '3\n' }, { expected_output: '' }, {}],
  callback_url: 'https://hooks.example.com/crucible?team=a',
  files: [{ name: 'data.csv', content: 'a,b\n1,2\n' }],
  limits: { memory_mb: 128, max_processes: 4 },
  batch_id: null,
  batch_index: null,
  requeues: 0,
  ...over,
});

/** The behaviour both implementations must share. */
function storeContract(
  name: string,
  make: () => Promise<{ store: Ledger; ageAll: () => Promise<void> }>,
): void {
  describe(`${name} gateway ledger`, () => {
    let store: Ledger;
    let ageAll: () => Promise<void>;
    beforeEach(async () => {
      ({ store, ageAll } = await make());
    });
    afterEach(() => store.close());

    it('records an evaluation and finds it again, field for field', async () => {
      await store.record(record('e1', { fallback: true, batch: true, priority: true }));
      expect(await store.find('e1')).to.deep.equal(
        record('e1', { fallback: true, batch: true, priority: true }),
      );
      expect(await store.find('nope')).to.equal(null);
    });

    it("finds a batch's records in submit order, and nothing of an unknown batch", async () => {
      const batch = `batch_${Math.random().toString(16).slice(2).padEnd(24, '0').slice(0, 24)}`;
      for (const [id, index] of [
        ['b2', 2],
        ['b0', 0],
        ['b1', 1],
      ] as const)
        await store.record(
          record(`${batch}-${id}`, { batch: true, batch_id: batch, batch_index: index }),
        );
      await store.record(record(`${batch}-alone`));
      const found = await store.inBatch(batch);
      expect(found.map((r) => r.eval_id)).to.deep.equal(
        ['b0', 'b1', 'b2'].map((x) => `${batch}-${x}`),
      );
      expect(await store.inBatch('batch_000000000000000000000000')).to.deep.equal([]);
    });

    it('moves the recorded status', async () => {
      await store.record(record('e2'));
      await store.setStatus('e2', 'cancelled');
      expect((await store.find('e2'))?.status).to.equal('cancelled');
    });

    it('lists unfinished records left alone, oldest first; a look puts one back for a while', async () => {
      await store.record(record('s1', { status: 'submitted' }));
      await store.record(record('s2'));
      await store.record(record('s3', { status: 'cancelled' }));
      expect(await store.stale(60_000, 10)).to.deep.equal([]);
      await ageAll();
      const ids = async (limit: number) => (await store.stale(60_000, limit)).map((r) => r.eval_id);
      expect(await ids(10)).to.deep.equal(['s1', 's2']);
      expect(await ids(1)).to.deep.equal(['s1']);
      expect((await store.stale(60_000, 1))[0]).to.deep.equal(
        record('s1', { status: 'submitted' }),
      );
      await store.touch('s1', true);
      expect(await ids(10)).to.deep.equal(['s2']);
      expect((await store.find('s1'))?.requeues).to.equal(1);
      await store.setStatus('s2', 'completed');
      expect(await ids(10)).to.deep.equal([]);
    });

    it('claims a key once; the same key then says pending, then done with the answer', async () => {
      expect(await store.claim('k1', 'h1')).to.deep.equal({ state: 'claimed' });
      expect(await store.claim('k1', 'h1')).to.deep.equal({ state: 'pending', requestHash: 'h1' });
      await store.complete('k1', { status: 202, body: { eval_id: 'e3' } });
      expect(await store.claim('k1', 'h2')).to.deep.equal({
        state: 'done',
        requestHash: 'h1',
        answer: { status: 202, body: { eval_id: 'e3' } },
      });
    });

    it('lets a released key be claimed again, but never a completed one', async () => {
      await store.claim('k2', 'h');
      await store.release('k2');
      expect((await store.claim('k2', 'h')).state).to.equal('claimed');
      await store.complete('k2', { status: 202, body: {} });
      await store.release('k2');
      expect((await store.claim('k2', 'h')).state).to.equal('done');
    });

    it('replaces a key past its time to live instead of replaying it', async () => {
      await store.claim('x', 'h1');
      await store.complete('x', { status: 202, body: {} });
      await ageAll();
      expect(await store.claim('x', 'h2')).to.deep.equal({ state: 'claimed' });
    });

    it('prunes only the keys past their time to live', async () => {
      await store.claim('old', 'h');
      await store.complete('old', { status: 202, body: {} });
      await ageAll();
      await store.claim('new', 'h');
      expect(await store.prune()).to.equal(1);
      expect((await store.claim('new', 'h')).state).to.equal('pending');
      expect((await store.claim('old', 'h')).state).to.equal('claimed');
    });
  });
}

describe('gateway ledger (real PostgreSQL)', () => {
  const schemas: string[] = [];
  after(async () => {
    for (const s of schemas) await dropSchema(s);
  });

  storeContract('PostgreSQL', async () => {
    const schema = uniqueName('gw');
    schemas.push(schema);
    const store = await createPostgresLedger(DATABASE_URL, schema, 24);
    return {
      store,
      ageAll: async () => {
        const sql = postgres(DATABASE_URL);
        await sql`UPDATE ${sql(`${schema}.idempotency_keys`)} SET created_at = created_at - interval '25 hours'`;
        await sql`UPDATE ${sql(`${schema}.submissions`)} SET updated_at = updated_at - interval '25 hours'`;
        await sql.end();
      },
    };
  });

  it('migrates once, even when several gateways start together', async () => {
    const schema = uniqueName('gw');
    schemas.push(schema);
    const stores = await Promise.all(
      [1, 2, 3].map(() => createPostgresLedger(DATABASE_URL, schema, 24)),
    );
    const again = await createPostgresLedger(DATABASE_URL, schema, 24);
    const sql = postgres(DATABASE_URL);
    try {
      const versions = await sql`SELECT version FROM ${sql(`${schema}.schema_migrations`)}`;
      expect(versions.map((v) => v.version)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    } finally {
      await sql.end();
      await Promise.all([...stores, again].map((s) => s.close()));
    }
  });

  it('lets one gateway reconcile at a time, and another take over when it goes', async () => {
    const schema = uniqueName('gw');
    schemas.push(schema);
    const [a, b] = await Promise.all(
      [1, 2].map(() => createPostgresLedger(DATABASE_URL, schema, 24)),
    );
    try {
      expect(await a!.lead()).to.equal(true);
      expect(await b!.lead()).to.equal(false);
      expect(await a!.lead()).to.equal(true); // still holds it
      await a!.close();
      expect(await b!.lead()).to.equal(true);
    } finally {
      await b!.close();
    }
  });

  it('fails to start, saying why, when PostgreSQL cannot be reached', async () => {
    let error: unknown;
    try {
      await createPostgresLedger('postgres://postgres@127.0.0.1:1/test', uniqueName('gw'), 24);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/ECONNREFUSED|connect/);
  });
});

describe('gateway ledger (memory)', () => {
  storeContract('in-memory', () => {
    let t = Date.now();
    return Promise.resolve({
      store: createMemoryLedger(24, () => t),
      ageAll: () => {
        t += 25 * 3_600_000;
        return Promise.resolve();
      },
    });
  });
});

describe('gateway ledger (memory) bounds', () => {
  it('forgets the oldest records beyond its size, never the newest', async () => {
    const store = createMemoryLedger(24, Date.now, 3);
    for (const id of ['r1', 'r2', 'r3', 'r4']) await store.record(record(id));
    expect(await store.find('r1')).to.equal(null);
    for (const id of ['r2', 'r3', 'r4']) expect((await store.find(id))?.eval_id).to.equal(id);
    await store.record(record('r4', { status: 'cancelled' })); // an update takes no room
    expect((await store.find('r2'))?.eval_id).to.equal('r2');
  });
});
