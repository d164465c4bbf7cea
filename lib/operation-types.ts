/**
 * Types of one operation of any spec, from the `operations` interface openapi-typescript
 * generates: what a handler receives and the answers the spec allows it.
 */

import type { ReplyStream } from './http/reply-stream.js';

interface OperationShape {
  parameters: { query?: unknown; path?: unknown; header?: unknown; cookie?: unknown };
  responses: object;
}

export type BodyOf<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : Op extends { requestBody?: { content: { 'application/json': infer B } } }
    ? B | undefined
    : undefined;
export type PathOf<Op extends OperationShape> = NonNullable<Op['parameters']['path']>;
export type QueryOf<Op extends OperationShape> = NonNullable<Op['parameters']['query']>;

type ContentOf<R> = R extends { content: infer C } ? C : never;

/** One answer the spec allows: a status it lists and, when that status has one, its body. */
export type ReplyOf<Op extends OperationShape> = {
  [S in keyof Op['responses'] & number]: [ContentOf<Op['responses'][S]>] extends [never]
    ? { status: S; body?: undefined; headers?: Record<string, string> }
    : {
        [T in keyof ContentOf<Op['responses'][S]> & string]: {
          status: S;
          contentType?: T;
          // An event stream is written as it comes.
          body: T extends 'text/event-stream' ? ReplyStream : ContentOf<Op['responses'][S]>[T];
          headers?: Record<string, string>;
        };
      }[keyof ContentOf<Op['responses'][S]> & string];
}[keyof Op['responses'] & number];

/** Any operation's reply, as a listener writes it. */
export interface AnyReply {
  status: number;
  contentType?: string;
  body?: unknown;
  headers?: Record<string, string>;
}
