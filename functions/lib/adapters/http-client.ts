/** A JSON call to a system that is not ours (POS, partner API), with a timeout. */
export interface JsonCall {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/** Network errors and timeouts come back as status 0 so callers map every outage one way. */
export async function callJson({
  method,
  url,
  headers = {},
  body,
  timeoutMs = 5000,
}: JsonCall): Promise<JsonAnswer> {
  try {
    const response = await fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the error message.
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return { status: 0, body: { error: { code: 'NETWORK', message: (error as Error).message } } };
  }
}

/** 5xx, 429 and network failures are worth a retry; other 4xx are our mistake or a business answer. */
export function isRetryable(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}
