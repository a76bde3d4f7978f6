/**
 * What both Lambda simulators share: a payload-2.0 event from their HTTP API turned into a request
 * for the same route table the local processes serve, run on the state read from DynamoDB, and the
 * changed items written back (state-table.ts). A request that lost a race for an item runs again on
 * the fresher state — unless it already sent a webhook: then only the changes it made after sending
 * are applied again, so a partner never sends a webhook twice for one `_control` call.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  type Answer,
  errorBody,
  type IncomingRequest,
  json,
  RetryRequest,
  type Route,
  router,
} from '../shared/routes';
import type { Snapshot, StateTable } from './state-table';

/** What a model's state may ask of the invocation that holds it. */
export interface Hooks<S> {
  /** Writes the changes so far now (before a webhook leaves). */
  persist(): Promise<void>;
  /** Records a change made after a webhook left, to apply again on fresher state if need be. */
  amend(change: (state: S) => void): void;
}

/** How one simulator's state maps to items and routes. */
export interface SimulatorModel<S> {
  /** The state from its items (item key → JSON). */
  restore(items: ReadonlyMap<string, string>, hooks: Hooks<S>): S;
  /** The state as items; an item missing here is deleted. */
  items(state: S): Map<string, string>;
  routes(state: S): Promise<Route[]>;
}

/** Races lost in a row before the simulator answers 503 (a caller retries a 503 as any outage). */
const MAX_ATTEMPTS = 8;

const jsonOf = (snapshot: Snapshot) => new Map([...snapshot].map(([sk, { json }]) => [sk, json]));
const NO_HOOKS: Hooks<never> = { persist: async () => {}, amend: () => {} };

export async function serveRequest<S>(
  table: StateTable,
  model: SimulatorModel<S>,
  request: IncomingRequest,
): Promise<Answer> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    let read = await table.load();
    let sent = false;
    const amends: ((state: S) => void)[] = [];
    const hooks: Hooks<S> = {
      async persist() {
        read = await table.save(read, model.items(state));
        sent = true;
      },
      amend: (change) => amends.push(change),
    };
    const state: S = model.restore(jsonOf(read), hooks);
    let answer: Answer;
    try {
      answer = await router(await model.routes(state))(request);
    } catch (error) {
      // Only persist() throws it, before anything was sent: run the request again.
      if (error instanceof RetryRequest) continue;
      throw error;
    }
    try {
      await table.save(read, model.items(state));
      return answer;
    } catch (error) {
      if (!(error instanceof RetryRequest)) throw error;
      if (sent) return (await amendAfterSending(table, model, amends)) ?? answer;
    }
  }
  return json(503, errorBody('SIMULATOR_BUSY', 'the simulator lost too many races for its state; try again'));
}

/** The webhook went: its answer stands; the changes made after it are applied to the newest state. */
async function amendAfterSending<S>(
  table: StateTable,
  model: SimulatorModel<S>,
  amends: ((state: S) => void)[],
): Promise<Answer | undefined> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
    const read = await table.load();
    const state = model.restore(jsonOf(read), NO_HOOKS as Hooks<S>);
    for (const change of amends) change(state);
    try {
      await table.save(read, model.items(state));
      return undefined;
    } catch (error) {
      if (!(error instanceof RetryRequest)) throw error;
    }
  }
  return json(
    503,
    errorBody('SIMULATOR_BUSY', 'the webhook was sent, but what it changed could not be kept'),
  );
}

/** The request as the route table takes it (HTTP API payload 2.0: lower-cased headers, raw path). */
export function requestOf(event: APIGatewayProxyEventV2): IncomingRequest {
  const body = event.body ?? '';
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers: event.headers ?? {},
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
  };
}

/**
 * The answer for API Gateway. A lost answer (the POS's `dropResponseAfterWrite`) cannot drop a
 * connection here: it becomes the 504 API Gateway itself sends when an integration does not answer,
 * which tells the caller as little about the write as a dropped socket does.
 */
export function resultOf(answer: Answer): APIGatewayProxyStructuredResultV2 {
  if ('dropped' in answer) return jsonResult(504, { message: 'Endpoint request timed out' });
  if (answer.body === undefined) return { statusCode: answer.status };
  return jsonResult(answer.status, answer.body);
}

function jsonResult(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
