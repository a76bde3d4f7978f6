import {
  candidateWindows,
  THROTTLE_HORIZON_MINUTES,
  windowStartOf,
} from '../../../functions/lib/domain/throttle';

const now = new Date('2025-06-01T18:07:30Z');
const at = (iso: string) => new Date(iso);

describe('windowStartOf', () => {
  it.each([
    [5, '2025-06-01T18:07:30Z', '2025-06-01T18:05:00.000Z'],
    [15, '2025-06-01T18:07:30Z', '2025-06-01T18:00:00.000Z'],
    [15, '2025-06-01T18:15:00Z', '2025-06-01T18:15:00.000Z'],
    [30, '2025-06-01T18:59:59Z', '2025-06-01T18:30:00.000Z'],
    [120, '2025-06-01T01:00:00Z', '2025-06-01T00:00:00.000Z'],
  ])('puts a time in its clock-aligned %i-minute window (%s → %s)', (minutes, time, start) => {
    expect(windowStartOf(at(time), minutes).toISOString()).toBe(start);
  });
});

describe('candidateWindows', () => {
  it('tries an ASAP order in the window of now first, keeping it ASAP there', () => {
    const [first] = candidateWindows({ ordersPerWindow: 3, windowMinutes: 5 }, undefined, now);
    expect(first).toEqual({ window: '2025-06-01T18:05:00.000Z', pickupAt: undefined, moved: false });
  });

  it('then each later window whose start is within the hour, the pickup moved to that start', () => {
    const choices = candidateWindows({ ordersPerWindow: 3, windowMinutes: 15 }, undefined, now);
    expect(choices.map((c) => [c.window, c.pickupAt, c.moved])).toEqual([
      ['2025-06-01T18:00:00.000Z', undefined, false],
      ['2025-06-01T18:15:00.000Z', '2025-06-01T18:15:00.000Z', true],
      ['2025-06-01T18:30:00.000Z', '2025-06-01T18:30:00.000Z', true],
      ['2025-06-01T18:45:00.000Z', '2025-06-01T18:45:00.000Z', true],
      ['2025-06-01T19:00:00.000Z', '2025-06-01T19:00:00.000Z', true],
    ]);
    // None starts more than an hour after the order's own pickup (18:07:30).
    const last = choices.at(-1)!;
    expect(Date.parse(last.window) - now.getTime()).toBeLessThanOrEqual(THROTTLE_HORIZON_MINUTES * 60_000);
  });

  it('starts from a scheduled order’s own pickup window, keeping its pickup there', () => {
    const pickupAt = '2025-06-01T20:40:00Z';
    const choices = candidateWindows({ ordersPerWindow: 1, windowMinutes: 30 }, pickupAt, now);
    expect(choices.map((c) => [c.window, c.pickupAt])).toEqual([
      ['2025-06-01T20:30:00.000Z', pickupAt],
      ['2025-06-01T21:00:00.000Z', '2025-06-01T21:00:00.000Z'],
      ['2025-06-01T21:30:00.000Z', '2025-06-01T21:30:00.000Z'],
    ]);
  });

  it('treats a pickup a little in the past (clock skew) as now', () => {
    const choices = candidateWindows({ ordersPerWindow: 1, windowMinutes: 5 }, '2025-06-01T17:58:00Z', now);
    expect(choices[0]?.window).toBe('2025-06-01T18:05:00.000Z');
  });

  it('offers 5-minute windows for an hour: the window of now and 12 later ones', () => {
    expect(candidateWindows({ ordersPerWindow: 1, windowMinutes: 5 }, undefined, now)).toHaveLength(13);
  });

  it('offers a 120-minute window alone: the next one starts more than an hour ahead', () => {
    expect(candidateWindows({ ordersPerWindow: 1, windowMinutes: 120 }, undefined, now)).toHaveLength(1);
  });
});
