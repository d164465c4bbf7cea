import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, Option } from 'commander';
import ora from 'ora';
import WebSocket from 'ws';
import { Crucible, CrucibleProblem } from '../sdk/src/index.js';
import type { EvaluationStatus, WebSocketLike } from '../sdk/src/index.js';

/** The language a file's extension says, when `--language` does not. */
const BY_EXTENSION: Record<string, string> = {
  '.py': 'python',
  '.js': 'javascript',
  '.sh': 'bash',
};

/** The program's own exit code where it has one; 1 for a failure without one, 130 cancelled. */
function exitCodeOf(e: EvaluationStatus): number {
  if (e.status === 'cancelled') return 130;
  if (typeof e.exit_code === 'number') return e.exit_code;
  return e.status === 'completed' ? 0 : 1;
}

const program = new Command('crucible')
  .description('Run code on a Crucible gateway and follow it')
  .addOption(
    new Option('--url <url>', 'the gateway').env('CRUCIBLE_URL').default('http://127.0.0.1:8080'),
  )
  .addOption(new Option('--api-key <key>', 'an API key').env('CRUCIBLE_API_KEY'))
  .addOption(new Option('--admin-key <key>', 'the admin key (keys)').env('CRUCIBLE_ADMIN_KEY'))
  .showHelpAfterError();

const client = (): Crucible => {
  const o = program.opts<{ url: string; apiKey?: string; adminKey?: string }>();
  return new Crucible({
    baseUrl: o.url,
    ...(o.apiKey ? { apiKey: o.apiKey } : {}),
    ...(o.adminKey ? { adminKey: o.adminKey } : {}),
    WebSocket: WebSocket as unknown as new (url: string) => WebSocketLike,
  });
};

/** Follows an evaluation: its output as it is printed, a spinner (on a terminal) meanwhile. */
async function follow(crucible: Crucible, evalId: string): Promise<EvaluationStatus> {
  // On a terminal only: a spinner's frames are noise in a pipe or a log.
  const spinner = ora({
    text: `${evalId}: queued`,
    stream: process.stderr,
    isEnabled: process.stderr.isTTY === true,
  });
  if (process.stderr.isTTY) spinner.start();
  let end: EvaluationStatus | undefined;
  try {
    for await (const e of crucible.events(evalId)) {
      if (e.event === 'status') spinner.text = `${evalId}: ${e.data.status}`;
      else if (e.event === 'output') {
        spinner.clear();
        (e.data.stream === 'stdout' ? process.stdout : process.stderr).write(e.data.data);
        spinner.render();
      } else end = e.data;
    }
  } finally {
    spinner.stop();
  }
  return end ?? crucible.status(evalId);
}

program
  .command('run')
  .description("run FILE and print its output as it comes; exits with the program's exit code")
  .argument('<file>', 'the program')
  .option('-l, --language <language>', 'its language (default: from the extension)')
  .option('--stdin <file>', 'a file to give it as standard input')
  .option('--arg <arg...>', 'its command-line arguments')
  .option('-t, --timeout <seconds>', 'its time limit', (v) => Number(v))
  .option('--wait', 'follow it to its end (the default)')
  .option('--no-wait', 'print the id once it is queued, and return')
  .option('--json', 'print the finished evaluation as JSON (no live output)')
  .action(async (file: string, o: Record<string, unknown>) => {
    const crucible = client();
    const language = (o.language as string | undefined) ?? BY_EXTENSION[extname(file)] ?? 'python';
    const { eval_id } = await crucible.submit({
      code: readFileSync(file, 'utf8'),
      language,
      ...(o.stdin ? { stdin: readFileSync(o.stdin as string, 'utf8') } : {}),
      ...(o.arg ? { args: o.arg as string[] } : {}),
      ...(o.timeout ? { timeout: o.timeout as number } : {}),
    });
    if (o.wait === false) return void console.log(eval_id);
    const done = o.json ? await crucible.wait(eval_id) : await follow(crucible, eval_id);
    if (o.json) console.log(JSON.stringify(done, null, 2));
    else if (done.status !== 'completed')
      console.error(
        `${eval_id}: ${done.status}${done.termination_reason ? ` (${done.termination_reason})` : ''}`,
      );
    process.exitCode = exitCodeOf(done);
  });

program
  .command('status')
  .description('the status of an evaluation')
  .argument('<id>')
  .option('--json', 'as JSON')
  .action(async (id: string, o: { json?: boolean }) => {
    const s = await client().status(id);
    if (o.json) return void console.log(JSON.stringify(s, null, 2));
    console.log(`${s.eval_id}  ${s.status}${s.exit_code === null ? '' : `  exit ${s.exit_code}`}`);
    if (s.output) process.stdout.write(s.output);
  });

program
  .command('watch')
  .description('follow one evaluation to its end, or (admins) every evaluation as it moves')
  .argument('[id]')
  .action(async (id: string | undefined) => {
    const crucible = client();
    if (id) return void (process.exitCode = exitCodeOf(await follow(crucible, id)));
    const o = program.opts<{ url: string; apiKey?: string }>();
    const key = o.apiKey ? `&api_key=${encodeURIComponent(o.apiKey)}` : '';
    const ws = new WebSocket(`${o.url.replace(/^http/, 'ws')}/ws?all=true${key}`);
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as {
        type: string;
        eval_id?: string;
        status?: string;
        message?: string;
      };
      if (m.type === 'event') console.log(`${m.eval_id}  ${m.status}`);
      if (m.type === 'error') console.error(`error: ${m.message}`);
    });
    await new Promise<void>((resolve, reject) => {
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
  });

const keys = program.command('keys').description('manage API keys (needs an admin key)');
keys.command('list').action(async () => {
  const { data, error, response } = await client().api.GET('/api/admin/keys');
  if (error || !data) throw new CrucibleProblem(error ?? {}, response.status);
  for (const k of data.keys)
    console.log(
      `${k.id}  ${k.prefix}  ${k.owner}  ${k.scopes.join(',')}${k.revoked_at ? '  revoked' : ''}`,
    );
});
keys
  .command('create')
  .argument('<owner>')
  .option('--scope <scope...>', 'its scopes', ['evaluations:read', 'evaluations:write'])
  .option('--name <name>')
  .action(async (owner: string, o: { scope: string[]; name?: string }) => {
    const { data, error, response } = await client().api.POST('/api/admin/keys', {
      body: { owner, scopes: o.scope as never, ...(o.name ? { name: o.name } : {}) },
    });
    if (error || !data) throw new CrucibleProblem(error ?? {}, response.status);
    console.log(`${data.id}  ${data.secret}`);
    console.error('the secret is shown this once');
  });
keys
  .command('revoke')
  .argument('<key-id>')
  .action(async (id: string) => {
    const { error, response } = await client().api.DELETE('/api/admin/keys/{key_id}', {
      params: { path: { key_id: id } },
    });
    if (error) throw new CrucibleProblem(error, response.status);
    console.log(`${id} revoked`);
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof CrucibleProblem) {
    console.error(`error: ${err.detail} (${err.code}, HTTP ${err.status})`);
    for (const i of err.errors) console.error(`  ${i.in} ${i.pointer || '/'}: ${i.message}`);
  } else console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
}
