/**
 * One order: what it is (status, items, total, timeline), its executions each drawn from its own
 * ASL definition beside its events, the events published for it and its functions' log lines, and
 * the operator's cancel (with a reason) and release. Refreshes itself until the order has ended
 * and no execution runs.
 */
import { useEffect, useState } from 'preact/hooks';
import { type Answer, call, errorText, type OrderDetail } from '../api';
import { AnswerView, ErrorNote, Field, Link, Money, onSubmit, StatusBadge, Table, Time } from '../components';
import { ExecutionView } from '../execution-graph';

const ENDED = ['REJECTED', 'RELEASED', 'CANCELLED', 'FAILED'];
const REFRESH_MS = 1500;

function isSettled(detail: OrderDetail): boolean {
  return ENDED.includes(detail.order.status) && detail.executions.every((e) => e.status !== 'RUNNING');
}

function OperatorActions(props: { orderId: string; status: string; onDone: () => void }) {
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const act = async (what: 'cancel' | 'release') => {
    setAnswer(
      await call('POST', `/api/orders/${props.orderId}/${what}`, what === 'cancel' ? { reason } : undefined),
    );
    setAsking(false);
    props.onDone();
  };
  const ended = ENDED.includes(props.status);
  return (
    <section aria-label="Operator actions" class="actions">
      <div class="buttons">
        <button type="button" onClick={() => act('release')} disabled={ended} data-testid="release-button">
          Release to kitchen
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => setAsking(true)}
          disabled={ended}
          data-testid="cancel-button"
        >
          Cancel order…
        </button>
      </div>
      {asking && (
        <form onSubmit={onSubmit(() => act('cancel'))} data-testid="cancel-form">
          <Field label="Reason for cancelling">
            <input
              name="reason"
              required
              value={reason}
              onInput={(event) => setReason(event.currentTarget.value)}
              data-testid="cancel-reason"
            />
          </Field>
          <div class="buttons">
            <button type="submit" data-testid="cancel-confirm">
              Cancel the order
            </button>
            <button type="button" class="secondary outline" onClick={() => setAsking(false)}>
              Keep it
            </button>
          </div>
        </form>
      )}
      <AnswerView answer={answer} testId="operator-answer" what="Operator API" />
    </section>
  );
}

function Summary({ detail }: { detail: OrderDetail }) {
  const { order } = detail;
  return (
    <dl class="summary">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={order.status} testId="order-status" />
        {order.denyReason && <small> {order.denyReason}</small>}
      </dd>
      <dt>Partner</dt>
      <dd>
        {order.partner} <small class="muted">{order.partnerOrderId}</small>
      </dd>
      <dt>Store</dt>
      <dd>{order.storeId}</dd>
      <dt>Total</dt>
      <dd data-testid="order-total">
        <Money cents={order.total} />
      </dd>
      <dt>Pickup</dt>
      <dd>
        <Time at={order.pickupAt} />
      </dd>
      <dt>POS order</dt>
      <dd>{order.posReference ?? <span class="muted">—</span>}</dd>
    </dl>
  );
}

function ItemsAndTimeline({ detail }: { detail: OrderDetail }) {
  return (
    <div class="grid">
      <Table
        caption="Items"
        testId="order-items"
        rows={detail.order.items}
        rowKey={(item) => `${item.sku}-${item.name}-${item.quantity}`}
        columns={[
          { title: 'Qty', cell: (item) => item.quantity },
          {
            title: 'Item',
            cell: (item) => (
              <>
                {item.name} <small class="muted">{item.sku}</small>
                {item.modifiers?.map((modifier) => (
                  <div key={modifier.name}>
                    <small>+ {modifier.name}</small>
                  </div>
                ))}
                {item.notes && (
                  <div>
                    <small>“{item.notes}”</small>
                  </div>
                )}
              </>
            ),
          },
          { title: 'Price', cell: (item) => <Money cents={item.unitPrice} /> },
        ]}
      />
      <Table
        caption="Timeline"
        testId="order-timeline"
        rows={detail.order.timeline}
        rowKey={(entry) => `${entry.at}-${entry.event}`}
        columns={[
          { title: 'When', cell: (entry) => <Time at={entry.at} /> },
          { title: 'What', cell: (entry) => entry.event },
          { title: 'Detail', cell: (entry) => <small>{entry.detail ?? ''}</small> },
        ]}
      />
    </div>
  );
}

function BusEventsAndLogs({ detail }: { detail: OrderDetail }) {
  return (
    <>
      <Table
        caption="Events on the bus"
        testId="bus-events"
        rows={detail.busEvents}
        rowKey={(event) => `${event.time}-${event.detailType}`}
        empty="No events seen for this order yet."
        columns={[
          { title: 'Time', cell: (event) => <Time at={event.time} /> },
          { title: 'Detail type', cell: (event) => <code>{event.detailType}</code> },
          {
            title: 'Detail',
            cell: (event) => (
              <details>
                <summary>show</summary>
                <pre>{JSON.stringify(event.detail, null, 2)}</pre>
              </details>
            ),
          },
        ]}
      />
      <Table
        caption="Function log lines"
        testId="order-logs"
        rows={detail.logs}
        rowKey={(line) => `${line.timestamp}-${line.functionName}-${line.message.slice(0, 40)}`}
        empty="No log lines carry this order's id yet."
        columns={[
          { title: 'Time', cell: (line) => <Time at={line.timestamp} /> },
          { title: 'Function', cell: (line) => <small>{line.functionName}</small> },
          { title: 'Level', cell: (line) => <StatusBadge status={line.level || 'INFO'} /> },
          { title: 'Message', cell: (line) => <small class="log-line">{line.message}</small> },
        ]}
      />
    </>
  );
}

export function OrderPage({ orderId }: { orderId: string }) {
  const [detail, setDetail] = useState<OrderDetail | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const answer = await call<OrderDetail>('GET', `/api/orders/${orderId}`);
      if (stopped) return;
      if (answer.ok) {
        setDetail(answer.body);
        setError(undefined);
      } else setError(errorText(answer));
      // Until the order has ended and its executions stopped, what it shows can still change.
      if (!answer.ok || !isSettled(answer.body)) timer = setTimeout(load, REFRESH_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [orderId, refreshes]);

  return (
    <section>
      <p>
        <Link href="/">← Orders</Link>
      </p>
      <h1>
        Order <code data-testid="order-id">{orderId}</code>
      </h1>
      <ErrorNote error={error} />
      {detail && (
        <>
          <div class="grid">
            <Summary detail={detail} />
            <OperatorActions
              orderId={orderId}
              status={detail.order.status}
              onDone={() => setRefreshes((n) => n + 1)}
            />
          </div>
          <ItemsAndTimeline detail={detail} />
          <h2>Executions</h2>
          {detail.executions.length === 0 && <p class="muted">No execution has started for this order.</p>}
          {detail.executions.map((execution) => (
            <ExecutionView key={execution.executionArn} execution={execution} />
          ))}
          <BusEventsAndLogs detail={detail} />
        </>
      )}
    </section>
  );
}
