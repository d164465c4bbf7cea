import type { components } from './api.js';

type EvaluationStatus = components['schemas']['EvaluationStatus'];

/** What `GET /api/eval/{eval_id}/events` sends, typed (the spec describes it in words). */
export type EvaluationEvent =
  /** The evaluation when the stream opened, then each later step (`{eval_id, status}`). */
  | {
      event: 'status';
      data: Pick<EvaluationStatus, 'eval_id' | 'status'> & Partial<EvaluationStatus>;
    }
  /** A chunk the program printed; `id` resumes after it. */
  | {
      event: 'output';
      id: string;
      data: { stream: 'stdout' | 'stderr'; data: string; offset: number };
    }
  /** The finished evaluation; nothing follows. */
  | { event: 'end'; data: EvaluationStatus };

/** Parses one Server-Sent Events frame; undefined for comments and frames without an event. */
function parse(frame: string): EvaluationEvent | undefined {
  const fields: Record<string, string> = {};
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue;
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).replace(/^ /, '');
  }
  if (!fields.event || fields.data === undefined) return undefined;
  return {
    event: fields.event,
    ...(fields.id ? { id: fields.id } : {}),
    data: JSON.parse(fields.data) as unknown,
  } as EvaluationEvent;
}

/** The events of one open stream, as they come. */
export async function* readEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<EvaluationEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
      let cut;
      while ((cut = buffered.indexOf('\n\n')) >= 0) {
        const event = parse(buffered.slice(0, cut));
        buffered = buffered.slice(cut + 2);
        if (event) yield event;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}
