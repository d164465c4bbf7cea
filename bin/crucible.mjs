#!/usr/bin/env node
// The `crucible` command: the compiled CLI (cli/main.ts), compiled first when a source changed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs'), root], {
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
});
if (build.status !== 0) {
  process.stderr.write(build.stderr);
  process.exit(build.status ?? 1);
}
await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
