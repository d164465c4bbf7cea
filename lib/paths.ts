import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root: the nearest folder above this file holding package.json. The same code runs
 * from the sources (tsx) and from `dist/` (compiled), so files that are not TypeScript (the spec,
 * the generated validators) are always found from here rather than relative to the module.
 */
function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`package.json not found above ${start}`);
    dir = up;
  }
}

export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const specPath = join(projectRoot, 'spec', 'openapi.yaml');
export const generatedDir = join(projectRoot, 'generated');
