import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { CLOSE_GOING_AWAY, Connection, message } from './ws-connection.js';
import type { components } from '../generated/types/events.js';
import type { Channel, OutputEvent } from '../clients/event-bus.js';
import { isAfter, stateOfEvent } from '../core/lifecycle.js';
import { isGatewayError } from '../lib/errors.js';
import { describeErrors, schemaValidator } from '../lib/validators.js';
import { fromRecord, lookup } from '../handlers/evaluation-lookup.js';
import { statusView } from '../handlers/views.js';
import type { Deps } from '../handlers/types.js';
import { isAdmin } from '../core/identity.js';
import type { Identity } from '../core/identity.js';

type S = components['schemas'];
type ClientMessage = S['ClientMessage'];
type ErrorCode = S['ErrorMessage']['code'];

export interface WsOptions {
  heartbeatMs: number;
  maxSubscriptions: number;
  maxMessageBytes: number;
  /** A client whose unsent data passes this is disconnected (1013) rather than buffered. */
  maxBufferedBytes: number;
}

export interface WsServer {
  /** Connections open now. */
  readonly clients: number;
  /** Messages sent and received since start. */
  readonly sent: number;
  readonly received: number;
  close(): Promise<void>;
}

const validateClient = schemaValidator('events_ClientMessage');
const validateSubscribe = schemaValidator('events_SubscribeMessage');

/**
 * `WS /ws`: lifecycle events relayed from the event bus (Redis `evaluation:*` when configured, so
 * any gateway instance serves any client), each subscription answered first with the current
 * status of its evaluation. Every message either way is checked against spec/events.yaml.
 */
