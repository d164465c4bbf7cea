// `npm start`'s build: compiles (tsconfig.build.json) only when a source is newer than the last
// build, so that a start after the first takes no compile. Plain JavaScript: nothing to load first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = process.argv[2] ?? process.cwd();
const SOURCES = [
  'server',
  'handlers',
  'core',
  'clients',
  'lib',
  'platform',
  'generated/types',
  'cli',
  'sdk/src',
];
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const stamp = join(root, 'dist', '.built');

/** The newest modification time of the TypeScript files under `dir` (0 when there is none). */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

const latest = Math.max(
  ...SOURCES.map((d) => newest(join(root, d))),
  ...CONFIGS.map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)),
);
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built >= latest && existsSync(join(root, 'dist', 'server', 'main.js'))) {
  console.error('build: dist/ is up to date');
  process.exit(0);
}
console.error('build: compiling TypeScript (sources changed since the last build)');
// The stamp takes the time the build began: a source changed meanwhile is newer than it.
const began = new Date();
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stamp, `${began.toISOString()}\n`);
utimesSync(stamp, began, began);
