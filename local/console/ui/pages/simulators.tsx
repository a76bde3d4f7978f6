/**
 * Simulators: be a partner (place an order at any store with chosen items and pickup, then release
 * or cancel it as the partner would), and break things on purpose (the partner API's and the POS's
 * faults, every field of their `_control` faults APIs). Also lists what the POS holds.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Answer, call, config, errorText, type Store } from '../api';
import { AnswerView, ErrorNote, Field, Link, onSubmit, StatusBadge, Table, useLoad } from '../components';

const SIGNATURES = ['valid', 'missing', 'wrong-secret', 'tampered', 'stale'];
const PARTNER_ENDPOINTS = ['fetch', 'accept', 'deny', 'status', 'store'];
const POS_ENDPOINTS = ['create', 'fire', 'void', 'lookup', 'health'];

interface Placed {
  partner: string;
  partnerOrderId: string;
  orderId?: string;
  webhookStatus: number;
}

function useStores() {
  return useLoad(async () => {
    const answer = await call<{ stores: Store[] }>('GET', '/api/stores');
    if (!answer.ok) throw new Error(errorText(answer));
    return answer.body.stores;
  }, []);
}

function PlaceOrder(props: { onPlaced: (placed: Placed) => void }) {
  const { value: settings } = useLoad(config, []);
  const { value: stores, error } = useStores();
  const [partner, setPartner] = useState('ubereats');
  const [storeId, setStoreId] = useState('store-001');
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const [pickup, setPickup] = useState('600');
  const [signature, setSignature] = useState('valid');
  const [ignoreStoreState, setIgnoreStoreState] = useState(false);
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const menu = stores?.find((store) => store.storeId === storeId)?.menu ?? [];

  const place = async () => {
    const items = Object.entries(quantities)
      .filter(([sku, quantity]) => quantity > 0 && menu.some((item) => item.sku === sku))
      .map(([sku, quantity]) => ({ sku, quantity }));
    const got = await call('POST', '/api/simulators/orders', {
      partner,
      storeId,
      ...(items.length > 0 && { items }),
      pickupInSeconds: Number(pickup),
      signature,
      ...(ignoreStoreState && { ignoreStoreState }),
    });
    setAnswer(got);
    if (got.status === 201) props.onPlaced(got.body as Placed);
  };

  return (
    <article>
      <header>
        <strong>Place an order as a partner</strong>
      </header>
      <ErrorNote error={error} />
      <form onSubmit={onSubmit(place)} aria-label="Place an order">
        <div class="grid">
          <Field label="Partner">
            <select
              value={partner}
              onChange={(e) => setPartner(e.currentTarget.value)}
              data-testid="sim-partner"
            >
              {settings?.partners.map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </Field>
          <Field label="Store">
            <select
              value={storeId}
              onChange={(e) => setStoreId(e.currentTarget.value)}
              data-testid="sim-store"
            >
              {stores?.map((store) => (
                <option key={store.storeId} value={store.storeId}>
                  {store.storeId} — {store.name} ({store.status})
                </option>
              ))}
            </select>
          </Field>
          <Field label="Pickup in (seconds)">
            <input
              type="number"
              min="0"
              value={pickup}
              onInput={(e) => setPickup(e.currentTarget.value)}
              data-testid="sim-pickup"
            />
          </Field>
          <Field label="Signature">
            <select value={signature} onChange={(e) => setSignature(e.currentTarget.value)}>
              {SIGNATURES.map((mode) => (
                <option key={mode}>{mode}</option>
              ))}
            </select>
          </Field>
        </div>
        <fieldset>
          <legend>Items (all zero: the partner picks items on sale)</legend>
          <div class="item-picker">
            {menu.map((item) => (
              <Field key={item.sku} label={`${item.name}${item.available ? '' : ' (86)'}`}>
                <input
                  type="number"
                  min="0"
                  max="20"
                  value={quantities[item.sku] ?? 0}
                  onInput={(e) => setQuantities({ ...quantities, [item.sku]: Number(e.currentTarget.value) })}
                  data-testid={`sim-qty-${item.sku}`}
                />
              </Field>
            ))}
          </div>
        </fieldset>
        <label>
          <input
            type="checkbox"
            role="switch"
            aria-checked={ignoreStoreState}
            checked={ignoreStoreState}
            onChange={(e) => setIgnoreStoreState(e.currentTarget.checked)}
            data-testid="sim-ignore-store-state"
          />
          Send even if the partner shows the store paused or an item sold out (an order already in flight)
        </label>
        <button type="submit" data-testid="sim-place">
          Send the new-order webhook
        </button>
      </form>
      <AnswerView answer={answer} testId="sim-place-answer" what="Partner simulator" />
    </article>
  );
}

function PartnerActions(props: { placed: Placed[] }) {
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const [partner, setPartner] = useState('ubereats');
  const [partnerOrderId, setPartnerOrderId] = useState('');
  const orderPath = (who: { partner: string; partnerOrderId: string }) =>
    `/api/simulators/orders/${who.partner}/${encodeURIComponent(who.partnerOrderId)}`;
  const say = async (who: { partner: string; partnerOrderId: string }, what: 'release' | 'cancel') =>
    setAnswer(await call('POST', `${orderPath(who)}/${what}`));
  // Partners retry a webhook they think was lost: twice more, at once, each freshly signed.
  const redeliver = async (who: { partner: string; partnerOrderId: string }) =>
    setAnswer(await call('POST', `${orderPath(who)}/redeliver`, { times: 2, concurrent: true }));
  const partnerView = async (who: { partner: string; partnerOrderId: string }) =>
    setAnswer(await call('GET', orderPath(who)));
  return (
    <article>
      <header>
        <strong>Act as the partner: release, cancel, redeliver</strong>
      </header>
      <Table
        caption="Placed from this page"
        testId="sim-placed"
        rows={props.placed}
        rowKey={(row) => `${row.partner}/${row.partnerOrderId}`}
        empty="Nothing placed from this page yet."
        columns={[
          {
            title: 'Partner',
            cell: (row) => (
              <>
                {row.partner}
                <br />
                <small class="muted">{row.partnerOrderId}</small>
              </>
            ),
          },
          {
            title: 'Order',
            cell: (row) =>
              row.orderId ? (
                <Link href={`/orders/${row.orderId}`} testId="sim-order-link">
                  <code>{row.orderId}</code>
                </Link>
              ) : (
                <StatusBadge status={`HTTP ${row.webhookStatus}`} />
              ),
          },
          {
            title: '',
            cell: (row) => (
              <div class="buttons">
                <button type="button" class="outline small" onClick={() => say(row, 'release')}>
                  Courier arrived
                </button>
                <button type="button" class="outline secondary small" onClick={() => say(row, 'cancel')}>
                  Customer cancelled
                </button>
                <button
                  type="button"
                  class="outline secondary small"
                  onClick={() => redeliver(row)}
                  data-testid="sim-redeliver"
                >
                  Redeliver ×2
                </button>
                <button
                  type="button"
                  class="outline secondary small"
                  onClick={() => partnerView(row)}
                  data-testid="sim-partner-view"
                >
                  What the partner saw
                </button>
              </div>
            ),
          },
        ]}
      />
      <form
        onSubmit={onSubmit(() => say({ partner, partnerOrderId }, 'release'))}
        aria-label="Any partner order"
      >
        <div class="grid">
          <Field label="Partner">
            <select value={partner} onChange={(e) => setPartner(e.currentTarget.value)}>
              {['ubereats', 'doordash', 'grubhub'].map((name) => (
                <option key={name}>{name}</option>
              ))}
            </select>
          </Field>
          <Field label="Partner order id">
            <input
              required
              value={partnerOrderId}
              onInput={(e) => setPartnerOrderId(e.currentTarget.value)}
            />
          </Field>
        </div>
        <div class="buttons">
          <button type="submit">Release</button>
          <button type="button" class="secondary" onClick={() => say({ partner, partnerOrderId }, 'cancel')}>
            Cancel
          </button>
          <button type="button" class="secondary" onClick={() => redeliver({ partner, partnerOrderId })}>
            Redeliver ×2
          </button>
          <button type="button" class="secondary" onClick={() => partnerView({ partner, partnerOrderId })}>
            What the partner saw
          </button>
        </div>
      </form>
      <AnswerView answer={answer} testId="sim-action-answer" what="Partner webhook" />
    </article>
  );
}

interface FaultFields {
  errorRate: string;
  latencyMs: string;
  failNext: string;
  errorStatus: string;
  endpoints: string[];
  offlineStores: string;
  dropResponseAfterWrite: string;
}

const NO_FAULTS: FaultFields = {
  errorRate: '0',
  latencyMs: '0',
  failNext: '0',
  errorStatus: '503',
  endpoints: [],
  offlineStores: '',
  dropResponseAfterWrite: '0',
};

/** What a simulator's `GET /_control/faults` answers. */
interface FaultSettings {
  errorRate: number;
  latencyMs: number;
  failNext: number;
  errorStatus: number;
  endpoints: string[];
  offlineStores?: string[];
  dropResponseAfterWrite?: number;
}