export function attachWebSocket(
  server: http.Server,
  deps: Deps,
  opts: WsOptions,
  authorized: (req: http.IncomingMessage, url: URL) => Promise<Identity | null>,
): WsServer {
  const { logger } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes });
  const all = new Set<Connection>();
  const following = new Set<Connection>();
  const byId = new Map<string, Set<Connection>>();

  const error = (c: Connection, code: ErrorCode, text: string, evalId?: string): void =>
    c.send(message({ type: 'error', code, message: text, ...(evalId ? { eval_id: evalId } : {}) }));

  const relay = (channel: Channel, payload: unknown): void => {
    const p = payload as { eval_id?: string; status?: string };
    if (!p.eval_id || (following.size === 0 && !byId.has(p.eval_id))) return;
    if (channel === 'evaluation:output') return relayOutput(payload as OutputEvent);
    const status = stateOfEvent(channel, p);
    if (!status) return;
    let text: Buffer;
    try {
      // Encoded once for every client that gets it.
      text = Buffer.from(
        message({
          type: 'event',
          eval_id: p.eval_id,
          status,
          channel,
          payload: p,
          time: new Date().toISOString(),
        }),
      );
    } catch (err) {
      logger.warn({ err, channel }, 'event not relayed');
      return;
    }
    for (const c of following) c.deliver(p.eval_id, text);
    for (const c of byId.get(p.eval_id) ?? []) if (!c.all) c.deliver(p.eval_id, text);
  };
  const outputMessage = (o: OutputEvent): string =>
    message({
      type: 'output',
      eval_id: o.eval_id,
      id: o.id!,
      stream: o.stream,
      data: o.data,
      offset: o.offset,
      time: new Date().toISOString(),
    });
  // Output goes to those who follow the evaluation by id (not to `all`: every program's output).
  const relayOutput = (o: OutputEvent): void => {
    const set = byId.get(o.eval_id);
    if (!set || !o.id) return;
    const text = Buffer.from(outputMessage(o));
    for (const c of set) c.deliver(o.eval_id, text, o.id);
  };
  // The bus is followed only while someone is connected, so a gateway without WebSocket clients
  // does not receive every event of the platform.
  let unsubscribeFromBus: (() => void) | undefined;
  const follow = async (): Promise<void> => {
    if (unsubscribeFromBus) return;
    unsubscribeFromBus = deps.events.subscribe(relay);
    await deps.events.subscribed();
  };
  const unfollow = (): void => {
    if (all.size > 0 || !unsubscribeFromBus) return;
    unsubscribeFromBus();
    unsubscribeFromBus = undefined;
  };

  async function snapshot(c: Connection, id: string): Promise<void> {
    let lastOutput: string | undefined;
    try {
      const { stored, record } = await lookup(deps, id, c.who, undefined);
      const evaluation = statusView(stored ?? fromRecord(record!));
      c.send(
        message({
          type: 'snapshot',
          eval_id: id,
          status: evaluation.status,
          evaluation,
          time: new Date().toISOString(),
        }),
      );
      // The output kept so far, then (below) what came meanwhile, each chunk once.
      const kept = await deps.events.history(id).catch((err: unknown) => {
        logger.warn({ err, eval_id: id }, 'output kept so far unavailable');
        return [];
      });
      for (const o of kept) {
        c.send(outputMessage(o));
        lastOutput = o.id;
      }
    } catch (err) {
      const missing = isGatewayError(err) && err.code === 'GW_ERR_EVALUATION_NOT_FOUND';
      // Unknown, or another owner's: nothing of it is relayed.
      if (missing && c.who.via.kind !== 'open') drop(c, id);
      error(
        c,
        missing ? 'GW_ERR_EVALUATION_NOT_FOUND' : 'GW_ERR_DOWNSTREAM_UNAVAILABLE',
        isGatewayError(err) ? err.message : 'status unavailable',
        id,
      );
    } finally {
      for (const { text, outputId } of c.held.get(id) ?? [])
        if (!outputId || !lastOutput || isAfter(outputId, lastOutput)) c.send(text);
      c.held.delete(id);
    }
  }

  function drop(c: Connection, id: string): void {
    c.ids.delete(id);
    const set = byId.get(id);
    set?.delete(c);
    if (set?.size === 0) byId.delete(id);
  }

  function subscribe(c: Connection, ids: string[], everything: boolean): void {
    // Every event of every owner is for admins (and for a gateway that runs open).
    if (everything && c.who.via.kind !== 'open' && !isAdmin(c.who)) {
      error(c, 'GW_ERR_FORBIDDEN', '`all` needs the admin scope; follow evaluations by id');
      return;
    }
    const fresh = [...new Set(ids)].filter((id) => !c.ids.has(id));
    if (c.ids.size + fresh.length > opts.maxSubscriptions) {
      error(
        c,
        'GW_ERR_WS_TOO_MANY_SUBSCRIPTIONS',
        `at most ${opts.maxSubscriptions} evaluations per connection; this one follows ${c.ids.size}`,
      );
      return;
    }
    for (const id of fresh) {
      c.ids.add(id);
      c.held.set(id, []);
      let set = byId.get(id);
      if (!set) byId.set(id, (set = new Set()));
      set.add(c);
    }
    if (everything) {
      c.all = true;
      following.add(c);
    }
    c.send(message({ type: 'subscribed', eval_ids: [...c.ids], all: c.all }));
    for (const id of fresh) void snapshot(c, id);
  }

  function unsubscribe(c: Connection, ids: string[] | undefined, everything: boolean): void {
    for (const id of ids ?? (everything ? [...c.ids] : [])) {
      drop(c, id);
      c.held.delete(id);
    }
    if (everything) {
      c.all = false;
      following.delete(c);
    }
    c.send(message({ type: 'subscribed', eval_ids: [...c.ids], all: c.all }));
  }

  /** Messages since start, over every connection. */
  const counts = { sent: 0, received: 0 };

  function onMessage(c: Connection, data: Buffer, isBinary: boolean): void {
    counts.received++;
    let m: unknown;
    try {
      m = JSON.parse(data.toString('utf8'));
    } catch {
      error(c, 'GW_ERR_WS_BAD_MESSAGE', `messages are JSON text${isBinary ? ', not binary' : ''}`);
      return;
    }
    if (!validateClient(m)) {
      error(
        c,
        'GW_ERR_WS_BAD_MESSAGE',
        `not a subscribe, unsubscribe or ping message: ${describeErrors(validateClient.errors)}`,
      );
      return;
    }
    const msg = m as ClientMessage;
    if (msg.type === 'ping')
      c.send(
        message({
          type: 'pong',
          ...(msg.id ? { id: msg.id } : {}),
          time: new Date().toISOString(),
        }),
      );
    else if (msg.type === 'subscribe') subscribe(c, msg.eval_ids ?? [], msg.all ?? false);
    else unsubscribe(c, msg.eval_ids, msg.all ?? false);
  }

  function onConnection(ws: WebSocket, url: URL, who: Identity): void {
    const c = new Connection(ws, opts.maxBufferedBytes, who, counts);
    all.add(c);
    // Messages wait until the bus subscription is in place, so that no event falls between a
    // snapshot and the stream after it; they keep their order.
    const ready = follow();
    ws.on('pong', () => (c.alive = true));
    ws.on(
      'message',
      (data: Buffer, isBinary: boolean) => void ready.then(() => onMessage(c, data, isBinary)),
    );
    ws.on('error', (err) => logger.debug({ err }, 'websocket error'));
    ws.on('close', () => {
      all.delete(c);
      unsubscribe(c, undefined, true);
      unfollow();
    });
    const ids = url.searchParams.get('eval_id')?.split(',').filter(Boolean) ?? [];
    const everything = url.searchParams.get('all') === 'true';
    if (ids.length || everything) {
      const request = {
        type: 'subscribe',
        ...(ids.length ? { eval_ids: ids } : {}),
        all: everything,
      };
      void ready.then(() => {
        if (validateSubscribe(request)) subscribe(c, ids, everything);
        else
          error(
            c,
            'GW_ERR_WS_BAD_MESSAGE',
            `eval_id in the URL: ${describeErrors(validateSubscribe.errors)}`,
          );
      });
    }
  }

  // Liveness: each tick reaps a connection that did not answer the previous ping, pings the
  // rest and sends the heartbeat message.
  const timer = setInterval(() => {
    const beat = message({ type: 'heartbeat', time: new Date().toISOString() });
    for (const c of all) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
      c.send(beat);
    }
  }, opts.heartbeatMs);
  timer.unref();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const refuse = (status: number, reason: string): void => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    void authorized(req, url).then(
      (who) => {
        if (!who) return refuse(401, 'Unauthorized');
        wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, url, who));
      },
      () => refuse(503, 'Service Unavailable'),
    );
  };
  server.on('upgrade', onUpgrade);

  return {
    get clients() {
      return all.size;
    },
    get sent() {
      return counts.sent;
    },
    get received() {
      return counts.received;
    },
    close() {
      clearInterval(timer);
      unsubscribeFromBus?.();
      server.off('upgrade', onUpgrade);
      for (const c of all) c.ws.close(CLOSE_GOING_AWAY, 'gateway shutting down');
      return new Promise((resolve) => {
        setTimeout(() => {
          for (const c of all) c.ws.terminate();
          wss.close(() => resolve());
        }, 100).unref();
      });
    },
  };
}
