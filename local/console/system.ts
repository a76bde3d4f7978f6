/**
 * The system as the console reaches it — only as a client would: the HTTP API signed with SigV4
 * (`execute-api`), the AWS SDK (Step Functions, CloudWatch Logs, DynamoDB for counts and the store
 * list) against the configured endpoint, and the simulators' `_control` APIs (signed too: on a
 * deployed stage they are IAM-authorized; locally the signature is ignored).
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { signedFetch } from '../cloud/sigv4';
import type { ConsoleEndpoints } from './endpoints';

/** An answer passed through: its status and its body (JSON when it was JSON, else the text). */
export interface Answer {
  status: number;
  body: unknown;
}

/** The system did not answer (refused, timed out): the console answers 502. */
export class Unreachable extends Error {}

const CALL_TIMEOUT_MS = 30_000;

export class ConsoleSystem {
  readonly sfn: SFNClient;
  readonly logs: CloudWatchLogsClient;
  readonly dynamo: DynamoDBClient;

  constructor(readonly endpoints: ConsoleEndpoints) {
    const common = {
      region: endpoints.region,
      ...(endpoints.awsEndpoint && { endpoint: endpoints.awsEndpoint }),
      ...(endpoints.credentials && { credentials: endpoints.credentials }),
    };
    this.sfn = new SFNClient(common);
    this.logs = new CloudWatchLogsClient(common);
    this.dynamo = new DynamoDBClient(common);
  }

  /** The HTTP API (IAM routes signed). `path` starts with `/`, query included. */
  api(method: string, path: string, body?: unknown): Promise<Answer> {
    return this.call(method, `${this.endpoints.httpApiUrl}${path}`, body);
  }

  /** A simulator's `_control` API; undefined when the stage has no such simulator (production). */
  simulator(
    which: 'partner' | 'pos',
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer> | undefined {
    const base = which === 'partner' ? this.endpoints.partnerSimulatorUrl : this.endpoints.posSimulatorUrl;
    return base === undefined ? undefined : this.call(method, `${base}${path}`, body);
  }

  /** Waits for the calls under way (a live feed's poll may be one), then lets the clients go. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    this.sfn.destroy();
    this.logs.destroy();
    this.dynamo.destroy();
  }

  private readonly inFlight = new Set<Promise<Answer>>();

  private call(method: string, url: string, body?: unknown): Promise<Answer> {
    const call = this.send(method, url, body);
    this.inFlight.add(call);
    void call.finally(() => this.inFlight.delete(call)).catch(() => {});
    return call;
  }

  private async send(method: string, url: string, body?: unknown): Promise<Answer> {
    // The standard chain's credentials, refreshed by the SDK; temporary ones come with a new key id.
    const credentials = this.endpoints.credentials ?? (await this.sfn.config.credentials());
    let response: Response;
    try {
      response = await signedFetch(
        url,
        {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        },
        { credentials, region: this.endpoints.region },
      );
    } catch (error) {
      throw new Unreachable(`${method} ${new URL(url).origin} did not answer: ${(error as Error).message}`);
    }
    const text = await response.text();
    return { status: response.status, body: parseOrText(text) };
  }
}

function parseOrText(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
