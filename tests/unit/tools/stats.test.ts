import { percentile, percentiles, tally } from '../../../local/tools/stats';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100, shuffled below
  const shuffled = [...hundred].sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));

  it('reads p50, p95 and p99 of 1..100 whatever the input order', () => {
    expect(percentile(shuffled, 50)).toBe(50);
    expect(percentile(shuffled, 95)).toBe(95);
    expect(percentile(shuffled, 99)).toBe(99);
    expect(percentile(shuffled, 100)).toBe(100);
  });

  it('answers a measured value, never an interpolation, on small samples', () => {
    expect(percentile([10, 20, 30], 50)).toBe(20);
    expect(percentile([10, 20, 30], 99)).toBe(30);
    expect(percentile([7], 1)).toBe(7);
  });

  it('has nothing to say about no values, and refuses a percentile outside 0..100', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('reports null percentiles when nothing was measured, rounded ones otherwise', () => {
    expect(percentiles([])).toEqual({ p50: null, p95: null, p99: null });
    expect(percentiles([1.234, 2.345, 3.456])).toEqual({ p50: 2.3, p95: 3.5, p99: 3.5 });
  });

  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });
});

test('tally counts outcomes per status', () => {
  expect(tally(['RELEASED', 'FAILED', 'RELEASED'])).toEqual({ RELEASED: 2, FAILED: 1 });
});
