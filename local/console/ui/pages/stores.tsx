/**
 * Stores: each store's status (pause / take offline / resume), busy mode, throttle and menu (86 and
 * un-86 an item), through the store routes; and what each partner shows for the store, from the
 * partner simulator.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Answer, call, errorText, type Store, type StoreDetail } from '../api';
import {
  AnswerView,
  ErrorNote,
  Field,
  Money,
  onSubmit,
  StatusBadge,
  Table,
  Time,
  useLoad,
} from '../components';

/** An ISO time `minutes` from now, or undefined for "until told". */
function inMinutes(minutes: string): string | undefined {
  const n = Number(minutes);
  return minutes && n > 0 ? new Date(Date.now() + n * 60_000).toISOString() : undefined;
}

type Act = (method: string, path: string, body?: unknown) => Promise<void>;

function StatusControls({ store, act }: { store: Store; act: Act }) {
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('');
  const path = `/api/stores/${store.storeId}/status`;
  return (
    <form
      aria-label={`Status of ${store.storeId}`}
      onSubmit={onSubmit(() =>
        act('PUT', path, { status: 'paused', ...(reason && { reason }), ...withUntil(inMinutes(minutes)) }),
      )}
    >
      <div class="grid">
        <Field label="Reason">
          <input
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
            placeholder="e.g. Short-staffed"
          />
        </Field>
        <Field label="Pause for (minutes)" hint="Empty: until resumed">
          <input type="number" min="1" value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />
        </Field>
      </div>
      <div class="buttons">
        <button type="submit" data-testid={`pause-${store.storeId}`}>
          Pause
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => act('PUT', path, { status: 'offline', ...(reason && { reason }) })}
          data-testid={`offline-${store.storeId}`}
        >
          Take offline
        </button>
        <button
          type="button"
          class="contrast"
          onClick={() => act('PUT', path, { status: 'online' })}
          data-testid={`resume-${store.storeId}`}
        >
          Resume (online)
        </button>
      </div>
    </form>
  );
}

const withUntil = (until: string | undefined) => (until ? { until } : {});

function BusyAndThrottle({ store, act }: { store: Store; act: Act }) {
  const [extra, setExtra] = useState(String(store.busy?.extraPrepMinutes ?? 10));
  const [busyMinutes, setBusyMinutes] = useState('');
  const [perWindow, setPerWindow] = useState(String(store.throttle?.ordersPerWindow ?? 20));
  const [windowMinutes, setWindowMinutes] = useState(String(store.throttle?.windowMinutes ?? 15));
  const base = `/api/stores/${store.storeId}`;
  return (
    <div class="grid">
      <form
        aria-label={`Busy mode of ${store.storeId}`}
        onSubmit={onSubmit(() =>
          act('PUT', `${base}/busy`, {
            extraPrepMinutes: Number(extra),
            ...withUntil(inMinutes(busyMinutes)),
          }),
        )}
      >
        <p>
          Busy mode:{' '}
          {store.busy ? (
            <>
              +{store.busy.extraPrepMinutes} min {store.busy.until && <Time at={store.busy.until} />}
            </>
          ) : (
            'off'
          )}
        </p>
        <div class="grid">
          <Field label="Extra prep minutes">
            <input
              type="number"
              min="1"
              max="120"
              value={extra}
              onInput={(e) => setExtra(e.currentTarget.value)}
            />
          </Field>
          <Field label="For (minutes)" hint="Empty: until cleared">
            <input
              type="number"
              min="1"
              value={busyMinutes}
              onInput={(e) => setBusyMinutes(e.currentTarget.value)}
            />
          </Field>
        </div>
        <div class="buttons">
          <button type="submit">Set busy</button>
          <button type="button" class="secondary" onClick={() => act('DELETE', `${base}/busy`)}>
            Clear busy
          </button>
        </div>
      </form>
      <form
        aria-label={`Throttle of ${store.storeId}`}
        onSubmit={onSubmit(() =>
          act('PUT', `${base}/throttle`, {
            ordersPerWindow: Number(perWindow),
            windowMinutes: Number(windowMinutes),
          }),
        )}
      >
        <p>
          Throttle:{' '}
          {store.throttle
            ? `${store.throttle.ordersPerWindow} orders / ${store.throttle.windowMinutes} min`
            : 'off'}
        </p>
        <div class="grid">
          <Field label="Orders per window">
            <input
              type="number"
              min="1"
              max="1000"
              value={perWindow}
              onInput={(e) => setPerWindow(e.currentTarget.value)}
            />
          </Field>
          <Field label="Window (minutes)">
            <input
              type="number"
              min="5"
              max="120"
              value={windowMinutes}
              onInput={(e) => setWindowMinutes(e.currentTarget.value)}
            />
          </Field>
        </div>
        <div class="buttons">
          <button type="submit">Set throttle</button>
          <button type="button" class="secondary" onClick={() => act('DELETE', `${base}/throttle`)}>
            Clear throttle
          </button>
        </div>
      </form>
    </div>
  );
}

