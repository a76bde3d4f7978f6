/** IAM least privilege, as a platform team reviewing the stack checks it. */
import {
  allRoleStatements,
  type CfnTemplate,
  getAtt,
  PACKAGING_TIMEOUT_MS,
  type PolicyStatement,
  packagedStack,
  ref,
  resource,
  resourcesOfType,
  roleStatements,
} from './packaged-stack';

let template: CfnTemplate;
let stage: string;

beforeAll(async () => {
  ({ template, stage } = await packagedStack());
}, PACKAGING_TIMEOUT_MS);

/** The middleware's tables, and the simulators' on a review stage. */
const TABLES = ['OrdersTable', 'StoresTable', 'IdempotencyTable', 'SimulatorsTable'];
const TABLE_ARNS = TABLES.map((id) => getAtt(id, 'Arn'));
/** An index of one of the stack's own tables: `!Sub '${Table.Arn}/index/name'`. */
const isOwnIndex = (target: unknown) =>
  TABLES.some((id) =>
    new RegExp(`^\\$\\{${id}\\.Arn\\}/index/[A-Za-z0-9_.-]+$`).test(
      String((target as { 'Fn::Sub'?: unknown })?.['Fn::Sub'] ?? ''),
    ),
  );
const SENSITIVE_SERVICES = ['dynamodb', 'events', 'states', 'ssm', 'sqs', 'lambda', 'kms'];
const serviceOf = (action: string) => action.split(':')[0] ?? '';

/**
 * serverless-step-functions grants `.sync` parents DescribeExecution/StopExecution on "*" when the
 * child is a `!Ref` (it cannot build an execution ARN from it). Checked separately below.
 */
const SYNC_EXECUTION_ACTIONS = ['states:DescribeExecution', 'states:StopExecution'];
const isSyncExecutionGrant = (roleId: string, action: string) =>
  roleId === 'OrderWorkflowRole' && SYNC_EXECUTION_ACTIONS.includes(action);

const allows = () => allRoleStatements(template).filter(([, s]) => s.Effect === 'Allow');

function functionsUsing(roleId: string): string[] {
  return resourcesOfType(template, 'AWS::Lambda::Function')
    .filter(([, fn]) => fn.Properties?.Role?.['Fn::GetAtt']?.[0] === roleId)
    .map(([id]) => id);
}

function actionsOn(roleId: string, resourceRef: unknown): string[] {
  return roleStatements(resource(template, roleId))
    .filter(
      (s) =>
        s.Effect === 'Allow' && s.Resource.some((r) => JSON.stringify(r) === JSON.stringify(resourceRef)),
    )
    .flatMap((s) => s.Action);
}

