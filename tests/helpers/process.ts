import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { projectRoot } from '../../lib/paths.js';

/** A loopback port free right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface Started {
  child: ChildProcess;
  /** Everything the process wrote, for failure messages. */
  output: () => string;
  /** Stops the process and everything it started (its process group). */
  stop: () => Promise<void>;
  /** Kills the process at once, as a machine failure would (SIGKILL, no clean-up). */
  crash: () => Promise<void>;
}

/**
 * Runs a command of this project in its own process group with `env` added to this process's
 * environment minus the settings a test must not inherit.
 */
export function start(command: string[], env: Record<string, string | undefined>): Started {
  const clean = { ...process.env };
  for (const k of [
    'QUEUE_SERVICE_URL',
    'STORAGE_SERVICE_URL',
    'REDIS_URL',
    'DATABASE_URL',
    'CELERY_ENABLED',
    'PORT',
    'HOST',
  ])
    delete clean[k];
  const [bin, ...args] = command;
  const child = spawn(bin!, args, {
    cwd: projectRoot,
    env: { ...clean, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => out,
    crash: async () => {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGKILL');
        await exited;
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, 8000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until `url` answers 200, or fails with what the process printed. */
export async function waitUntilUp(url: string, proc: Started, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null)
      throw new Error(`process exited (${proc.child.exitCode}):\n${proc.output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not up within ${ms} ms:\n${proc.output()}`);
}
