/** A positive number from the environment, or the default; anything else stops start-up with its name. */
export function positiveFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!(parsed > 0)) throw new Error(`${name}=${value} is not a positive number`);
  return parsed;
}
