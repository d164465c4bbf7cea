import { readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Work directories of unsandboxed runs: `crucible-eval-<pid>-*` under the system's temp
 * directory, so that an executor can tell which ones a crashed process left behind.
 */
const NAME = /^crucible-eval-(\d+)-/;

export const workDirPrefix = (): string => join(tmpdir(), `crucible-eval-${process.pid}-`);

export const removeWorkDir = (dir: string): Promise<void> =>
  rm(dir, { recursive: true, force: true });

/** Whether a process with this pid exists (perhaps another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the work directories of executor processes that are gone. */
export function removeStaleWorkDirs(root = tmpdir()): number {
  let removed = 0;
  for (const name of readdirSync(root)) {
    const pid = Number(NAME.exec(name)?.[1] ?? NaN);
    if (Number.isNaN(pid) || pid === process.pid || processAlive(pid)) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
