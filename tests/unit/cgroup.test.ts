import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroups } from '../../platform/cgroup.js';
import { until } from '../helpers/services.js';

/** This process's memory cgroup directory (cgroup v1, as the executor uses it here). */
function ownMemoryCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (!line) throw new Error('no memory cgroup controller: the executor could only use rlimits');
  return join('/sys/fs/cgroup/memory', line.split(':')[2]!);
}

describe('per-run cgroups (real kernel controllers)', () => {
  it('are available here, so the sandbox limits memory and processes through the kernel', () => {
    expect(detectCgroups()?.version).to.be.oneOf(['v1', 'v2']);
  });

  it('limit a run: a program past its memory is killed and counted, and the group removed', async () => {
    const cg = detectCgroups()!;
    const run = await cg.create(`test-${process.pid}`, { memoryBytes: 64 << 20, maxProcesses: 8 });
    const p = spawnSync('/bin/sh', [
      '-c',
      'for f in "$@"; do echo $$ > "$f"; done; exec /usr/bin/python3 -c "x = bytearray(256 << 20)"',
      'sh',
      ...run.procs,
    ]);
    expect(p.status).to.not.equal(0);
    expect(await run.report()).to.include({ oomKilled: true, processLimitHit: false });
    await run.destroy();
    for (const f of run.procs) expect(existsSync(f)).to.equal(false);
  });

  it('left by a crashed executor are swept at the next start, with what still ran inside', async () => {
    // pid 2^22+1 is above Linux's pid_max: no executor with it can be alive.
    const stale = join(ownMemoryCgroup(), 'crucible-4194305', 'leftover');
    mkdirSync(stale, { recursive: true });
    const orphan = spawn('sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(join(stale, 'cgroup.procs'), String(orphan.pid));
    const gone = new Promise((r) => orphan.once('exit', r));
    detectCgroups();
    await gone;
    await until(() => !existsSync(join(ownMemoryCgroup(), 'crucible-4194305')), 3000);
  });
});
