import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';

/**
 * A task failure as ASL sees it: the engine matches Retry/Catch on `name` and reports `message`
 * as the Cause, so the error name is the ASL error (e.g. `DynamoDB.ConditionalCheckFailedException`).
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** `States.Runtime`: fails the execution; neither Retry nor Catch may pick it up (as on AWS). */
export class StatesRuntimeFailure extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}

/**
 * `States.DataLimitExceeded`: a state's input or output, or a task's result, over the 256 KiB quota.
 * A terminal error: `States.ALL` does not catch it (AWS's error-handling docs), nor does a Retry.
 */
export class DataLimitExceeded extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  private constructor(message: string) {
    super(message);
    this.name = 'States.DataLimitExceeded';
  }

  static input(state: string, bytes: number): DataLimitExceeded {
    return new DataLimitExceeded(
      `The state/task '${state}' has an input of ${bytes} bytes, exceeding the maximum of 262144 bytes.`,
    );
  }

  static output(state: string, bytes: number): DataLimitExceeded {
    return new DataLimitExceeded(
      `The state/task '${state}' returned a result of ${bytes} bytes, exceeding the maximum of 262144 bytes.`,
    );
  }

  static result(state: string, bytes: number): DataLimitExceeded {
    return new DataLimitExceeded(
      `The task '${state}' returned a result of ${bytes} bytes, exceeding the maximum of 262144 bytes.`,
    );
  }
}

/** Thrown into a task whose execution was stopped or suspended by a shutdown. */
export class ExecutionStopped extends StatesRuntimeFailure {
  constructor() {
    super('Execution stopped');
  }
}

type TimeoutErrorClass = new () => Error;
let timeoutClass: Promise<TimeoutErrorClass> | undefined;

/**
 * The engine treats `States.TaskFailed` in Retry/Catch as "any task error except a timeout", and
 * tells timeouts apart with `instanceof` on its own, unexported StatesTimeoutError. Our timeouts
 * (TimeoutSecondsPath, callbacks, resumed waits) must be instances of that class, so we let the
 * engine time out a 1 ms task once and keep the class of the error it produced.
 */
function engineTimeoutClass(): Promise<TimeoutErrorClass> {
  timeoutClass ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: 'Probe',
        States: {
          Probe: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      },
      { validationOptions: { noValidate: true } },
    );
    // The task never answers, so only the engine's timeout can end it, however busy the machine is.
    const never = () => new Promise<null>(() => {});
    const run = probe.run({}, { overrides: { taskResourceLocalHandlers: { Probe: never } } });
    try {
      await run.result;
    } catch (error) {
      const cause = error instanceof ExecutionError ? error.cause : undefined;
      if (cause instanceof Error && cause.name === 'States.Timeout') {
        return cause.constructor as TimeoutErrorClass;
      }
    }
    throw new Error('aws-local-stepfunctions did not time out its probe task: cannot build States.Timeout');
  })();
  // A failed probe is not kept: the next timeout tries again.
  timeoutClass.catch(() => {
    timeoutClass = undefined;
  });
  return timeoutClass;
}

/** A `States.Timeout` the engine recognises as a timeout (not matched by `States.TaskFailed`). */
export async function statesTimeout(cause: string): Promise<Error> {
  const TimeoutError = await engineTimeoutClass();
  const error = new TimeoutError();
  error.message = cause;
  return error;
}
