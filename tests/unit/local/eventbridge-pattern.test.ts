import { AwsError } from '../../../local/cloud/aws-error';
import { compilePattern, matchesPattern, validatePattern } from '../../../local/cloud/eventbridge/pattern';

/** The EC2 sample event of the EventBridge docs and Event Ruler README, with the detail they match on. */
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...ec2Event, detail });

function invalidReason(pattern: unknown): string {
  try {
    validatePattern(pattern);
  } catch (error) {
    expect(error).toBeInstanceOf(AwsError);
    expect((error as AwsError).code).toBe('InvalidEventPatternException');
    return (error as AwsError).message;
  }
  throw new Error(`pattern was accepted: ${JSON.stringify(pattern)}`);
}

describe('exact values and structure', () => {
  it('matches the docs EC2 pattern on source, detail-type and a nested field', () => {
    const pattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['running'] },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'terminated' }))).toBe(false);
    expect(matchesPattern(pattern, { ...ec2Event, source: 'aws.fargate' })).toBe(false);
  });

  it('treats the pattern array as OR', () => {
    const pattern = { detail: { state: ['initializing', 'running'] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'initializing' }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'stopped' }))).toBe(false);
  });

  it('matches an event array when it intersects the pattern array', () => {
    const pattern = {
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000', 'other'],
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { ...ec2Event, resources: ['x', 'other'] })).toBe(true);
    expect(matchesPattern(pattern, { ...ec2Event, resources: ['x', 'y'] })).toBe(false);
    expect(matchesPattern(pattern, { ...ec2Event, resources: [] })).toBe(false);
  });

  it('requires every field named in the pattern (AND)', () => {
    const pattern = {
      source: ['aws.ec2'],
      detail: { 'instance-id': ['i-000000aaaaaa00000'], state: ['stopped'] },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(false);
    expect(matchesPattern(pattern, withDetail({ ...ec2Event.detail, state: 'stopped' }))).toBe(true);
  });

  it('is case-sensitive for strings and strict about types', () => {
    expect(matchesPattern({ source: ['AWS.EC2'] }, ec2Event)).toBe(false);
    expect(matchesPattern({ detail: { 'c-count': ['5'] } }, ec2Event)).toBe(false);
    expect(matchesPattern({ detail: { 'c-count': [5] } }, ec2Event)).toBe(true);
  });

  it('compares numbers numerically: 300 equals 3.0e2', () => {
    const event = JSON.parse('{"detail":{"x-limit":3.0e2}}');
    expect(matchesPattern(JSON.parse('{"detail":{"x-limit":[300]}}'), event)).toBe(true);
    expect(matchesPattern(JSON.parse('{"detail":{"x-limit":[300.5]}}'), event)).toBe(false);
  });

  it('matches booleans exactly', () => {
    expect(matchesPattern({ detail: { ok: [true] } }, { detail: { ok: true } })).toBe(true);
    expect(matchesPattern({ detail: { ok: [true] } }, { detail: { ok: 'true' } })).toBe(false);
    expect(matchesPattern({ detail: { ok: [false] } }, { detail: { ok: true } })).toBe(false);
  });

  it('does not match a field that is an object where the pattern expects a value', () => {
    expect(matchesPattern({ detail: ['running'] }, ec2Event)).toBe(false);
  });

  it('matches nested objects inside event arrays within one element (array-consistent)', () => {
    const event = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    };
    expect(matchesPattern({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
    expect(matchesPattern({ employees: { firstName: ['Zoe'] } }, event)).toBe(false);
  });

  it('does not pick up fields inherited from Object.prototype', () => {
    expect(matchesPattern({ detail: { constructor: [{ exists: true }] } }, ec2Event)).toBe(false);
  });
});

describe('null and empty string', () => {
  const pattern = { detail: { responseElements: [null], eventVersion: [''] } };

  it('matches JSON null with null and "" with the empty string', () => {
    expect(matchesPattern(pattern, { detail: { responseElements: null, eventVersion: '' } })).toBe(true);
  });

  it('does not treat a missing field as null, nor "" as null', () => {
    expect(matchesPattern(pattern, { detail: { eventVersion: '' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { responseElements: '', eventVersion: '' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { responseElements: null, eventVersion: '1.0' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { responseElements: null } })).toBe(false);
  });
});

describe('prefix', () => {
  it('matches the docs "time" prefix example', () => {
    const pattern = { time: [{ prefix: '2017-10-02' }] };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, { ...ec2Event, time: '2017-10-03T18:43:48Z' })).toBe(false);
  });

  it('only applies to strings', () => {
    expect(matchesPattern({ detail: { 'c-count': [{ prefix: '5' }] } }, ec2Event)).toBe(false);
  });

  it('ignores case with equals-ignore-case', () => {
    const pattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    expect(matchesPattern(pattern, { detail: { service: 'EventBridge' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { service: 'EVENTBRIDGE' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { service: 'eventb' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { service: 'Lambda' } })).toBe(false);
  });
});

describe('suffix', () => {
  it('matches the docs FileName example', () => {
    const pattern = { FileName: [{ suffix: '.png' }] };
    expect(matchesPattern(pattern, { FileName: 'image.png' })).toBe(true);
    expect(matchesPattern(pattern, { FileName: 'image.PNG' })).toBe(false);
    expect(matchesPattern(pattern, { FileName: 'image.png.txt' })).toBe(false);
  });

  it('ignores case with equals-ignore-case', () => {
    const pattern = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
    expect(matchesPattern(pattern, { detail: { FileName: 'image.PNG' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { FileName: 'image.Png' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { FileName: 'image.jpg' } })).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches the value in any casing', () => {
    const pattern = { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(
      matchesPattern(pattern, { ...ec2Event, 'detail-type': 'EC2 INSTANCE STATE-CHANGE NOTIFICATION' }),
    ).toBe(true);
    expect(matchesPattern(pattern, { ...ec2Event, 'detail-type': 'EC2 Spot Instance Interruption' })).toBe(
      false,
    );
  });
});

describe('anything-but', () => {
  it('excludes a single string', () => {
    const pattern = { detail: { state: [{ 'anything-but': 'initializing' }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'initializing' }))).toBe(false);
  });

  it('excludes a single number', () => {
    const pattern = { detail: { 'x-limit': [{ 'anything-but': 123 }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ 'x-limit': 123 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ 'x-limit': 1.23e2 }))).toBe(false);
  });

  it('excludes a list of strings', () => {
    const pattern = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'stopped' }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ state: 'overloaded' }))).toBe(false);
  });

  it('excludes a list of numbers', () => {
    const pattern = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ 'x-limit': 200 }))).toBe(false);
  });

  it('excludes a prefix', () => {
    const pattern = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'initializing' }))).toBe(false);
  });

  it('excludes a suffix', () => {
    const pattern = { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } };
    expect(matchesPattern(pattern, { detail: { FileName: 'notes.md' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { FileName: 'notes.txt' } })).toBe(false);
  });

  it('excludes values ignoring case, single or list', () => {
    const single = { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } };
    expect(matchesPattern(single, ec2Event)).toBe(true);
    expect(matchesPattern(single, withDetail({ state: 'INITIALIZING' }))).toBe(false);
    const list = {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] },
    };
    expect(matchesPattern(list, withDetail({ state: 'STOPPED' }))).toBe(false);
    expect(matchesPattern(list, withDetail({ state: 'overloaded' }))).toBe(false);
    expect(matchesPattern(list, ec2Event)).toBe(true);
  });

  it('excludes wildcards, single or list', () => {
    const single = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matchesPattern(single, { detail: { FilePath: '/usr/bin/tool' } })).toBe(true);
    expect(matchesPattern(single, { detail: { FilePath: '/usr/lib/libc.so' } })).toBe(false);
    const list = { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] } };
    expect(matchesPattern(list, { detail: { FilePath: '/usr/bin/tool' } })).toBe(false);
    expect(matchesPattern(list, { detail: { FilePath: '/home/me/notes' } })).toBe(true);
  });

  it('does not match a missing field', () => {
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: {} })).toBe(
      false,
    );
  });

  it('matches an event array when any element is not excluded', () => {
    const pattern = { detail: { interests: [{ 'anything-but': { wildcard: '*ball' } }] } };
    expect(matchesPattern(pattern, { detail: { interests: ['hockey', 'rugby'] } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { interests: ['baseball', 'basketball'] } })).toBe(false);
  });
});