function fieldsOf(settings: Partial<FaultSettings>): FaultFields {
  const text = (value: number | undefined, fallback: string) =>
    value === undefined ? fallback : String(value);
  return {
    errorRate: text(settings.errorRate, NO_FAULTS.errorRate),
    latencyMs: text(settings.latencyMs, NO_FAULTS.latencyMs),
    failNext: text(settings.failNext, NO_FAULTS.failNext),
    errorStatus: text(settings.errorStatus, NO_FAULTS.errorStatus),
    endpoints: settings.endpoints ?? [],
    offlineStores: (settings.offlineStores ?? []).join(', '),
    dropResponseAfterWrite: text(settings.dropResponseAfterWrite, NO_FAULTS.dropResponseAfterWrite),
  };
}

/** One simulator's faults: the current settings, a form with every field, set (PUT) and clear (DELETE). */
function Faults(props: { who: 'partner' | 'pos'; endpoints: string[] }) {
  const path = `/api/simulators/${props.who}/faults`;
  const [fields, setFields] = useState<FaultFields>(NO_FAULTS);
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const { value: current, reload } = useLoad(() => call<Partial<FaultSettings>>('GET', path), [path]);
  // The form starts from what is in force.
  useEffect(() => {
    if (current?.ok) setFields(fieldsOf(current.body));
  }, [current]);
  const set = (key: keyof FaultFields) => (event: Event) =>
    setFields({ ...fields, [key]: (event.currentTarget as HTMLInputElement).value });
  const toggle = (endpoint: string) =>
    setFields({
      ...fields,
      endpoints: fields.endpoints.includes(endpoint)
        ? fields.endpoints.filter((e) => e !== endpoint)
        : [...fields.endpoints, endpoint],
    });
  const body = () => ({
    errorRate: Number(fields.errorRate),
    latencyMs: Number(fields.latencyMs),
    failNext: Number(fields.failNext),
    errorStatus: Number(fields.errorStatus),
    ...(fields.endpoints.length > 0 && { endpoints: fields.endpoints }),
    ...(props.who === 'pos' && {
      offlineStores: fields.offlineStores
        .split(',')
        .map((store) => store.trim())
        .filter(Boolean),
      dropResponseAfterWrite: Number(fields.dropResponseAfterWrite),
    }),
  });
  const send = async (method: 'PUT' | 'DELETE') => {
    setAnswer(await call(method, path, method === 'PUT' ? body() : undefined));
    await reload();
  };
  const title = props.who === 'pos' ? 'POS faults' : 'Partner API faults';
  return (
    <article data-testid={`faults-${props.who}`}>
      <header>
        <strong>{title}</strong>
      </header>
      <form onSubmit={onSubmit(() => send('PUT'))} aria-label={title}>
        <div class="grid">
          <Field label="Error rate (0–1)">
            <input
              type="number"
              min="0"
              max="1"
              step="0.05"
              value={fields.errorRate}
              onInput={set('errorRate')}
            />
          </Field>
          <Field label="Latency (ms)">
            <input type="number" min="0" max="60000" value={fields.latencyMs} onInput={set('latencyMs')} />
          </Field>
          <Field label="Fail the next n calls">
            <input type="number" min="0" value={fields.failNext} onInput={set('failNext')} />
          </Field>
          <Field label="Error status">
            <input
              type="number"
              min="400"
              max="599"
              value={fields.errorStatus}
              onInput={set('errorStatus')}
            />
          </Field>
        </div>
        {props.who === 'pos' && (
          <div class="grid">
            <Field label="Offline stores" hint="Comma-separated store ids">
              <input
                value={fields.offlineStores}
                onInput={set('offlineStores')}
                placeholder="none (e.g. store-002)"
              />
            </Field>
            <Field label="Drop the answer after a write (share 0–1)">
              <input
                type="number"
                min="0"
                max="1"
                step="0.05"
                value={fields.dropResponseAfterWrite}
                onInput={set('dropResponseAfterWrite')}
              />
            </Field>
          </div>
        )}
        <fieldset>
          <legend>Endpoints (none ticked: all)</legend>
          {props.endpoints.map((endpoint) => (
            <label key={endpoint} class="inline">
              <input
                type="checkbox"
                checked={fields.endpoints.includes(endpoint)}
                onChange={() => toggle(endpoint)}
              />
              {endpoint}
            </label>
          ))}
        </fieldset>
        <div class="buttons">
          <button type="submit">Set faults</button>
          <button type="button" class="secondary" onClick={() => send('DELETE')}>
            Clear faults
          </button>
        </div>
      </form>
      <AnswerView answer={answer} testId={`faults-answer-${props.who}`} what="Simulator" />
      <details>
        <summary>In force now</summary>
        <pre data-testid={`faults-current-${props.who}`}>
          {current ? (current.ok ? JSON.stringify(current.body, null, 2) : errorText(current)) : '…'}
        </pre>
      </details>
    </article>
  );
}

