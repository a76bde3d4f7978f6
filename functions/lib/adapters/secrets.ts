import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { config } from '../config';

/** Secrets are cached for five minutes: a rotation takes effect within that, and both values stay valid meanwhile. */
const MAX_AGE_SECONDS = 300;

export async function getSecret(path: string): Promise<string> {
  const value = await getParameter(`${config.ssmPrefix}/${path}`, { decrypt: true, maxAge: MAX_AGE_SECONDS });
  if (!value) throw new Error(`SSM parameter ${config.ssmPrefix}/${path} is empty`);
  return value;
}

/** A partner's signing secrets, newest first: two values are valid during a rotation. */
export async function partnerSigningSecrets(partner: string): Promise<string[]> {
  const value = await getSecret(`partners/${partner}/signing-secrets`);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