function Menu({ store, act }: { store: Store; act: Act }) {
  return (
    <Table
      caption="Menu"
      testId={`menu-${store.storeId}`}
      rows={store.menu}
      rowKey={(item) => item.sku}
      rowTestId={(item) => `menu-item-${item.sku}`}
      columns={[
        {
          title: 'Item',
          cell: (item) => (
            <>
              {item.name} <small class="muted">{item.sku}</small>
            </>
          ),
        },
        { title: 'Price', cell: (item) => <Money cents={item.price} /> },
        {
          title: 'Available',
          testId: 'item-availability',
          cell: (item) => (
            <>
              <StatusBadge status={item.available ? 'available' : '86'} />{' '}
              {item.until && (
                <small>
                  until <Time at={item.until} />
                </small>
              )}
            </>
          ),
        },
        {
          title: '',
          cell: (item) => (
            <button
              type="button"
              class={item.available ? 'secondary outline small' : 'outline small'}
              onClick={() =>
                act('PUT', `/api/stores/${store.storeId}/items/${item.sku}`, { available: !item.available })
              }
              data-testid={`toggle-${item.sku}`}
              aria-label={item.available ? `86 ${item.name}` : `Sell ${item.name} again`}
            >
              {item.available ? '86 it' : 'Un-86'}
            </button>
          ),
        },
      ]}
    />
  );
}

function PartnersView({ partners, act }: { partners: StoreDetail['partners']; act: Act }) {
  if (!partners) return <p class="muted">The partner simulator is not reachable from this console.</p>;
  const rows = Object.entries(partners.partners).map(([partner, shown]) => ({ partner, ...shown }));
  return (
    <>
      <Table
        caption="What each partner shows"
        testId="partner-views"
        rows={rows}
        rowKey={(row) => row.partner}
        columns={[
          { title: 'Partner', cell: (row) => row.partner },
          { title: 'Their store id', cell: (row) => <code>{row.partnerStoreId}</code> },
          {
            title: 'Status',
            cell: (row) => (
              <>
                <StatusBadge status={row.status} /> {row.pausedUntil && <Time at={row.pausedUntil} />}
              </>
            ),
          },
          {
            title: 'Extra prep',
            cell: (row) => (row.extraPrepMinutes ? `+${row.extraPrepMinutes} min` : '—'),
          },
          {
            title: 'Unavailable items',
            cell: (row) => (row.unavailableItems.length ? row.unavailableItems.join(', ') : 'none'),
          },
          { title: 'Calls received', cell: (row) => row.updates?.length ?? 0 },
        ]}
      />
      {/* The partner simulator's own reset; the next sync (a change, or the minute's sweep) tells them again. */}
      <button
        type="button"
        class="outline secondary small"
        onClick={() => act('DELETE', `/api/simulators/stores/${encodeURIComponent(partners.storeId)}`)}
        data-testid="partners-forget"
      >
        Partners forget this store (simulator)
      </button>
    </>
  );
}

const STORE_REFRESH_MS = 3000;

function StoreCard({ storeId }: { storeId: string }) {
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const {
    value: detail,
    error,
    reload,
  } = useLoad(async () => {
    const got = await call<StoreDetail>('GET', `/api/stores/${storeId}`);
    if (!got.ok) throw new Error(errorText(got));
    return got.body;
  }, [storeId]);
  // The partners hear of a change a moment later (the sync runs off the bus): keep the card current.
  useEffect(() => {
    const timer = setInterval(() => void reload(), STORE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const act: Act = async (method, path, body) => {
    setAnswer(await call(method, path, body));
    await reload();
  };
  if (!detail) return <ErrorNote error={error} />;
  const { store } = detail;
  return (
    <article data-testid={`store-${store.storeId}`}>
      <header>
        <strong>{store.name}</strong> <code>{store.storeId}</code>{' '}
        <StatusBadge status={store.status} testId={`store-status-${store.storeId}`} />{' '}
        {store.reason && <small>{store.reason}</small>}{' '}
        {store.until && (
          <small>
            until <Time at={store.until} />
          </small>
        )}{' '}
        <small class="muted">
          {store.changedBy && `set by ${store.changedBy} · `}version {store.version ?? 0}
        </small>
        <button type="button" class="outline secondary small refresh" onClick={() => reload()}>
          Refresh
        </button>
      </header>
      <ErrorNote error={error} />
      <AnswerView answer={answer} testId={`store-answer-${store.storeId}`} what="Store API" folded />
      <StatusControls store={store} act={act} />
      <BusyAndThrottle store={store} act={act} />
      <Menu store={store} act={act} />
      <PartnersView partners={detail.partners} act={act} />
    </article>
  );
}

export function StoresPage() {
  const { value: stores, error } = useLoad(async () => {
    const answer = await call<{ stores: Store[] }>('GET', '/api/stores');
    if (!answer.ok) throw new Error(errorText(answer));
    return answer.body.stores;
  }, []);
  return (
    <section>
      <h1>Stores</h1>
      <ErrorNote error={error} />
      {stores?.length === 0 && <p class="muted">No stores.</p>}
      {stores?.map((store) => (
        <StoreCard key={store.storeId} storeId={store.storeId} />
      ))}
    </section>
  );
}