describe('numeric', () => {
  const pattern = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };

  it('matches the docs example when every field is in range', () => {
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
  });

  it('respects open and closed bounds of a range', () => {
    const range = { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } };
    expect(matchesPattern(range, withDetail({ 'c-count': 5 }))).toBe(true);
    expect(matchesPattern(range, withDetail({ 'c-count': 0 }))).toBe(false);
    expect(matchesPattern(range, withDetail({ 'c-count': 5.000001 }))).toBe(false);
    const closedOpen = { detail: { n: [{ numeric: ['>=', 1, '<', 2] }] } };
    expect(matchesPattern(closedOpen, { detail: { n: 1 } })).toBe(true);
    expect(matchesPattern(closedOpen, { detail: { n: 2 } })).toBe(false);
  });

  it('fails when one field is out of range', () => {
    expect(matchesPattern(pattern, withDetail({ ...ec2Event.detail, 'd-count': 10 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ ...ec2Event.detail, 'x-limit': 301.9 }))).toBe(false);
  });

  it('supports >= and <= alone', () => {
    expect(matchesPattern({ detail: { n: [{ numeric: ['>=', 10] }] } }, { detail: { n: 10 } })).toBe(true);
    expect(matchesPattern({ detail: { n: [{ numeric: ['>=', 10] }] } }, { detail: { n: 9.99 } })).toBe(false);
    expect(matchesPattern({ detail: { n: [{ numeric: ['<=', 10] }] } }, { detail: { n: 10 } })).toBe(true);
    expect(matchesPattern({ detail: { n: [{ numeric: ['<=', 10] }] } }, { detail: { n: 11 } })).toBe(false);
  });

  it('only works with JSON numbers', () => {
    expect(matchesPattern({ detail: { n: [{ numeric: ['>', 0] }] } }, { detail: { n: '5' } })).toBe(false);
  });
});

