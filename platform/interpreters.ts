import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** How one language runs. */
export interface Interpreter {
  file: string;
  /** The runtime's binary: the sandbox must show it. */
  runtime: string;
  /** The command for the program in `file`. */
  command(file: string, memoryMb: number): string[];
}

function realPython(): string | undefined {
  // The system's python3 first: a `python3` shim on PATH (pyenv) may live where the box cannot see.
  if (existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  try {
    return (
      execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
        encoding: 'utf8',
        timeout: 5000,
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** The languages this machine can run: python when python3 is installed, javascript (Node itself), bash. */
export function detectInterpreters(): Record<string, Interpreter> {
  const found: Record<string, Interpreter> = {};
  const python = realPython();
  if (python)
    found.python = {
      file: 'main.py',
      runtime: python,
      command: (f) => [python, '-E', '-s', '-u', f],
    };
  const node = process.execPath;
  // The heap limit gives a clean JavaScript error before the kernel's memory limit kills.
  found.javascript = {
    file: 'main.js',
    runtime: node,
    command: (f, mb) => [node, `--max-old-space-size=${Math.max(8, mb - 64)}`, f],
  };
  const bash = ['/usr/bin/bash', '/bin/bash'].find((p) => existsSync(p));
  if (bash) found.bash = { file: 'main.sh', runtime: bash, command: (f) => [bash, f] };
  return found;
}
