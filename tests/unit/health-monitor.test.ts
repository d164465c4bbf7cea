import { expect } from 'chai';
import { HealthMonitor } from '../../server/health.js';
import type { HealthProbe } from '../../server/health.js';
import { silentLogger } from '../../lib/logger.js';
import { sleep, until } from '../helpers/services.js';

const ok: HealthProbe = { check: () => Promise.resolve() };
const failing = (message: string): HealthProbe => ({
  check: () => Promise.reject(new Error(message)),
});

function monitor(
  probes: Partial<Record<'queue' | 'storage' | 'redis', HealthProbe>>,
  clock: { t: number },
) {
  return new HealthMonitor({
    queue: probes.queue ?? ok,
    storage: probes.storage ?? ok,
    redis: probes.redis ?? { disabled: true, check: () => Promise.resolve() },
    executors: {},
    intervalMs: 15_000,
    graceMs: 120_000,
    graceIntervalMs: 2_000,
    logger: silentLogger(),
    now: () => clock.t,
  });
}

describe('HealthMonitor', () => {
  it('checks every 2 s during the first 2 minutes, then every 15 s', () => {
    const clock = { t: 1_000_000 };
    const m = monitor({}, clock);
    expect(m.nextDelay()).to.equal(2_000);
    expect(m.inGracePeriod()).to.equal(true);
    clock.t += 119_999;
    expect(m.nextDelay()).to.equal(2_000);
    clock.t += 1;
    expect(m.nextDelay()).to.equal(15_000);
    expect(m.snapshot().in_grace_period).to.equal(false);
  });

  it('runs its background loop at the grace interval, then at the normal one', async () => {
    let checks = 0;
    let graceOver = false;
    const counting: HealthProbe = { check: () => (checks++, Promise.resolve()) };
    const m = new HealthMonitor({
      queue: counting,
      storage: ok,
      redis: { disabled: true, check: () => Promise.resolve() },
      executors: {},
      intervalMs: 3_600_000,
      graceMs: 60_000,
      graceIntervalMs: 5,
      logger: silentLogger(),
      now: () => (graceOver ? 1e12 : 0),
    });
    m.start();
    try {
      // At the hour-long normal interval only the first check would come.
      await until(() => checks >= 4, 5000);
      graceOver = true;
      await until(() => !m.inGracePeriod());
      const after = checks;
      await sleep(100); // 20 grace intervals: none of them may bring a check now
      expect(checks - after).to.be.at.most(1); // one round may have been under way
    } finally {
      m.stop();
    }
  });

  it('counts consecutive failures and clears them on recovery', async () => {
    const clock = { t: 0 };
    let up = false;
    const m = monitor(
      { storage: { check: () => (up ? Promise.resolve() : Promise.reject(new Error('down'))) } },
      clock,
    );
    await m.checkNow();
    await m.checkNow();
    expect(m.snapshot().services.storage).to.include({
      status: 'unhealthy',
      consecutive_failures: 2,
      last_error: 'down',
    });
    up = true;
    await m.checkNow();
    expect(m.snapshot().services.storage).to.include({
      status: 'healthy',
      consecutive_failures: 0,
      last_error: null,
    });
  });

  it('is degraded when only Redis fails, unhealthy when the queue does', async () => {
    const clock = { t: 0 };
    const redisDown = monitor({ redis: failing('redis gone') }, clock);
    await redisDown.checkNow();
    expect(redisDown.snapshot().status).to.equal('degraded');
    expect(redisDown.readiness().ready).to.equal(true);
    const queueDown = monitor({ queue: failing('queue gone') }, clock);
    await queueDown.checkNow();
    expect(queueDown.snapshot().status).to.equal('unhealthy');
    expect(queueDown.readiness().ready).to.equal(false);
  });

  it('runs one round at a time: concurrent callers share it', async () => {
    let calls = 0;
    const m = monitor(
      { queue: { check: () => ((calls += 1), new Promise((r) => setTimeout(r, 20))) } },
      { t: 0 },
    );
    await Promise.all([m.checkNow(), m.checkNow(), m.checkNow()]);
    expect(calls).to.equal(1);
  });
});

describe('HealthMonitor passive checks', () => {
  function passive(storage: HealthProbe) {
    return new HealthMonitor({
      queue: ok,
      storage,
      redis: { disabled: true, check: () => Promise.resolve() },
      executors: {},
      // No background round in these tests: only what real calls show, and the recovery probe.
      intervalMs: 3_600_000,
      graceMs: 0,
      graceIntervalMs: 3_600_000,
      recoveryMs: 10,
      logger: silentLogger(),
    });
  }

  it('marks a service unhealthy the moment a real call cannot reach it', async () => {
    const m = passive(ok);
    await m.checkNow();
    expect(m.readiness().ready).to.equal(true);
    m.observe('storage', false, new Error('Storage service unavailable'));
    expect(m.readiness()).to.deep.include({ ready: false });
    expect(m.snapshot().services.storage).to.include({
      status: 'unhealthy',
      last_error: 'Storage service unavailable',
    });
    m.stop();
  });

  it('probes an unreachable service until it answers, and is ready again then', async () => {
    let up = false;
    let probes = 0;
    const m = passive({
      check: () => (probes++, up ? Promise.resolve() : Promise.reject(new Error('refused'))),
    });
    try {
      await m.checkNow();
      m.observe('storage', false, new Error('refused'));
      await until(() => probes >= 4, 2000); // probed again and again while down
      up = true;
      await until(() => m.readiness().ready, 2000);
      const settled = probes;
      await sleep(50);
      expect(probes).to.equal(settled); // and no more once it answers
    } finally {
      m.stop();
    }
  });

  it('takes a call that reached the service as proof that it is up', async () => {
    const m = passive(failing('refused'));
    await m.checkNow();
    expect(m.snapshot().services.storage.status).to.equal('unhealthy');
    m.observe('storage', true);
    expect(m.snapshot().services.storage).to.include({
      status: 'healthy',
      consecutive_failures: 0,
    });
    m.stop();
  });
});
