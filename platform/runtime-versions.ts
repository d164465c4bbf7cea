import { execFile } from 'node:child_process';

/** The first version number a runtime prints for `--version` ("Python 3.11.7", "v20.20.2"…). */
function versionOf(binary: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) return resolve(null);
      resolve(/\d+\.\d+(?:\.\d+)?/.exec(`${stdout}\n${stderr}`)?.[0] ?? null);
    });
  });
}

/**
 * Each language of an executor with the version of its runtime, asked once (a runtime does not
 * change under a running executor).
 */
export function runtimeVersions(
  interpreters: Record<string, { runtime: string }>,
): () => Promise<{ name: string; version: string | null }[]> {
  let asked: Promise<{ name: string; version: string | null }[]> | undefined;
  return () =>
    (asked ??= Promise.all(
      Object.entries(interpreters).map(async ([name, i]) => ({
        name,
        version: await versionOf(i.runtime),
      })),
    ));
}
