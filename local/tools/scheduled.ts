/**
 * The stack's scheduled functions, run now in a local cloud this process started — what their
 * EventBridge minute would do, for the tests and tools that do not wait for it.
 */
import type { LocalCloud } from '../cloud/index';

export async function runScheduledFunctionIn<T>(cloud: LocalCloud, logicalId: string, event: unknown = {}) {
  const fn = cloud.model.functions.find((f) => f.logicalId === logicalId);
  if (!fn) throw new Error(`no ${logicalId} in the template`);
  const result = await cloud.lambda.invoke(fn.name, event);
  if (result.error) throw new Error(`${fn.name} failed: ${JSON.stringify(result.error)}`);
  return result.payload as T;
}

/** Expiries, the POS health probe and the partner re-sync sweep (`storeSchedules`). */
export const runStoreSchedulesIn = <T = unknown>(cloud: LocalCloud) =>
  runScheduledFunctionIn<T>(cloud, 'StoreSchedulesLambdaFunction');
