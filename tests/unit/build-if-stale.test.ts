import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve('scripts/build-if-stale.mjs');

/** `npm start`'s build, on a project of one file: it compiles only when a source changed. */
describe('npm start builds only when sources changed (scripts/build-if-stale.mjs)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'crucible-build-'));
    mkdirSync(join(dir, 'server'));
    writeFileSync(join(dir, 'server', 'main.ts'), 'export const n: number = 1;\n');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(
      join(dir, 'tsconfig.build.json'),
      JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: '.' }, include: ['server'] }),
    );
    symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const build = (): string => {
    const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    return r.stderr;
  };

  it('compiles the first time, not again, and again once a source changes', () => {
    expect(build()).to.match(/compiling/);
    expect(existsSync(join(dir, 'dist', 'server', 'main.js'))).to.equal(true);
    expect(build()).to.match(/up to date/);
    const now = new Date(); // after the last build began: an edit made since
    utimesSync(join(dir, 'server', 'main.ts'), now, now);
    expect(build()).to.match(/compiling/);
    expect(build()).to.match(/up to date/);
  });
});
