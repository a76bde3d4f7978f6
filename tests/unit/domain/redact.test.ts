import { REDACTED, redactCustomer } from '../../../functions/lib/domain/redact';
import { canonicalOrder, uberEatsOrder } from './fixtures';

describe('redactCustomer', () => {
  it('masks the canonical customer and keeps the order readable', () => {
    const redacted = redactCustomer(canonicalOrder());
    expect(redacted.customer).toEqual({ firstName: REDACTED, phone: REDACTED });
    expect(redacted.items).toEqual(canonicalOrder().items);
  });

  it('masks partner-style names and phones at any depth', () => {
    const text = JSON.stringify(redactCustomer({ payload: uberEatsOrder() }));
    expect(text).not.toContain('Maria');
    expect(text).not.toContain('Lopez');
    expect(text).not.toContain('555-0142');
    expect(text).toContain('Al Pastor Taco');
  });

  it('masks addresses and e-mails whole', () => {
    const redacted = redactCustomer({
      dropoff_address: { street: '1 Main St', city: 'Chicago' },
      email: 'm@x.io',
    });
    expect(redacted).toEqual({ dropoff_address: REDACTED, email: REDACTED });
  });

  it('leaves its input untouched', () => {
    const order = canonicalOrder();
    redactCustomer(order);
    expect(order.customer.firstName).toBe('Maria');
  });
});