describe('IAM', () => {
  it('grants no wildcard actions: no "*", no "dynamodb:*", no "service:*"', () => {
    for (const [roleId, statement] of allows()) {
      for (const action of statement.Action) {
        expect({ roleId, action, wildcard: action.includes('*') }).toEqual({
          roleId,
          action,
          wildcard: false,
        });
      }
    }
  });

  it('grants no data or control-plane action on "Resource": "*"', () => {
    for (const [roleId, statement] of allows()) {
      if (!statement.Resource.includes('*')) continue;
      const sensitive = statement.Action.filter(
        (a) => SENSITIVE_SERVICES.includes(serviceOf(a)) && !isSyncExecutionGrant(roleId, a),
      );
      expect({ roleId, sensitive }).toEqual({ roleId, sensitive: [] });
    }
  });

  it('lets the workflow describe and stop only executions of its own children', () => {
    const grants = roleStatements(resource(template, 'OrderWorkflowRole')).filter((s: PolicyStatement) =>
      s.Action.some((a) => SYNC_EXECUTION_ACTIONS.includes(a)),
    );
    expect(grants.length).toBeGreaterThan(0);
    for (const grant of grants) expect(grant.Resource).not.toContain('*');
  });

  it('grants DynamoDB actions only on the stack’s own tables', () => {
    for (const [roleId, statement] of allows()) {
      if (!statement.Action.some((a) => serviceOf(a) === 'dynamodb')) continue;
      for (const target of statement.Resource) {
        expect({
          roleId,
          known:
            TABLE_ARNS.some((arn) => JSON.stringify(arn) === JSON.stringify(target)) || isOwnIndex(target),
        }).toEqual({
          roleId,
          known: true,
        });
      }
    }
  });

  it('lets only release, cancel (the partner’s and the operator’s) and wait-for-courier complete the workflow’s task token', () => {
    const tokenActions = ['states:SendTaskSuccess', 'states:SendTaskFailure'];
    expect(actionsOn('OrderCallbackRole', ref('OrderWorkflow'))).toEqual(
      expect.arrayContaining(tokenActions),
    );
    expect(actionsOn('OperatorOrdersRole', ref('OrderWorkflow')).sort()).toEqual([...tokenActions].sort());
    expect(functionsUsing('OrderCallbackRole').sort()).toEqual([
      'CancelOrderLambdaFunction',
      'ReleaseOrderLambdaFunction',
      'WaitForCourierLambdaFunction',
    ]);
    expect(functionsUsing('OperatorOrdersRole')).toEqual(['OperatorOrdersLambdaFunction']);
    for (const [roleId, statement] of allows()) {
      if (roleId === 'OrderCallbackRole' || roleId === 'OperatorOrdersRole') continue;
      expect(statement.Action.filter((a) => tokenActions.includes(a))).toEqual([]);
    }
  });

  it('lets the order reader only read orders, and the store manager only touch stores', () => {
    expect(actionsOn('ReadOrdersRole', getAtt('OrdersTable', 'Arn'))).toEqual(['dynamodb:GetItem']);
    const storeRoleTables = roleStatements(resource(template, 'StoresRole'))
      .filter((s) => s.Action.some((a) => a.startsWith('dynamodb:')))
      .flatMap((s) => s.Resource);
    expect(storeRoleTables).toEqual([getAtt('StoresTable', 'Arn')]);
  });

  it('lets the order list only query its three indexes: no GetItem, no Scan', () => {
    const statements = roleStatements(resource(template, 'ListOrdersRole')).filter((s) =>
      s.Action.some((a) => a.startsWith('dynamodb:')),
    );
    expect(statements.flatMap((s) => s.Action)).toEqual(['dynamodb:Query']);
    expect(statements.flatMap((s) => s.Resource)).toEqual(
      ['by-status', 'by-store', 'by-day'].map((index) => ({
        'Fn::Sub': `\${OrdersTable.Arn}/index/${index}`,
      })),
    );
  });

  it('lets only the dead-letter function read and delete queue messages, on the stack’s DLQs alone', () => {
    const readsMessages = ['sqs:ReceiveMessage', 'sqs:DeleteMessage'];
    const sqsGrants = allows().filter(([, s]) => s.Action.some((a) => readsMessages.includes(a)));
    expect([...new Set(sqsGrants.map(([roleId]) => roleId))]).toEqual(['DeadLettersRole']);
    const queues = resourcesOfType(template, 'AWS::SQS::Queue').map(([id]) => getAtt(id, 'Arn'));
    for (const [, statement] of sqsGrants) {
      expect(statement.Action.sort()).toEqual([
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]);
      // Every DLQ of the stack, and nothing else: a new queue needs its line here too.
      expect(statement.Resource.map((r) => JSON.stringify(r)).sort()).toEqual(
        queues.map((q) => JSON.stringify(q)).sort(),
      );
    }
  });

  it('keeps the idempotency table to the function that holds orders in the POS', () => {
    const withIdempotency = allows()
      .filter(([, s]) =>
        s.Resource.some((r) => JSON.stringify(r) === JSON.stringify(getAtt('IdempotencyTable', 'Arn'))),
      )
      .map(([roleId]) => roleId);
    expect([...new Set(withIdempotency)]).toEqual(['PosOrderRole']);
    expect(functionsUsing('PosOrderRole')).toContain('CreatePosOrderLambdaFunction');
  });

  it('reads secrets only under the stage’s own SSM prefix', () => {
    for (const [roleId, statement] of allows()) {
      if (!statement.Action.some((a) => serviceOf(a) === 'ssm')) continue;
      for (const target of statement.Resource) {
        const arn = JSON.stringify(target);
        expect({ roleId, arn, scoped: arn.includes(`:parameter/order-middleware/${stage}/`) }).toEqual({
          roleId,
          arn,
          scoped: true,
        });
      }
    }
  });

  it('lets no function but intake, the callbacks and the store changes publish, and only to the order bus', () => {
    const lambdaRoles = new Set(
      resourcesOfType(template, 'AWS::Lambda::Function').map(
        ([, fn]) => fn.Properties?.Role?.['Fn::GetAtt']?.[0],
      ),
    );
    const publishers = allows().filter(
      ([roleId, s]) => lambdaRoles.has(roleId) && s.Action.includes('events:PutEvents'),
    );
    expect([...new Set(publishers.map(([roleId]) => roleId))].sort()).toEqual([
      // an order failing POS_UNAVAILABLE counts toward POS health, which may pause its store
      'CompensationRole',
      // redrive: dead-lettered events back on the bus
      'DeadLettersRole',
      'OperatorOrdersRole',
      'OrderCallbackRole',
      'ReceiveOrderRole',
      'StoreSchedulesRole',
      'StoresRole',
    ]);
    for (const [, statement] of publishers) expect(statement.Resource).toEqual([getAtt('OrderBus', 'Arn')]);
  });

  it('names no IAM role longer than AWS allows, when roles are named at all', () => {
    for (const [roleId, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      const name = role.Properties?.RoleName;
      if (name !== undefined)
        expect({ roleId, length: String(name).length <= 64 }).toEqual({ roleId, length: true });
    }
  });
});
