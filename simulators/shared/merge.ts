/** Plain JSON objects (not arrays, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `overrides` laid over `base`: objects merge key by key, anything else (arrays, null, scalars)
 * replaces. Used for the control API's `body` overrides (extra fields, injection attempts).
 */
export function deepMerge(base: unknown, overrides: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(overrides)) return structuredClone(overrides);
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const next = Object.hasOwn(base, key) ? deepMerge(base[key], value) : structuredClone(value);
    // defineProperty, not assignment: a "__proto__" key must stay a plain field of the payload.
    Object.defineProperty(merged, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return merged;
}
