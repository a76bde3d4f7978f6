/**
 * Typed domain errors. A workflow error's `name` is the ASL error name the state machines Retry or
 * Catch (Lambda reports `name` as the error type); an HTTP error carries its status and body code.
 */
import type { ErrorBody, ErrorCode } from '../schemas/http';
import type { DenyReason } from '../schemas/order';

// ── workflow errors (ASL error names) ─────────────────────────────────────
export class OrderDenied extends Error {
  override readonly name = 'OrderDenied';
  constructor(
    readonly reason: DenyReason,
    readonly detail = '',
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

export class OrderCancelled extends Error {
  override readonly name = 'OrderCancelled';
  constructor(readonly orderId: string) {
    super(`order ${orderId} was cancelled`);
  }
}

export class PosUnavailable extends Error {
  override readonly name = 'PosUnavailable';
}

export class PartnerUnavailable extends Error {
  override readonly name = 'PartnerUnavailable';
}

/** The partner answered with a 4xx about the order (it does not know it, or refuses that call now). */
export class PartnerRefused extends Error {
  override readonly name = 'PartnerRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The POS refused the call for good (a 4xx other than 404/409/408/429): asking again gets the same
 * answer, so the workflow does not retry it. The message starts with the deny reason, as
 * OrderDenied's does: INVALID_ORDER when the POS refused the order itself, POS_UNAVAILABLE when it
 * refused us (401/403: our key), which says nothing about the POS's health.
 */
export class PosRefused extends Error {
  override readonly name = 'PosRefused';
  readonly reason: DenyReason;
  constructor(
    readonly status: number,
    detail: string,
  ) {
    const reason = status === 401 || status === 403 ? 'POS_UNAVAILABLE' : 'INVALID_ORDER';
    super(`${reason}: ${detail}`);
    this.reason = reason;
  }
}

/** The POS has no order under that number (404), or one made for another reference (409). */
export class PosOrderMismatch extends Error {
  override readonly name = 'PosOrderMismatch';
}

/** An ending's void or partner call failed; it stays owed on the order and the reconciler retries it. */
export class CompensationOwed extends Error {
  override readonly name = 'CompensationOwed';
}

/** The order already reached its ending (or another execution owns it): nothing left to wait for. */
export class OrderEnded extends Error {
  override readonly name = 'OrderEnded';
}

export class OrderNotFound extends Error {
  override readonly name = 'OrderNotFound';
  constructor(readonly orderId: string) {
    super(`order ${orderId} not found`);
  }
}

/** The ASL error names the state machines can name in Retry/Catch. */
export const WORKFLOW_ERROR_NAMES = [
  'OrderDenied',
  'OrderCancelled',
  'PosUnavailable',
  'PosRefused',
  'PartnerUnavailable',
  'PartnerRefused',
  'CompensationOwed',
  'OrderEnded',
  'OrderNotFound',
] as const;

// ── HTTP errors ──────────────────────────────────────────────────────────
export abstract class HttpError extends Error {
  abstract readonly status: number;
  abstract readonly code: ErrorCode;
}

export class UnknownPartner extends HttpError {
  override readonly name = 'UnknownPartner';
  readonly status = 404;
  readonly code = 'UNKNOWN_PARTNER';
  constructor(partner: string) {
    super(`unknown partner "${partner.slice(0, 40)}"`);
  }
}

export class PayloadTooLarge extends HttpError {
  override readonly name = 'PayloadTooLarge';
  readonly status = 413;
  readonly code = 'PAYLOAD_TOO_LARGE';
}

export class UnsupportedMediaType extends HttpError {
  override readonly name = 'UnsupportedMediaType';
  readonly status = 415;
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
}

export class Unauthorized extends HttpError {
  override readonly name = 'Unauthorized';
  readonly status = 401;
  readonly code = 'UNAUTHORIZED';
}

export class InvalidPayload extends HttpError {
  override readonly name = 'InvalidPayload';
  readonly status = 400;
  readonly code = 'INVALID_PAYLOAD';
}

/** A well-formed order whose canonical form would not fit, twice over, in a workflow state or an item. */
export class OrderTooLarge extends HttpError {
  override readonly name = 'OrderTooLarge';
  readonly status = 400;
  readonly code = 'ORDER_TOO_LARGE';
}

export class OrderConflict extends HttpError {
  override readonly name = 'OrderConflict';
  readonly status = 409;
  readonly code = 'ORDER_CONFLICT';
}

export class NotFound extends HttpError {
  override readonly name = 'NotFound';
  readonly status = 404;
  readonly code = 'NOT_FOUND';
}

/** A partner API we had to call before answering is down; 503 so the partner sends the webhook again. */
export class PartnerApiUnavailable extends HttpError {
  override readonly name = 'PartnerApiUnavailable';
  readonly status = 503;
  readonly code = 'PARTNER_UNAVAILABLE';
}

export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}

/** The status and JSON body for any error; anything unexpected is a 500 that reveals nothing. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (isHttpError(error))
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  return { status: 500, body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } } };
}
