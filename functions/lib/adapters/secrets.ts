import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { config } from '../config';
import type { PartnerId } from '../schemas/partners/index';

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

/**
 * Where a partner's API and the POS API answer: SSM String parameters like the secrets, so the same
 * package reaches a stage's own simulators (the stack sets them) or the real APIs (the operator sets
 * them for production), and a move takes effect within the cache's five minutes without a deploy.
 */
async function baseUrl(path: string): Promise<string> {
  const value = await getParameter(`${config.ssmPrefix}/${path}`, { maxAge: MAX_AGE_SECONDS });
  if (!value) throw new Error(`SSM parameter ${config.ssmPrefix}/${path} is empty`);
  return value.replace(/\/+$/, '');
}

export const partnerApiUrl = (partner: PartnerId) => baseUrl(`partners/${partner}/api-url`);
export const posApiUrl = () => baseUrl('pos/api-url');
