import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths.js';

/**
 * Runs `body` in a process of its own with `log` = createLogger('info'); resolves with each line
 * it printed, as soon as `until` accepts what has arrived (the process is then killed), or at its
 * exit.
 */
function run(body: string, until: (lines: string[]) => boolean = () => false): Promise<string[]> {
  const script = `import { createLogger } from ${JSON.stringify(join(projectRoot, 'lib/logger.ts'))};
const log = createLogger('info', 'test');
${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: projectRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => {
    let out = '';
    const lines = (): string[] => out.split('\n').filter(Boolean);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (until(lines())) {
        child.kill('SIGKILL');
        resolve(lines());
      }
    });
    child.once('exit', () => resolve(lines()));
  });
}

const messages = (lines: string[]): string[] =>
  lines.map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('the logger', () => {
  it('writes a warning at once, after the info lines held before it, in order', async () => {
    // SIGKILL runs no exit handler: only what was written before it arrives.
    const lines = await run(
      `log.info('one'); log.info('two'); log.warn('three'); process.kill(process.pid, 'SIGKILL');`,
    );
    expect(messages(lines)).to.deep.equal(['one', 'two', 'three']);
  });

  it('holds info lines (a SIGKILL right after loses them: the price of one write per batch)', async () => {
    const lines = await run(`log.info('held'); process.kill(process.pid, 'SIGKILL');`);
    expect(lines).to.deep.equal([]);
  });

  it('writes held info lines when the process exits, a crash included', async () => {
    const lines = await run(`log.info('before the crash'); throw new Error('boom');`);
    expect(messages(lines)).to.deep.equal(['before the crash']);
  });

  it('writes held info lines within a moment while the process runs', async () => {
    const lines = await run(`log.info('held'); setInterval(() => {}, 1000);`, (l) => l.length >= 1);
    expect(messages(lines)).to.deep.equal(['held']);
  });
});
