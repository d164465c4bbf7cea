import { expect } from 'chai';
import { TaskQueue } from '../../platform/queue-server.js';

const task = (id: string, priority = 1, timeout = 10) => ({
  eval_id: id,
  code: 'x',
  priority,
  timeout,
});

describe('TaskQueue (the reference legacy queue)', () => {
  it('hands out higher priorities first, first in first out within one', () => {
    const q = new TaskQueue();
    q.add(task('a', 1));
    q.add(task('b', 2));
    q.add(task('c', 1));
    q.add(task('d', 2));
    expect(
      [q.take(), q.take(), q.take(), q.take(), q.take()].map((t) => t?.eval_id ?? null),
    ).to.deep.equal(['b', 'd', 'a', 'c', null]);
  });

  it('reports positions and treats a repeated eval_id as the same task', () => {
    const q = new TaskQueue();
    expect(q.add(task('a')).position).to.equal(0);
    expect(q.add(task('b')).position).to.equal(1);
    expect(q.add(task('a')).position).to.equal(0);
    expect(q.counts()).to.deep.equal({ queued: 2, processing: 0, total: 2 });
  });

  it('hands a task out again when its worker does not report before the lease lapses', () => {
    let now = 0;
    const q = new TaskQueue({ leaseGraceMs: 1000, now: () => now });
    q.add(task('a', 1, 5));
    q.add(task('b', 1, 5));
    expect(q.take()?.eval_id).to.equal('a');
    now = 5999; // timeout 5 s + grace 1 s not yet over
    expect(q.take()?.eval_id).to.equal('b');
    expect(q.take()).to.equal(null);
    now = 6000;
    expect(q.take()?.eval_id).to.equal('a'); // back, ahead of later work of its priority
  });

  it('leases a task with test cases for its timeout once per case', () => {
    let now = 0;
    const q = new TaskQueue({ leaseGraceMs: 1000, now: () => now });
    q.add({ ...task('a', 1, 5), test_cases: [{}, {}, {}] });
    expect(q.take()?.eval_id).to.equal('a');
    now = 15_999; // three cases of 5 s, and the grace
    expect(q.take()).to.equal(null);
    now = 16_000;
    expect(q.take()?.eval_id).to.equal('a');
  });

  it('gives a task up after its lease lapsed maxAttempts times, and says so once', () => {
    let now = 0;
    const given: unknown[] = [];
    const q = new TaskQueue({
      leaseGraceMs: 0,
      maxAttempts: 2,
      onGiveUp: (t) => given.push(t),
      now: () => now,
    });
    q.add(task('a', 1, 1));
    expect(q.take()?.eval_id).to.equal('a');
    now = 1000;
    expect(q.take()?.eval_id).to.equal('a'); // second attempt
    expect(given).to.deep.equal([]);
    now = 2000;
    expect(q.take()).to.equal(null);
    expect(given).to.deep.equal([{ eval_id: 'a', attempts: 2 }]);
    expect(q.state('a')).to.equal(null);
    expect(q.counts().total).to.equal(0);
    now = 9000;
    q.take();
    expect(given).to.have.length(1);
  });

  it('forgets a task once reported, and cannot remove one a worker holds', () => {
    const q = new TaskQueue();
    q.add(task('a'));
    q.add(task('b'));
    q.take();
    expect(q.remove('a')).to.equal('taken');
    expect(q.remove('b')).to.equal('removed');
    expect(q.finish('a')).to.equal(true);
    expect(q.finish('a')).to.equal(false);
    expect(q.remove('a')).to.equal('unknown');
    expect(q.counts().total).to.equal(0);
  });
});
