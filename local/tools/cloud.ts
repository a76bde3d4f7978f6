/**
 * The local cloud as the tools run it: in this process, on free loopback ports, with its own data
 * folder, the partner and POS simulators, a timing proxy in front of the HTTP API (webhook
 * acknowledgements as the partner sees them) and, when asked, a metering proxy in front of dynalite
 * (the DynamoDB calls the functions make). Stopped and cleaned up by `stop()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type LocalCloud, REGION, startLocalCloud } from '../cloud/index';
import { packagedStack } from '../cloud/package-cache';
import { apiUrlParameters, seedDemoStores } from '../seed';
import { type PartnerSimulator, startPartnerSimulator } from '../simulators/partner/index';
import { type PosSimulator, startPosSimulator } from '../simulators/pos/index';
import { type DynamoMeter, startDynamoMeter } from './dynamo-meter';
import { type RecordingProxy, startRecordingProxy } from './proxy';

export interface ToolCloud {
  cloud: LocalCloud;
  partner: PartnerSimulator;
  pos: PosSimulator;
  partnerUrl: string;
  posUrl: string;
  /** Acknowledgement times (ms) of new-order webhooks, in arrival order. */
  webhookAcks: number[];
  /** Every request the partner made to the HTTP API. */
  apiRequests: () => number;
  /** Present when started with `meterDynamo`. */
  dynamoMeter?: DynamoMeter;
  /** A client straight to dynalite (not metered). */
  dynamo: DynamoDBClient;
  ordersTable: string;
  storesTable: string;
  /** Stops and starts the local cloud and both simulators on their data, as a restart of `npm start`. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ToolCloudOptions {
  /** Route the functions' DynamoDB calls through the metering proxy. */
  meterDynamo?: boolean;
  /** Print the functions' log lines (noisy). */
  logs?: boolean;
  seed?: number;
}

/** Below the kernel's ephemeral range (32768–60999 on Linux): no port-0 listener or outgoing connection takes these. */
const PORT_RANGE = { from: 20_000, to: 32_767 };
/** How long a port handed out is kept from every other process: far longer than any start takes to bind it. */
const PORT_LEASE_MS = 10 * 60_000;

/**
 * A port that is free and stays free until its server binds it. A port found free with port 0 and
 * let go at once could be taken in between by any port-0 listener or outgoing connection; these
 * come from outside the ephemeral range instead, and each is leased to this process with an
 * exclusive file in the temp folder, so no other tool cloud or test picks it for ten minutes.
 */
async function freePort(): Promise<number> {
  const leases = path.join(os.tmpdir(), 'order-middleware-port-leases');
  mkdirSync(leases, { recursive: true });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from + 1));
    const lease = path.join(leases, String(port));
    try {
      if (Date.now() - statSync(lease).mtimeMs < PORT_LEASE_MS) continue;
      rmSync(lease, { force: true });
    } catch {
      // No lease yet.
    }
    try {
      writeFileSync(lease, String(process.pid), { flag: 'wx' });
    } catch {
      continue; // another process leased it just now
    }
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.from}-${PORT_RANGE.to}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const NEW_ORDER_WEBHOOK = /^\/webhooks\/[^/]+\/orders$/;

export async function startToolCloud(options: ToolCloudOptions = {}): Promise<ToolCloud> {
  const packageDir = await packagedStack();
  // Outside .local/, so a tool run and `npm start` in the same checkout never share data.
  const dataDir = path.join(os.tmpdir(), `order-middleware-tools-${randomUUID().slice(0, 8)}`);
  const webhookAcks: number[] = [];
  let apiRequests = 0;
  const httpProxy: RecordingProxy = await startRecordingProxy({
    onExchange: ({ method, path: route, ms }) => {
      apiRequests += 1;
      if (method === 'POST' && NEW_ORDER_WEBHOOK.test(route)) webhookAcks.push(ms);
    },
  });
  const dynamoMeter = options.meterDynamo ? await startDynamoMeter() : undefined;
  // Fixed ports and a data folder of their own, so a restart finds the simulators where it left them.
  const [posPort, partnerPort] = [await freePort(), await freePort()];
  const startPos = (fresh: boolean) =>
    startPosSimulator({ port: posPort, seed: options.seed, dataDir, fresh });
  const startPartner = (fresh: boolean) =>
    startPartnerSimulator({
      port: partnerPort,
      middlewareUrl: httpProxy.url,
      menuSource: 'static', // no GET /stores per order: the runs measure the middleware, not the simulator
      seed: options.seed,
      dataDir,
      fresh,
    });
  const [http, aws] = [await freePort(), await freePort()];
  const startCloud = (fresh: boolean) =>
    startLocalCloud({
      packageDir,
      dataDir,
      fresh,
      ports: { http, aws },
      ssmParameters: apiUrlParameters('local', {
        partnerUrl: `http://127.0.0.1:${partnerPort}`,
        posUrl: `http://127.0.0.1:${posPort}`,
      }),
      environmentOverrides: {
        ...(dynamoMeter && { AWS_ENDPOINT_URL_DYNAMODB: dynamoMeter.url }),
      },
      log: options.logs ? (fn, line) => console.error(fn, line) : undefined,
    });
  // The cloud first: a fresh start empties the data folder the simulators then write to.
  let cloud = await startCloud(true);
  httpProxy.setTarget(cloud.httpUrl);
  let pos = await startPos(true);
  let partner = await startPartner(true);
  dynamoMeter?.setTarget(cloud.dynamodbEndpoint);
  const tableName = (logicalId: string) => {
    const table = cloud.model.tables.find((t) => t.logicalId === logicalId);
    if (!table) throw new Error(`The template has no ${logicalId}`);
    return table.name;
  };
  const storesTable = tableName('StoresTable');
  await seedDemoStores(cloud.dynamodbEndpoint, storesTable);
  const dynamoClient = () =>
    new DynamoDBClient({
      endpoint: cloud.dynamodbEndpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  // dynalite comes back on another port after a restart: the client follows it.
  let dynamo = dynamoClient();
  return {
    get cloud() {
      return cloud;
    },
    get partner() {
      return partner;
    },
    get pos() {
      return pos;
    },
    partnerUrl: partner.url,
    posUrl: pos.url,
    webhookAcks,
    apiRequests: () => apiRequests,
    dynamoMeter,
    get dynamo() {
      return dynamo;
    },
    ordersTable: tableName('OrdersTable'),
    storesTable,
    async restart() {
      await Promise.all([partner.close(), pos.close()]);
      await cloud.close();
      cloud = await startCloud(false);
      httpProxy.setTarget(cloud.httpUrl);
      dynamoMeter?.setTarget(cloud.dynamodbEndpoint);
      dynamo.destroy();
      dynamo = dynamoClient();
      [pos, partner] = [await startPos(false), await startPartner(false)];
    },
    async stop() {
      await Promise.allSettled([partner.close(), pos.close()]);
      await cloud.close();
      await Promise.allSettled([httpProxy.close(), dynamoMeter?.close()]);
      dynamo.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
