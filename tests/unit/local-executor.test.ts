import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalExecutor } from '../../platform/local-executor.js';
import { removeStaleWorkDirs } from '../../platform/work-dirs.js';
import { until } from '../helpers/services.js';

const run = { timeout: 10, memory_mb: 256, output_bytes: 1_000_000, language: 'python' };
const alive = (pattern: string): string =>
  spawnSync('pgrep', ['-fc', pattern], { encoding: 'utf8' }).stdout.trim();

// The same behaviour in the sandbox and without one; containment itself is tested in
// tests/integration/sandbox.test.ts.
for (const sandbox of ['bwrap', 'none'] as const) {
  describe(`LocalExecutor, sandbox ${sandbox} (real processes)`, () => {
    const ex = new LocalExecutor(`t-${sandbox}`, 2, { sandbox });

    it('runs the sandbox it was asked for', () => {
      expect(ex.sandbox.kind).to.equal(sandbox);
    });

    it('runs python and keeps stdout and stderr apart', async () => {
      const r = await ex.run({
        ...run,
        eval_id: 'a',
        code: 'import sys\nprint("out")\nprint("err", file=sys.stderr)',
      });
      expect(r).to.include({ status: 'completed', output: 'out\n', error: 'err\n', exit_code: 0 });
      expect(r.termination_reason).to.equal('exited');
    });

    it('feeds the program its stdin, and end-of-file at once without one', async () => {
      const echo = 'import sys\nprint(repr(sys.stdin.read().upper()))';
      const fed = await ex.run({ ...run, eval_id: 's1', code: echo, stdin: 'hello\nworld\n' });
      expect(fed).to.include({ status: 'completed', output: "'HELLO\\nWORLD\\n'\n" });
      const none = await ex.run({ ...run, eval_id: 's2', code: echo });
      expect(none).to.include({ status: 'completed', output: "''\n" });
      // A program that never reads a large input still ends cleanly.
      const unread = await ex.run({
        ...run,
        eval_id: 's3',
        code: 'print(1)',
        stdin: 'x'.repeat(1 << 20),
      });
      expect(unread).to.include({ status: 'completed', output: '1\n' });
    });

    it('gives the program its command-line arguments, as they were given', async () => {
      const r = await ex.run({
        ...run,
        eval_id: 'g',
        code: 'import sys\nprint(sys.argv[1:])',
        args: ['two words', '--flag', '', '$HOME'],
      });
      expect(r.output).to.equal("['two words', '--flag', '', '$HOME']\n");
    });

    it('puts extra files beside the program: data it reads, modules it imports', async () => {
      const r = await ex.run({
        ...run,
        eval_id: 'f',
        code: 'import helper\nprint(helper.double(int(open("data.txt").read())))',
        files: [
          { name: 'helper.py', content: 'def double(x):\n    return 2 * x\n' },
          { name: 'data.txt', content: '21' },
        ],
      });
      expect(r).to.include({ status: 'completed', output: '42\n' });
      // A name that climbs out, or that replaces the program, is refused before anything runs.
      for (const name of ['../escape', 'main.py', '..'])
        await ex
          .run({ ...run, eval_id: 'f2', code: 'print(1)', files: [{ name, content: 'x' }] })
          .then(
            () => expect.fail(`${name} was accepted`),
            (err: Error) => expect(err.message).to.match(/not allowed/),
          );
    });

    // Without a sandbox only RLIMIT_NPROC counts processes, and it does not hold root.
    if (sandbox === 'bwrap')
      it('holds a run to its own, lower, process limit', async () => {
        const fork =
          'import subprocess\nprint([subprocess.run(["true"]).returncode for _ in range(1)])';
        const free = await ex.run({ ...run, eval_id: 'p1', code: fork });
        expect(free).to.include({ status: 'completed', output: '[0]\n' });
        const held = await ex.run({ ...run, eval_id: 'p2', code: fork, max_processes: 1 });
        expect(held.status).to.equal('failed');
      });

    it('gives the program a clean environment and a fresh directory of its own', async () => {
      const r = await ex.run({
        ...run,
        eval_id: 'b',
        code: 'import os\nprint(sorted(os.environ))\nprint(os.listdir("."))',
      });
      expect(r.output).to.equal(
        "['HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'TMPDIR']\n['main.py']\n",
      );
    });

    it('stops a program at its timeout with exit code 124', async () => {
      const r = await ex.run({ ...run, timeout: 1, eval_id: 'c', code: 'while True: pass' });
      // 124 as coreutils' timeout says it, written out: clients read this number.
      expect(r).to.include({ status: 'timeout', exit_code: 124, termination_reason: 'timeout' });
      expect(r.error).to.match(/Timed out after 1 s/);
    });

    it('holds a python program to its memory limit and says so', async () => {
      const r = await ex.run({ ...run, eval_id: 'd', code: 'x = bytearray(1024 * 1024 * 1024)' });
      expect(r).to.include({ status: 'failed', termination_reason: 'memory_limit' });
      expect(r.error).to.match(/Memory limit of 256 MB reached/);
    });

    it('holds a javascript program allocating Buffers to the same memory limit', async () => {
      const r = await ex.run({
        ...run,
        language: 'javascript',
        eval_id: 'd2',
        code: 'const a = []; for (let i = 0; i < 40; i++) a.push(Buffer.alloc(100 * 1024 * 1024, 1)); console.log("4 GB")',
      });
      expect(r).to.include({ status: 'failed', termination_reason: 'memory_limit' });
      expect(r.output).to.equal('');
    });

    it('stops a program printing past the output cap and says the output was cut', async () => {
      const r = await ex.run({
        ...run,
        output_bytes: 100,
        eval_id: 'e',
        code: 'while True: print("x" * 1000)',
      });
      expect(r.output).to.have.length(100);
      expect(r).to.include({
        output_truncated: true,
        status: 'failed',
        termination_reason: 'output_limit',
      });
    });

    it('says the output was not cut when it fits exactly', async () => {
      const r = await ex.run({ ...run, output_bytes: 4, eval_id: 'e2', code: 'print("abc")' });
      expect(r).to.include({ output: 'abc\n', output_truncated: false, status: 'completed' });
    });

    it('kills a running program and everything it started', async () => {
      const p = ex.run({
        ...run,
        eval_id: 'f',
        code: `import subprocess, time\nsubprocess.Popen(["sleep", "31.${sandbox.length}7"])\ntime.sleep(30)`,
      });
      await until(() => alive(`^sleep 31.${sandbox.length}7`) === '1', 5000);
      expect(ex.kill('f')).to.equal(true);
      const r = await p;
      expect(r).to.include({ status: 'cancelled', termination_reason: 'cancelled' });
      expect(ex.running()).to.deep.equal([]);
      expect(ex.kill('f')).to.equal(false);
      await until(() => alive(`^sleep 31.${sandbox.length}7`) === '0', 2000);
    });

    it('survives a kill before the program started (its pipes closed early)', async () => {
      for (let i = 0; i < 5; i++) {
        const id = `early-${i}`;
        const r = await ex.run({ ...run, eval_id: id, code: 'print(1)' }, () => ex.kill(id));
        expect(r).to.include({ status: 'cancelled', termination_reason: 'cancelled' });
      }
    });

    it('runs an evaluation whose id is not a plain name, in a group of its own', async () => {
      const r = await ex.run({ ...run, eval_id: '../../escape me', code: 'print("ok")' });
      expect(r).to.include({ status: 'completed', output: 'ok\n' });
      // Nothing was made outside the executor's own groups (a '..' in the id would climb out).
      const around = ['/sys/fs/cgroup', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/memory'];
      for (const dir of around)
        expect(readdirSync(dir).filter((n) => n.includes('escape'))).to.deep.equal([]);
    });

    it('answers failed for a language it cannot run', async () => {
      const r = await ex.run({ ...run, language: 'cobol', eval_id: 'g', code: 'DISPLAY "HI".' });
      expect(r).to.include({ status: 'failed', exit_code: 127 });
      expect(r.error).to.match(/Language cobol is not available/);
    });

    it('leaves no work directory behind', async () => {
      await ex.run({ ...run, eval_id: 'h', code: 'open("left.txt", "w").write("x")' });
      const mine = readdirSync(tmpdir()).filter((n) =>
        n.startsWith(`crucible-eval-${process.pid}-`),
      );
      expect(mine).to.deep.equal([]);
    });
  });
}

describe('work directories left by a crashed executor', () => {
  it('are removed at the next start, and those of live executors kept', () => {
    const root = join(tmpdir(), `crucible-test-${process.pid}`);
    // pid 2^22+1 is above Linux's pid_max: no such process can exist.
    const dead = join(root, 'crucible-eval-4194305-abc');
    const live = join(root, `crucible-eval-${process.ppid}-abc`);
    mkdirSync(join(dead, 'sub'), { recursive: true });
    mkdirSync(live, { recursive: true });
    expect(removeStaleWorkDirs(root)).to.equal(1);
    expect(existsSync(dead)).to.equal(false);
    expect(existsSync(live)).to.equal(true);
  });
});

describe('an executor that dies mid-run (SIGKILL, no clean-up)', function () {
  this.timeout(20_000);
  it('takes its sandboxed program and everything it started with it', async () => {
    const name = `61${process.pid % 1000}.${Date.now() % 1000}`;
    const script = `
      import { LocalExecutor } from './platform/local-executor.ts';
      const ex = new LocalExecutor('crash', 1, { sandbox: 'bwrap' });
      void ex.run({ eval_id: 'x', language: 'bash', timeout: 300, memory_mb: 64, output_bytes: 1000,
        code: '(setsid sleep ${name} &); sleep ${name}' });`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: 'ignore',
      },
    );
    // Anchored: the executor's own command line holds the same words.
    await until(() => alive(`^sleep ${name}`) === '2', 10_000);
    child.kill('SIGKILL');
    await until(() => alive(`^sleep ${name}`) === '0', 5000);
  });
});
