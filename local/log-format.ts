/** Powertools JSON lines → one readable line per entry: time, function, level, order id, message. */
export function formatLogLine(functionName: string, line: string): string {
  const short = functionName.replace(/^order-middleware-[^-]+-/, '');
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry._aws)
      return `${''.padEnd(12)} ${short.padEnd(16)} METRIC ${Object.keys(entry)
        .filter((k) => !['_aws', 'service'].includes(k))
        .join(', ')}`;
    const { timestamp, level, message, correlation_id: orderId } = entry;
    const time = typeof timestamp === 'string' ? timestamp.slice(11, 23) : '';
    return `${time} ${short.padEnd(16)} ${String(level ?? '').padEnd(5)} ${orderId ?? '-'} ${message ?? ''}`;
  } catch {
    return `${short.padEnd(16)} ${line}`;
  }
}
