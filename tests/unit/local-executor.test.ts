import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { LocalExecutor, TIMEOUT_EXIT_CODE } from '../../platform/local-executor.js';

const run = { timeout: 10, memory_mb: 256, output_bytes: 1_000_000, language: 'python' };

describe('LocalExecutor (real child processes)', () => {
  const ex = new LocalExecutor('t-1', 2);

  it('runs python and keeps stdout and stderr apart', async () => {
    const r = await ex.run({
      ...run,
      eval_id: 'a',
      code: 'import sys\nprint("out")\nprint("err", file=sys.stderr)',
    });
    expect(r).to.include({ status: 'completed', output: 'out\n', error: 'err\n', exit_code: 0 });
  });

  it('gives the program a clean environment and a fresh directory of its own', async () => {
    const r = await ex.run({
      ...run,
      eval_id: 'b',
      code: 'import os\nprint(sorted(os.environ))\nprint(os.listdir("."))',
    });
    expect(r.output).to.equal(
      "['HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'TMPDIR']\n['main.py']\n",
    );
  });

  it('stops a program at its timeout with exit code 124', async () => {
    const r = await ex.run({ ...run, timeout: 1, eval_id: 'c', code: 'while True: pass' });
    expect(r).to.include({ status: 'timeout', exit_code: TIMEOUT_EXIT_CODE });
    expect(r.error).to.match(/Timed out after 1 s/);
  });

  it('holds a program to its memory limit', async () => {
    const r = await ex.run({ ...run, eval_id: 'd', code: 'x = bytearray(1024 * 1024 * 1024)' });
    expect(r.status).to.equal('failed');
    expect(r.error).to.match(/MemoryError[\s\S]*Memory limit of 256 MB reached/);
  });

  it('caps captured output and says so', async () => {
    const r = await ex.run({ ...run, output_bytes: 100, eval_id: 'e', code: 'print("x" * 10000)' });
    expect(r.output).to.have.length(100);
    expect(r.output_truncated).to.equal(true);
  });

  it('kills a running program and everything it started', async () => {
    const p = ex.run({
      ...run,
      eval_id: 'f',
      code: 'import subprocess, time\nsubprocess.Popen(["sleep", "30"])\ntime.sleep(30)',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(ex.running()).to.include('f');
    expect(ex.kill('f')).to.equal(true);
    const r = await p;
    expect(r.status).to.equal('cancelled');
    expect(ex.running()).to.deep.equal([]);
    expect(ex.kill('f')).to.equal(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(spawnSync('pgrep', ['-fc', 'sleep 31.25'], { encoding: 'utf8' }).stdout.trim()).to.equal(
      '0',
    );
  });

  it('answers failed for a language it cannot run', async () => {
    const r = await ex.run({ ...run, language: 'cobol', eval_id: 'g', code: 'DISPLAY "HI".' });
    expect(r).to.include({ status: 'failed', exit_code: 127 });
    expect(r.error).to.match(/Language cobol is not available/);
  });
});