describe('cidr', () => {
  it('matches IPv4 addresses in the block (docs example 10.0.0.0/24)', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: '10.0.0.33' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: '10.0.1.1' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: 'not-an-ip' } })).toBe(false);
  });

  it('matches IPv6 addresses in the block', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } };
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: '2001:db8:0:0:0:0:0:1' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: '2001:db9::1' } })).toBe(false);
    expect(matchesPattern(pattern, { detail: { sourceIPAddress: '10.0.0.1' } })).toBe(false);
  });

  it('matches an exact IPv6 address written differently', () => {
    const pattern = { detail: { ip: ['2001:db8::1'] } };
    expect(matchesPattern(pattern, { detail: { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { ip: '2001:db8::2' } })).toBe(false);
  });
});

describe('exists', () => {
  it('exists: true matches a present leaf, not a missing one', () => {
    const pattern = { detail: { 'c-count': [{ exists: true }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: 'running' }))).toBe(false);
  });

  it('exists: true matches null and empty-string leaves, which are present', () => {
    const pattern = { detail: { note: [{ exists: true }] } };
    expect(matchesPattern(pattern, { detail: { note: null } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { note: '' } })).toBe(true);
  });

  it('exists: false matches a missing field (docs example)', () => {
    const pattern = { detail: { 'c-count': [{ exists: false }] } };
    expect(matchesPattern(pattern, withDetail({ state: ['initializing', 'running'] }))).toBe(true);
    expect(matchesPattern(pattern, ec2Event)).toBe(false);
  });

  it('exists: false also matches when the field is an object, because exists applies to leaves', () => {
    const pattern = { detail: { 'c-count': [{ exists: false }] } };
    expect(matchesPattern(pattern, withDetail({ state: 'running', 'c-count': { c1: 100 } }))).toBe(true);
    expect(
      matchesPattern({ detail: { 'c-count': [{ exists: true }] } }, withDetail({ 'c-count': { c1: 1 } })),
    ).toBe(false);
  });

  it('exists: false matches when a parent object is missing', () => {
    expect(matchesPattern({ detail: { order: { pickupAt: [{ exists: false }] } } }, { detail: {} })).toBe(
      true,
    );
    expect(matchesPattern({ detail: { order: { pickupAt: [{ exists: true }] } } }, { detail: {} })).toBe(
      false,
    );
  });
});

