import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../server/compose.js';
import { startEmbedded } from '../helpers/embedded.js';

/** What a run of the command gave: its exit code and what it wrote. */
interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The `crucible` command, run as a process against an embedded gateway (in this process, so the
 * command runs asynchronously): its output, and the program's exit code as its own.
 */
describe('the crucible command (cli/, on the SDK)', function () {
  this.timeout(120_000);
  let gateway: Gateway;
  let base: string;
  let dir: string;
  before(async () => {
    ({ gateway, base } = await startEmbedded());
    dir = mkdtempSync(join(tmpdir(), 'crucible-cli-'));
    writeFileSync(
      join(dir, 'prog.py'),
      'import sys\nprint("hello", flush=True)\nprint(sys.stdin.read().upper(), end="")\nprint("oops", file=sys.stderr)\nsys.exit(3)\n',
    );
    writeFileSync(join(dir, 'in.txt'), 'piped in\n');
    writeFileSync(join(dir, 'blank.py'), '\n');
  });
  after(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const crucible = (
    args: string[],
    command = ['--import', 'tsx', 'cli/main.ts'],
    url = base,
  ): Promise<Ran> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [...command, ...args],
        { env: { ...process.env, CRUCIBLE_URL: url }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('runs a file with its stdin, prints its output and exits with its exit code', async () => {
    const r = await crucible(['run', join(dir, 'prog.py'), '--stdin', join(dir, 'in.txt')]);
    expect(r.stdout).to.equal('hello\nPIPED IN\n');
    expect(r.stderr).to.include('oops\n');
    expect(r.code).to.equal(3);
  });

  it('prints the finished evaluation as JSON with --json', async () => {
    const r = await crucible(['run', join(dir, 'prog.py'), '--wait', '--json']);
    const done = JSON.parse(r.stdout) as { status: string; output: string; exit_code: number };
    expect(done).to.include({ status: 'failed', output: 'hello\n', exit_code: 3 });
    expect(r.code).to.equal(3);
  });

  it('queues without waiting, then status and watch follow the id', async () => {
    const queued = await crucible(['run', join(dir, 'prog.py'), '--no-wait']);
    const id = queued.stdout.trim();
    expect(id).to.match(/^eval_/);
    const watched = await crucible(['watch', id]);
    expect(watched.stdout).to.equal('hello\n');
    expect(watched.code).to.equal(3);
    const status = await crucible(['status', id]);
    expect(status.stdout).to.equal(`${id}  failed  exit 3\nhello\n`);
  });

  it('says what the gateway refused, and exits 2', async () => {
    const r = await crucible(['run', join(dir, 'blank.py')]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('GW_ERR_VALIDATION');
    expect(r.stderr).to.include('/code: must not be blank');
  });

  it('manages keys with the admin key: create, list, revoke', async () => {
    // A gateway of its own: once it has keys, it is no longer open.
    const own = await startEmbedded({ ADMIN_API_KEY: 'cli-admin-key-0123456789' });
    const at = (args: string[]) => crucible(args, undefined, own.base);
    try {
      const admin = ['--admin-key', 'cli-admin-key-0123456789'];
      const made = await at([
        ...admin,
        'keys',
        'create',
        'team-cli',
        '--scope',
        'evaluations:read',
      ]);
      expect(made.code, made.stderr).to.equal(0);
      const [id, secret] = made.stdout.trim().split(/\s+/);
      expect(secret).to.match(/^crk_/);
      const listed = await at([...admin, 'keys', 'list']);
      expect(listed.stdout).to.match(new RegExp(`^${id}  \\S+  team-cli  evaluations:read$`, 'm'));
      expect((await at([...admin, 'keys', 'revoke', id!])).code).to.equal(0);
      expect((await at([...admin, 'keys', 'list'])).stdout).to.match(
        new RegExp(`^${id} .*revoked$`, 'm'),
      );
      // Without the admin key: refused.
      expect((await at(['keys', 'list'])).code).to.equal(2);
    } finally {
      await own.gateway.close();
    }
  });

  it('works as the installed bin (compiled JavaScript)', async () => {
    const r = await crucible(['run', join(dir, 'prog.py')], ['bin/crucible.mjs']);
    expect(r.stdout).to.equal('hello\n');
    expect(r.code).to.equal(3);
  });
});
