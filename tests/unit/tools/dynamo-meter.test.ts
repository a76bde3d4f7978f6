import {
  askForCapacity,
  diffDynamoUsage,
  emptyDynamoUsage,
  recordCall,
} from '../../../local/tools/dynamo-meter';

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('asking dynalite for consumed capacity', () => {
  it('adds ReturnConsumedCapacity TOTAL to reads and writes', () => {
    const asked = JSON.parse(askForCapacity('UpdateItem', body({ TableName: 'orders' })).toString());
    expect(asked).toEqual({ TableName: 'orders', ReturnConsumedCapacity: 'TOTAL' });
  });

  it('leaves alone calls that cannot carry it, and callers that already asked', () => {
    const describe = body({ TableName: 'orders' });
    expect(askForCapacity('DescribeTable', describe)).toBe(describe);
    const indexes = body({ TableName: 'orders', ReturnConsumedCapacity: 'INDEXES' });
    expect(askForCapacity('GetItem', indexes)).toBe(indexes);
  });
});

describe('recording calls', () => {
  it('adds read and write units from the answers, batch answers included', () => {
    const usage = emptyDynamoUsage();
    recordCall(usage, 'GetItem', 200, JSON.stringify({ ConsumedCapacity: { CapacityUnits: 0.5 } }));
    recordCall(usage, 'UpdateItem', 200, JSON.stringify({ ConsumedCapacity: { CapacityUnits: 2 } }));
    recordCall(
      usage,
      'BatchGetItem',
      200,
      JSON.stringify({ ConsumedCapacity: [{ CapacityUnits: 1 }, { CapacityUnits: 1.5 }] }),
    );
    expect(usage).toEqual({
      calls: 3,
      byOperation: { GetItem: 1, UpdateItem: 1, BatchGetItem: 1 },
      readUnits: 3,
      writeUnits: 2,
      conditionalFailures: 0,
    });
  });

  it('charges a failed conditional write one write unit; other errors nothing', () => {
    const usage = emptyDynamoUsage();
    const failed = JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
    });
    recordCall(usage, 'PutItem', 400, failed);
    recordCall(usage, 'GetItem', 400, JSON.stringify({ __type: 'ResourceNotFoundException' }));
    expect(usage).toMatchObject({ calls: 2, writeUnits: 1, readUnits: 0, conditionalFailures: 1 });
  });

  it('diffs two readings per operation', () => {
    const before = { ...emptyDynamoUsage(), calls: 2, byOperation: { GetItem: 2 }, readUnits: 1 };
    const after = {
      ...emptyDynamoUsage(),
      calls: 5,
      byOperation: { GetItem: 3, PutItem: 2 },
      readUnits: 1.5,
      writeUnits: 2,
    };
    expect(diffDynamoUsage(after, before)).toEqual({
      calls: 3,
      byOperation: { GetItem: 1, PutItem: 2 },
      readUnits: 0.5,
      writeUnits: 2,
      conditionalFailures: 0,
    });
  });
});