describe('wildcard', () => {
  it('matches the docs EventBusArn example', () => {
    const pattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] };
    expect(
      matchesPattern(pattern, { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/orders' }),
    ).toBe(true);
    expect(
      matchesPattern(pattern, { EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/orders' }),
    ).toBe(false);
  });

  it('matches zero or more characters anywhere', () => {
    const pattern = { source: [{ wildcard: 'Simple*Service' }] };
    expect(matchesPattern(pattern, { source: 'SimpleService' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'SimpleQueueService' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'SimpleQueueServices' })).toBe(false);
    expect(matchesPattern({ key: [{ wildcard: '*Title*' }] }, { key: 'My Title here' })).toBe(true);
  });

  it('treats regex characters literally', () => {
    expect(matchesPattern({ key: [{ wildcard: 'a.c*' }] }, { key: 'abc' })).toBe(false);
    expect(matchesPattern({ key: [{ wildcard: 'a.c*' }] }, { key: 'a.cd' })).toBe(true);
  });

  it('matches a literal star when it is escaped', () => {
    const pattern = { key: [{ wildcard: 'price\\*2' }] };
    expect(matchesPattern(pattern, { key: 'price*2' })).toBe(true);
    expect(matchesPattern(pattern, { key: 'price-x-2' })).toBe(false);
    expect(matchesPattern({ key: [{ wildcard: 'a\\\\b' }] }, { key: 'a\\b' })).toBe(true);
  });
});

describe('$or', () => {
  it('matches either branch at the top level (Ruler "normal Or" example)', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', metricName: 'ReadLatency' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/ES' })).toBe(true);
    expect(matchesPattern(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/S3' })).toBe(false);
    expect(matchesPattern(pattern, { source: 'aws.ec2', metricName: 'ReadLatency' })).toBe(false);
  });

  it('works inside nested objects (docs numeric $or example)', () => {
    const pattern = {
      detail: {
        $or: [
          { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] },
          { 'd-count': [{ numeric: ['<', 10] }] },
          { 'x-limit': [{ numeric: ['=', 3.018e2] }] },
        ],
      },
    };
    expect(matchesPattern(pattern, { detail: { 'd-count': 3 } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { 'x-limit': 301.8 } })).toBe(true);
    expect(matchesPattern(pattern, { detail: { 'c-count': 9, 'd-count': 11, 'x-limit': 1 } })).toBe(false);
  });

  it('supports AND inside a branch and nested $or', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
      ],
    };
    const base = { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' };
    expect(matchesPattern(pattern, { ...base, spaceId: 1000 })).toBe(true);
    expect(matchesPattern(pattern, { ...base, spaceId: 999 })).toBe(false);
    expect(matchesPattern(pattern, { ...base, namespace: 'AWS/ES', metricId: 1234 })).toBe(false);
  });
});

