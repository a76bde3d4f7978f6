import {
  InvalidPayload,
  NotFound,
  OrderConflict,
  OrderDenied,
  OrderTooLarge,
  PartnerApiUnavailable,
  PayloadTooLarge,
  PosUnavailable,
  toErrorResponse,
  Unauthorized,
  UnknownPartner,
  UnsupportedMediaType,
} from '../../../functions/lib/domain/errors';
import { ERROR_CODES, ErrorBodySchema } from '../../../functions/lib/schemas/http';

describe('domain errors', () => {
  it('carry the ASL error name the state machines catch', () => {
    const denied = new OrderDenied('ITEM_UNAVAILABLE', 'TACO-LENGUA is not on the menu');
    expect(denied.name).toBe('OrderDenied');
    expect(denied.reason).toBe('ITEM_UNAVAILABLE');
    expect(new PosUnavailable('timeout').name).toBe('PosUnavailable');
  });

  it.each([
    [new UnknownPartner('ubereatz'), 404, 'UNKNOWN_PARTNER'],
    [new PayloadTooLarge('body over 256 KB'), 413, 'PAYLOAD_TOO_LARGE'],
    [new UnsupportedMediaType('expected application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [new Unauthorized('bad signature'), 401, 'UNAUTHORIZED'],
    [new InvalidPayload('missing id'), 400, 'INVALID_PAYLOAD'],
    [new OrderConflict('different order'), 409, 'ORDER_CONFLICT'],
    [new NotFound('no such order'), 404, 'NOT_FOUND'],
    [new OrderTooLarge('70 KB once canonical'), 400, 'ORDER_TOO_LARGE'],
    [new PartnerApiUnavailable('Uber Eats answered 503'), 503, 'PARTNER_UNAVAILABLE'],
  ])('%s answers %i with code %s in the error body', (error, status, code) => {
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(ErrorBodySchema.safeParse(response.body).success).toBe(true);
    expect(ERROR_CODES).toContain(code);
  });

  it('answers anything unexpected with a 500 that reveals nothing', () => {
    expect(toErrorResponse(new Error('ECONNREFUSED 10.0.0.1:5432'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } },
    });
  });
});
