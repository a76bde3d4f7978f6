/**
 * Orders: the operator list, newest first, with filters (status, store, partner, age), a count per
 * status and "load more" with the cursor; new orders and status changes arrive over the server's
 * event stream (SSE), so the list is live without reloading.
 */
import { useEffect, useState } from 'preact/hooks';
import { call, config, errorText, type OrderPage, type OrderRow, query } from '../api';
import { ErrorNote, Field, Link, Money, StatusBadge, Table, Time, useLoad } from '../components';

interface Filters {
  status: string;
  storeId: string;
  partner: string;
  /** Minutes back from now, or '' for any age. */
  ageMinutes: string;
}

const AGES = [
  { value: '', label: 'Any age' },
  { value: '15', label: 'Last 15 minutes' },
  { value: '60', label: 'Last hour' },
  { value: '1440', label: 'Last 24 hours' },
  { value: '10080', label: 'Last 7 days' },
];

function filtersFromUrl(): Filters {
  const search = new URLSearchParams(location.search);
  return {
    status: search.get('status') ?? '',
    storeId: search.get('storeId') ?? '',
    partner: search.get('partner') ?? '',
    ageMinutes: search.get('age') ?? '',
  };
}

/** The API's filters: the age becomes `since`, an ISO time fixed when the filters are applied. */
function apiFilters(filters: Filters) {
  const since = filters.ageMinutes
    ? new Date(Date.now() - Number(filters.ageMinutes) * 60_000).toISOString()
    : undefined;
  return { status: filters.status, storeId: filters.storeId, partner: filters.partner, since };
}

/**
 * Changed or new rows folded into the list, newest first; a row that left the status filter goes.
 * A row older than the one shown (a page read that answered late) does not replace it.
 */
