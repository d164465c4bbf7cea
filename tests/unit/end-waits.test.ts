import { expect } from 'chai';
import { EndWaits, MAX_WAIT_SECONDS, preferredWait } from '../../core/end-waits.js';
import { createInProcessEventBus } from '../../clients/event-bus.js';

describe('Prefer: wait=N', () => {
  it('reads the seconds, at most 60, among other preferences', () => {
    expect(preferredWait('wait=10')).to.equal(10);
    expect(preferredWait('respond-async, wait=5')).to.equal(5);
    expect(preferredWait('return=minimal; wait="7"')).to.equal(7);
    expect(preferredWait('wait=600')).to.equal(MAX_WAIT_SECONDS);
    for (const none of [undefined, '', 'wait=0', 'wait=soon', 'respond-async', 'nowait=5'])
      expect(preferredWait(none), String(none)).to.equal(undefined);
  });

  it('wakes a watch when its evaluation ends, even before until() is called', async () => {
    const bus = createInProcessEventBus();
    const waits = new EndWaits(bus);
    const early = waits.watch('a')!;
    const late = waits.watch('b')!;
    await bus.publish('evaluation:completed', { eval_id: 'a', status: 'completed' });
    expect(await early.until(5000)).to.equal(true);
    await bus.publish('evaluation:running', { eval_id: 'b' }); // not an end
    expect(await late.until(50)).to.equal(false);
    early.stop();
    late.stop();
    expect(waits.waiting).to.equal(0);
  });

  it('ends every wait at once on close, and takes no new one', async () => {
    const waits = new EndWaits(createInProcessEventBus());
    const w = waits.watch('a')!;
    const waiting = w.until(60_000);
    waits.close();
    expect(await waiting).to.equal(false);
    w.stop();
    expect(waits.watch('b')).to.equal(undefined);
  });

  it('lets at most `max` requests wait at once', () => {
    const waits = new EndWaits(createInProcessEventBus(), 2);
    const [a, b] = [waits.watch('x'), waits.watch('y')];
    expect(waits.watch('z')).to.equal(undefined);
    a!.stop();
    expect(waits.watch('z')).to.not.equal(undefined);
    b!.stop();
  });
});