describe('validation (InvalidEventPatternException)', () => {
  it.each([
    ['a pattern that is not an object', ['aws.ec2'], 'Filter is not an object'],
    ['a bare value instead of an array', { source: 'aws.ec2' }, '"source" must be an object or an array'],
    ['an empty array', { source: [] }, 'Empty arrays are not allowed'],
    ['an empty object', { detail: {} }, 'Empty objects are not allowed'],
    ['a nested array as a value', { source: [['a']] }, 'Match value must be String'],
    ['an unknown operator', { source: [{ regex: 'a.*' }] }, 'Unrecognized match type regex'],
    ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }, 'Only one key allowed'],
    ['a non-string prefix', { source: [{ prefix: 5 }] }, 'prefix match pattern must be a string'],
    [
      'a non-boolean exists',
      { source: [{ exists: 'yes' }] },
      'exists match pattern must be either true or false',
    ],
    ['mixed anything-but list', { x: [{ 'anything-but': ['a', 1] }] }, 'mixed type is not supported'],
    ['anything-but null', { x: [{ 'anything-but': null }] }, 'must be an array or single string/number'],
    [
      'an unsupported anything-but',
      { x: [{ 'anything-but': { numeric: ['>', 1] } }] },
      'Unsupported anything-but',
    ],
    [
      'an empty anything-but prefix',
      { x: [{ 'anything-but': { prefix: '' } }] },
      'Null prefix/suffix not allowed',
    ],
    ['an unknown numeric operator', { x: [{ numeric: ['!=', 1] }] }, 'Unrecognized numeric range operator'],
    ['a string numeric operand', { x: [{ numeric: ['>', '1'] }] }, 'Value of > must be numeric'],
    ['an upper bound first', { x: [{ numeric: ['<', 10, '>', 0] }] }, 'Too many elements'],
    ['an inverted range', { x: [{ numeric: ['>', 10, '<', 5] }] }, 'Bottom must be less than top'],
    ['a number out of range', { x: [{ numeric: ['>', 6e9] }] }, 'between -5.0e9 and +5.0e9'],
    ['a CIDR without prefix length', { ip: [{ cidr: '10.0.0.1' }] }, 'Malformed CIDR'],
    ['a CIDR with a bad address', { ip: [{ cidr: '10.0.0/24' }] }, 'Malformed CIDR'],
    ['an IPv4 prefix over 32', { ip: [{ cidr: '10.0.0.0/33' }] }, 'Malformed CIDR'],
    ['consecutive wildcards', { key: [{ wildcard: 'a**b' }] }, 'Consecutive wildcard characters'],
    ['a bad wildcard escape', { key: [{ wildcard: 'a\\b' }] }, 'Backslash in a wildcard'],
    ['$or that is not an array', { $or: { a: ['x'] } }, 'It must be an Array followed with $or'],
    ['$or with one branch', { $or: [{ a: ['x'] }] }, 'at least 2 Objects'],
    ['$or with a non-object', { $or: [{ a: ['x'] }, 'b'] }, 'Only JSON object is allowed'],
    ['an operator name inside $or', { $or: [{ prefix: ['x'] }, { b: ['y'] }] }, 'reserved fieldName'],
  ])('refuses %s', (_what, pattern, reason) => {
    expect(invalidReason(pattern)).toContain(reason);
  });

  it('names where in the pattern the problem is', () => {
    expect(invalidReason({ detail: { state: [{ prefix: 1 }] } })).toContain('detail.state.prefix');
  });

  it('accepts every documented operator', () => {
    expect(() =>
      compilePattern({
        time: [{ prefix: '2017' }],
        detail: {
          a: ['x', 1, true, null, ''],
          b: [{ prefix: { 'equals-ignore-case': 'x' } }, { suffix: { 'equals-ignore-case': 'y' } }],
          c: [{ 'anything-but': { wildcard: ['*a', 'b*'] } }, { 'equals-ignore-case': 'Z' }],
          d: [{ numeric: ['>=', -5e9, '<', 5e9] }, { exists: false }],
          e: [{ cidr: '::1/128' }, { wildcard: '\\**' }],
        },
      }),
    ).not.toThrow();
  });
});