function mergeRows(rows: OrderRow[], changed: OrderRow[], filters: Filters): OrderRow[] {
  const byId = new Map(rows.map((row) => [row.orderId, row]));
  for (const row of changed) {
    const shown = byId.get(row.orderId);
    if (shown && shown.updatedAt > row.updatedAt) continue;
    if (filters.status && row.status !== filters.status) byId.delete(row.orderId);
    else byId.set(row.orderId, row);
  }
  return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

function FilterForm(props: { filters: Filters; onChange: (filters: Filters) => void }) {
  const { value: settings } = useLoad(config, []);
  const { filters, onChange } = props;
  const set = (key: keyof Filters) => (event: Event) =>
    onChange({ ...filters, [key]: (event.target as HTMLInputElement | HTMLSelectElement).value });
  return (
    <form class="grid filters" onSubmit={(event) => event.preventDefault()} aria-label="Order filters">
      <Field label="Status">
        <select name="status" value={filters.status} onChange={set('status')} data-testid="filter-status">
          <option value="">Any status</option>
          {settings?.statuses.map((status) => (
            <option key={status}>{status}</option>
          ))}
        </select>
      </Field>
      <Field label="Store">
        <input
          name="storeId"
          value={filters.storeId}
          placeholder="Any store (e.g. store-001)"
          onChange={set('storeId')}
          data-testid="filter-store"
        />
      </Field>
      <Field label="Partner">
        <select name="partner" value={filters.partner} onChange={set('partner')} data-testid="filter-partner">
          <option value="">Any partner</option>
          {settings?.partners.map((partner) => (
            <option key={partner}>{partner}</option>
          ))}
        </select>
      </Field>
      <Field label="Age">
        <select name="age" value={filters.ageMinutes} onChange={set('ageMinutes')} data-testid="filter-age">
          {AGES.map((age) => (
            <option key={age.value} value={age.value}>
              {age.label}
            </option>
          ))}
        </select>
      </Field>
    </form>
  );
}

function StatusCounts(props: { counts: Record<string, number>; onPick: (status: string) => void }) {
  const entries = Object.entries(props.counts);
  return (
    <nav aria-label="Orders per status" class="counts" data-testid="status-counts">
      {entries.map(([status, count]) => (
        <button
          type="button"
          class="outline secondary count"
          key={status}
          onClick={() => props.onPick(status)}
          data-testid={`count-${status}`}
        >
          <StatusBadge status={status} /> <span class="count-number">{count}</span>
        </button>
      ))}
    </nav>
  );
}

export function OrdersPage() {
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const [rows, setRows] = useState<OrderRow[]>([]);
  const [counts, setCounts] = useState<Record<string, number>>({});
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [live, setLive] = useState(false);

  // First page and the live stream, both for the current filters.
  useEffect(() => {
    const params = apiFilters(filters);
    history.replaceState(
      null,
      '',
      `/${query({ status: filters.status, storeId: filters.storeId, partner: filters.partner, age: filters.ageMinutes })}`,
    );
    let closed = false;
    let readOnce = false;
    const readFirstPage = async () => {
      const answer = await call<OrderPage>('GET', `/api/orders${query(params)}`);
      if (closed) return;
      if (!answer.ok) return setError(errorText(answer));
      setError(undefined);
      setRows((seen) => mergeRows(seen, answer.body.orders, filters));
      setCounts(answer.body.counts ?? {});
      if (!readOnce) setCursor(answer.body.cursor);
      readOnce = true;
    };
    void readFirstPage();
    const stream = new EventSource(`/api/orders/stream${query(params)}`);
    let opened = false;
    stream.onopen = () => {
      setLive(true);
      // The stream sends changes from when it (re)connects: what changed while it was down is read again.
      if (opened) void readFirstPage();
      opened = true;
    };
    stream.onerror = () => setLive(false); // EventSource reconnects by itself
    stream.addEventListener('orders', (event) => {
      const change = JSON.parse((event as MessageEvent<string>).data) as Partial<OrderPage>;
      setRows((seen) => mergeRows(seen, change.orders ?? [], filters));
      if (change.counts) setCounts(change.counts);
    });
    return () => {
      closed = true;
      stream.close();
      setRows([]);
    };
  }, [filters]);

  const loadMore = async () => {
    if (!cursor) return;
    const answer = await call<OrderPage>('GET', `/api/orders${query({ ...apiFilters(filters), cursor })}`);
    if (!answer.ok) return setError(errorText(answer));
    setRows((seen) => mergeRows(seen, answer.body.orders, filters));
    setCursor(answer.body.cursor);
  };

  return (
    <section>
      <hgroup>
        <h1>Orders</h1>
        <p>
          Newest first.{' '}
          <span data-testid="live-state" class={live ? 'live on' : 'live'}>
            {live ? '● live' : '○ connecting…'}
          </span>
        </p>
      </hgroup>
      <FilterForm filters={filters} onChange={setFilters} />
      <StatusCounts counts={counts} onPick={(status) => setFilters({ ...filters, status })} />
      <ErrorNote error={error} />
      <Table
        testId="orders-table"
        rows={rows}
        rowKey={(row) => row.orderId}
        rowTestId={(row) => `order-row-${row.orderId}`}
        empty="No orders match these filters."
        columns={[
          {
            title: 'Order',
            cell: (row) => (
              <Link href={`/orders/${row.orderId}`} testId="order-link">
                <code>{row.orderId}</code>
              </Link>
            ),
          },
          { title: 'Status', cell: (row) => <StatusBadge status={row.status} />, testId: 'order-status' },
          { title: 'Partner', cell: (row) => row.partner },
          { title: 'Partner order', cell: (row) => <small>{row.partnerOrderId}</small> },
          { title: 'Store', cell: (row) => row.storeId },
          { title: 'Total', cell: (row) => <Money cents={row.total} /> },
          { title: 'Created', cell: (row) => <Time at={row.createdAt} /> },
          { title: 'Updated', cell: (row) => <Time at={row.updatedAt} /> },
        ]}
      />
      {cursor && (
        <button type="button" class="secondary" onClick={loadMore} data-testid="load-more">
          Load more
        </button>
      )}
    </section>
  );
}
