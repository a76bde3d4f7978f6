/**
 * Dead letters: every dead-letter queue of the stack with its depth, a look at its messages (left
 * in the queue) and a redrive that sends each back where it was going.
 */
import { useState } from 'preact/hooks';
import { type Answer, call, errorText } from '../api';
import { AnswerView, ErrorNote, Table, Time, useLoad } from '../components';

interface Queue {
  name: string;
  messages: number;
}

interface DeadLetter {
  messageId: string;
  sentAt?: string;
  receiveCount?: number;
  attributes?: Record<string, string>;
  event?: { source: string; detailType: string; detail: unknown };
  body?: string;
}

function Messages({ name }: { name: string }) {
  const { value: answer } = useLoad(
    () => call<{ messages: DeadLetter[] }>('GET', `/api/dead-letters/${encodeURIComponent(name)}/messages`),
    [name],
  );
  if (!answer) return <p aria-busy="true">Reading messages…</p>;
  if (!answer.ok) return <ErrorNote error={errorText(answer)} />;
  return (
    <Table
      caption={`Messages in ${name} (at most 10, left in the queue)`}
      testId={`dead-letter-messages-${name}`}
      rows={answer.body.messages}
      rowKey={(message) => message.messageId}
      empty="The queue is empty."
      columns={[
        { title: 'Message', cell: (message) => <small>{message.messageId}</small> },
        { title: 'Sent', cell: (message) => <Time at={message.sentAt} /> },
        { title: 'Received', cell: (message) => `${message.receiveCount ?? 0}×` },
        {
          title: 'What',
          cell: (message) =>
            message.event ? (
              <>
                <code>{message.event.detailType}</code> <small class="muted">{message.event.source}</small>
              </>
            ) : (
              <small class="muted">raw message</small>
            ),
        },
        {
          title: 'Why / content',
          cell: (message) => (
            <details>
              <summary>
                {Object.entries(message.attributes ?? {})
                  .filter(([key]) => /ERROR|CODE|MESSAGE/i.test(key))
                  .map(([key, value]) => `${key}: ${value}`)
                  .join(' · ') || 'show'}
              </summary>
              <pre>{message.event ? JSON.stringify(message.event.detail, null, 2) : message.body}</pre>
            </details>
          ),
        },
      ]}
    />
  );
}

export function DeadLettersPage() {
  const [open, setOpen] = useState<string | undefined>(undefined);
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const {
    value: queues,
    error,
    reload,
  } = useLoad(async () => {
    const got = await call<{ queues: Queue[] }>('GET', '/api/dead-letters');
    if (!got.ok) throw new Error(errorText(got));
    return got.body.queues;
  }, []);
  const redrive = async (name: string) => {
    setAnswer(await call('POST', `/api/dead-letters/${encodeURIComponent(name)}/redrive`));
    await reload();
  };
  return (
    <section>
      <hgroup>
        <h1>Dead letters</h1>
        <p>What could not be delivered after its retries. Fix the cause, then redrive.</p>
      </hgroup>
      <ErrorNote error={error} />
      <AnswerView answer={answer} testId="redrive-answer" what="Redrive" />
      <Table
        testId="dead-letter-queues"
        rows={queues ?? []}
        rowKey={(queue) => queue.name}
        rowTestId={(queue) => `dlq-${queue.name}`}
        empty={queues ? 'This stack has no dead-letter queues.' : 'Loading…'}
        columns={[
          { title: 'Queue', cell: (queue) => <code>{queue.name}</code> },
          {
            title: 'Depth',
            testId: 'dlq-depth',
            cell: (queue) => (
              <strong class={queue.messages > 0 ? 'depth-alert' : ''}>{queue.messages}</strong>
            ),
          },
          {
            title: '',
            cell: (queue) => (
              <div class="buttons">
                <button
                  type="button"
                  class="outline small"
                  onClick={() => setOpen(open === queue.name ? undefined : queue.name)}
                  aria-expanded={open === queue.name}
                >
                  {open === queue.name ? 'Hide messages' : 'Show messages'}
                </button>
                <button
                  type="button"
                  class="small"
                  disabled={queue.messages === 0}
                  onClick={() => redrive(queue.name)}
                  data-testid={`redrive-${queue.name}`}
                >
                  Redrive
                </button>
              </div>
            ),
          },
        ]}
      />
      <button type="button" class="outline secondary small" onClick={() => reload()}>
        Refresh
      </button>
      {open && <Messages key={open} name={open} />}
    </section>
  );
}
