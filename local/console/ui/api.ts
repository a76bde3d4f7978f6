/**
 * The console server's JSON API as the pages see it (the contract in ARCHITECTURE §7 and the
 * console brief): typed shapes and one `call` that never throws on an HTTP error, because most pages
 * show the answer — status and body — to the operator as it came.
 */
import type { AslDefinition } from './asl-graph';

export interface ConsoleConfig {
  stage: string;
  httpApiUrl: string;
  partnerSimulatorUrl?: string;
  posSimulatorUrl?: string;
  partners: string[];
  statuses: string[];
}

export interface OrderRow {
  orderId: string;
  partner: string;
  partnerOrderId: string;
  storeId: string;
  status: string;
  total?: number;
  createdAt: string;
  updatedAt: string;
}

export interface OrderPage {
  orders: OrderRow[];
  cursor?: string;
  counts: Record<string, number>;
}

export interface TimelineEntry {
  at: string;
  event: string;
  detail?: string;
}

export interface OrderItem {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
  modifiers?: { name: string; price: number }[];
  notes?: string;
}

export interface OrderView {
  orderId: string;
  partner: string;
  partnerOrderId: string;
  storeId: string;
  status: string;
  items: OrderItem[];
  total: number;
  posReference?: string;
  denyReason?: string;
  pickupAt?: string;
  timeline: TimelineEntry[];
}

export interface ExecutionEvent {
  id: number;
  previousEventId?: number;
  timestamp: string;
  type: string;
  stateName?: string;
  error?: string;
  cause?: string;
}

export interface Execution {
  role: 'workflow' | 'prepare' | 'finish';
  type: 'STANDARD' | 'EXPRESS';
  executionArn: string;
  stateMachineArn: string;
  status: string;
  startDate: string;
  stopDate?: string;
  definition: AslDefinition;
  events: ExecutionEvent[];
  path: string[];
  currentState?: string;
  failedState?: string;
  source: 'history' | 'logs';
  /** Why there are no events (an Express machine that does not log its executions, say). */
  eventsUnavailable?: string;
}

export interface OrderDetail {
  order: OrderView;
  executions: Execution[];
  busEvents: { detailType: string; time: string; detail: unknown }[];
  logs: { timestamp: string; functionName: string; level: string; message: string }[];
}

export interface MenuItem {
  sku: string;
  name: string;
  price: number;
  available: boolean;
  until?: string;
}

export interface Store {
  storeId: string;
  name: string;
  status: 'online' | 'paused' | 'offline';
  reason?: string;
  until?: string;
  changedBy?: string;
  version?: number;
  busy?: { extraPrepMinutes: number; until?: string };
  throttle?: { ordersPerWindow: number; windowMinutes: number };
  menu: MenuItem[];
}

export interface PartnerStoreView {
  partnerStoreId: string;
  status: string;
  pausedUntil?: string;
  extraPrepMinutes?: number;
  unavailableItems: string[];
  updates?: unknown[];
}

export interface StoreDetail {
  store: Store;
  partners: { storeId: string; partners: Record<string, PartnerStoreView> } | null;
}

/** An answer as it came: the HTTP status and the parsed body (or the text, when it is not JSON). */
export interface Answer<T = unknown> {
  ok: boolean;
  status: number;
  body: T;
}

/** A read gives up sooner than a change, which may take as long as the HTTP API allows (30 s: a redrive). */
const READ_TIMEOUT_MS = 15_000;
const CHANGE_TIMEOUT_MS = 35_000;

export async function call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  try {
    const response = await fetch(path, {
      method,
      // A call the server never answers becomes an error the page shows, and a refreshing page retries.
      signal: AbortSignal.timeout(method === 'GET' ? READ_TIMEOUT_MS : CHANGE_TIMEOUT_MS),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text, shown as it came
    }
    return { ok: response.ok, status: response.status, body: parsed as T };
  } catch (error) {
    // The console server itself is unreachable: shown like an answer so the page says why.
    return { ok: false, status: 0, body: { error: { code: 'NETWORK', message: String(error) } } as T };
  }
}

/** `{"error":{"code","message"}}` (ours) or an API Gateway `{"message"}` as one line of text. */
export function errorText(answer: Answer): string {
  const body = answer.body as { error?: { code?: string; message?: string }; message?: string } | undefined;
  if (body?.error) return `${body.error.code ?? 'ERROR'}: ${body.error.message ?? ''}`;
  if (body?.message) return body.message;
  return typeof answer.body === 'string' && answer.body ? answer.body : `HTTP ${answer.status}`;
}

/** A query string from the filters that are set. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

let configAnswer: Promise<ConsoleConfig> | undefined;

/** The console's configuration, read once per page load. */
export function config(): Promise<ConsoleConfig> {
  configAnswer ??= call<ConsoleConfig>('GET', '/api/config').then((answer) => {
    if (!answer.ok) throw new Error(errorText(answer));
    return answer.body;
  });
  return configAnswer;
}
