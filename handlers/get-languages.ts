import { DEFAULT_TIMEOUT, MAX_CODE_BYTES } from '../core/evaluation.js';
import type { Deps, Handler } from './types.js';

/** How long an executor's answer is used before it is asked again. */
const ASK_EVERY_MS = 30_000;
/** The spec's maximum of EvaluationRequest.timeout. */
const MAX_TIMEOUT_S = 300;

/**
 * `GET /api/languages`: the allowed languages with what the known executors report of them
 * (asked at most every 30 s, in parallel; one that does not answer is left out).
 */
export function getLanguages({ config, executors }: Deps): Handler<'getLanguages'> {
  type Answer = Awaited<ReturnType<typeof executors.languages>>;
  let cached: { at: number; answers: Answer[] } | undefined;
  const ask = async (): Promise<Answer[]> => {
    if (cached && Date.now() - cached.at < ASK_EVERY_MS) return cached.answers;
    const settled = await Promise.allSettled(executors.known.map((e) => executors.languages(e.id)));
    const answers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    cached = { at: Date.now(), answers };
    return answers;
  };
  return async () => {
    const answers = await ask();
    const languages = config.gateway.allowedLanguages.map((name) => {
      const serving = answers.flatMap((a) => a.languages.filter((l) => l.name === name));
      const versions = [...new Set(serving.flatMap((l) => (l.version ? [l.version] : [])))];
      return { name, versions: versions.sort(), executors: serving.length };
    });
    const { limits } = config;
    return {
      status: 200,
      body: {
        languages,
        limits: {
          timeout_default_s: DEFAULT_TIMEOUT,
          timeout_max_s: MAX_TIMEOUT_S,
          memory_mb: limits.memoryMb,
          output_bytes: limits.outputBytes,
          max_processes: limits.maxProcesses,
          stdin_bytes: MAX_CODE_BYTES,
        },
      },
    };
  };
}