interface PosOrder {
  posOrderId: string;
  reference: string;
  storeId: string;
  status: string;
  createRequests?: number;
}

const POS_REFRESH_MS = 3000;
/** The newest POS orders shown: the whole book of a long session would be read every refresh. */
const POS_ORDERS_SHOWN = 100;

function PosOrders() {
  const { value: answer, reload } = useLoad(
    () =>
      call<PosOrder[] | { orders: PosOrder[] }>(
        'GET',
        `/api/simulators/pos/orders?limit=${POS_ORDERS_SHOWN}`,
      ),
    [],
  );
  // The POS gets its orders a moment after the webhook: keep the list current while the page is open.
  useEffect(() => {
    const timer = setInterval(() => void reload(), POS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const rows = answer?.ok ? (Array.isArray(answer.body) ? answer.body : (answer.body.orders ?? [])) : [];
  return (
    <article>
      <header>
        <strong>POS orders</strong> <small>(the newest {POS_ORDERS_SHOWN})</small>{' '}
        <button type="button" class="outline secondary small" onClick={() => reload()}>
          Refresh
        </button>
      </header>
      {answer && !answer.ok && <ErrorNote error={errorText(answer)} />}
      <Table
        testId="pos-orders"
        rows={[...rows].reverse()}
        rowKey={(row) => row.posOrderId}
        empty="The POS holds no orders."
        columns={[
          { title: 'POS order', cell: (row) => <code>{row.posOrderId}</code> },
          {
            title: 'Our order',
            cell: (row) => (
              <Link href={`/orders/${row.reference}`}>
                <code>{row.reference}</code>
              </Link>
            ),
          },
          { title: 'Store', cell: (row) => row.storeId },
          { title: 'Status', cell: (row) => <StatusBadge status={row.status} /> },
          { title: 'Create requests', cell: (row) => row.createRequests ?? '' },
        ]}
      />
    </article>
  );
}

export function SimulatorsPage() {
  const [placed, setPlaced] = useState<Placed[]>([]);
  return (
    <section>
      <h1>Simulators</h1>
      <PlaceOrder onPlaced={(order) => setPlaced([order, ...placed])} />
      <PartnerActions placed={placed} />
      <div class="grid">
        <Faults who="partner" endpoints={PARTNER_ENDPOINTS} />
        <Faults who="pos" endpoints={POS_ENDPOINTS} />
      </div>
      <PosOrders />
    </section>
  );
}
