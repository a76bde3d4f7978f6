/**
 * The console for an e2e run: its endpoints for whichever target the run has (E2E_TARGET), read
 * from that target's stack facts as `npm run console -- --stage NAME` reads them.
 */
import { type ConsoleEndpoints, endpointsFrom } from '../../local/console/endpoints';
import { TARGET, type TestCloud } from './local-cloud';

export function consoleEndpointsOf(target: TestCloud): ConsoleEndpoints {
  const stage = TARGET.kind === 'stack' ? TARGET.stage : 'local';
  const resources = ['OrdersTable', 'StoresTable', 'OrderWorkflow', 'OrderPrepare', 'OrderFinish'];
  return endpointsFrom(
    {
      stackName: `order-middleware-${stage}`,
      outputs: {
        HttpApiUrl: target.httpUrl,
        PartnerSimulatorUrl: target.partnerUrl,
        PosSimulatorUrl: target.posUrl,
      },
      resources: Object.fromEntries(resources.map((id) => [id, target.resource(id)])),
    },
    {
      stage,
      region: target.aws.region,
      ...(target.aws.endpoint && { awsEndpoint: target.aws.endpoint }),
      ...(target.aws.credentials && { credentials: target.aws.credentials }),
    },
  );
}
