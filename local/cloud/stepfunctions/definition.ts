import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { AwsError } from '../aws-error';
import { type Resource, resourceOf } from './resources';

/** The fields of a Task state the wrapper implements itself. */
export interface TaskState {
  name: string;
  resource: Resource;
  resourceArn: string;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

type Json = Record<string, unknown>;

/** Longest task timer the engine may arm (setTimeout caps at 2^31-1 ms); ours run the real ones. */
const ENGINE_TASK_TIMEOUT_SECONDS = 2_000_000;

/** Features aws-local-stepfunctions would silently ignore or misread: refused at load. */
const UNSUPPORTED_STATE_FIELDS = [
  'Assign',
  'Arguments',
  'Output',
  'Items',
  'ItemReader',
  'ResultWriter',
  'ItemBatcher',
];

/**
 * A validated state machine definition, with one engine StateMachine per entry state
 * (the normal StartAt, plus any state an execution resumes at after a restart), built once.
 */
export class LoadedDefinition {
  readonly tasks = new Map<string, TaskState>();
  readonly topLevelStates: ReadonlySet<string>;
  private readonly runnable: StateMachineDefinition;
  private readonly machines = new Map<string, StateMachine>();

  constructor(
    readonly text: string,
    readonly definition: Json,
  ) {
    walkStates(definition, false, (name, state, nested) => this.checkState(name, state, nested));
    this.topLevelStates = new Set(Object.keys(definition.States as Json));
    this.runnable = engineCopy(definition) as unknown as StateMachineDefinition;
    this.machines.set(
      String(definition.StartAt),
      new StateMachine(this.runnable, { validationOptions: { noValidate: true } }),
    );
  }

  /** The engine machine that starts at `stateName` (a top-level state), cached. */
  machineFrom(stateName?: string): StateMachine {
    const startAt = stateName ?? String(this.definition.StartAt);
    let machine = this.machines.get(startAt);
    if (!machine) {
      if (!this.topLevelStates.has(startAt)) throw new Error(`No top-level state ${startAt}`);
      machine = new StateMachine(
        { ...this.runnable, StartAt: startAt },
        { validationOptions: { noValidate: true } },
      );
      this.machines.set(startAt, machine);
    }
    return machine;
  }

  private checkState(name: string, state: Json, nested: boolean): void {
    if (state.QueryLanguage === 'JSONata') reject(name, 'QueryLanguage JSONata');
    for (const field of UNSUPPORTED_STATE_FIELDS) {
      if (field in state) reject(name, `the field ${field}`);
    }
    if (state.Type !== 'Task') return;
    const resourceArn = String(state.Resource);
    const resource = resourceOf(resourceArn);
    if (!resource) reject(name, `the Resource ${resourceArn}`);
    if (nested && resource.pattern === 'token') {
      // The task token is handed to Parameters through the execution's context object, which
      // branches running side by side would share.
      reject(name, `${resourceArn} inside a Parallel or Map state`);
    }
    this.tasks.set(name, {
      name,
      resource,
      resourceArn,
      timeoutSeconds: optionalNumber(state.TimeoutSeconds),
      timeoutSecondsPath: optionalString(state.TimeoutSecondsPath),
      heartbeatSeconds: optionalNumber(state.HeartbeatSeconds),
      heartbeatSecondsPath: optionalString(state.HeartbeatSecondsPath),
    });
  }
}

/** Parses and checks a definition; throws AwsError('InvalidDefinition') naming the state and feature. */
export function loadDefinition(text: string): LoadedDefinition {
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw new AwsError(
      'InvalidDefinition',
      `Invalid State Machine Definition: not JSON (${(error as Error).message})`,
    );
  }
  if (!isObject(definition) || !isObject(definition.States) || typeof definition.StartAt !== 'string') {
    throw new AwsError(
      'InvalidDefinition',
      'Invalid State Machine Definition: StartAt and States are required',
    );
  }
  if (definition.QueryLanguage === 'JSONata') {
    throw new AwsError('InvalidDefinition', 'Unsupported by the local Step Functions: QueryLanguage JSONata');
  }
  const loaded = new LoadedDefinition(text, definition);
  validateAsl(definition);
  return loaded;
}

function validateAsl(definition: Json): void {
  try {
    // The engine's own validator (asl-validator): paths, ARNs, fields, reachability.
    // on a copy: asl-validator writes a default QueryLanguage into every state it checks
    new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition);
  } catch (error) {
    throw new AwsError('InvalidDefinition', `Invalid State Machine Definition: ${(error as Error).message}`);
  }
}

function reject(stateName: string, feature: string): never {
  throw new AwsError(
    'InvalidDefinition',
    `Unsupported by the local Step Functions: state '${stateName}' uses ${feature}`,
  );
}

/** Calls `visit` for every state, including those inside Parallel branches and Map processors. */
function walkStates(
  machine: Json,
  nested: boolean,
  visit: (name: string, state: Json, nested: boolean) => void,
): void {
  for (const [name, state] of Object.entries((machine.States ?? {}) as Record<string, Json>)) {
    visit(name, state, nested);
    for (const branch of (state.Branches ?? []) as Json[]) walkStates(branch, true, visit);
    const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
    if (processor) walkStates(processor, true, visit);
  }
}

/**
 * The definition the engine runs: task timeouts and heartbeats are ours (the engine would time
 * out every task after 60 s and ignores heartbeats), and `$$.State.Name` — which the engine's
 * context object cannot know — becomes the literal name.
 */
function engineCopy(machine: Json): Json {
  const states: Record<string, Json> = {};
  for (const [name, source] of Object.entries(machine.States as Record<string, Json>)) {
    const state: Json = { ...source };
    if (state.Type === 'Task') {
      delete state.TimeoutSecondsPath;
      delete state.HeartbeatSeconds;
      delete state.HeartbeatSecondsPath;
      state.TimeoutSeconds = ENGINE_TASK_TIMEOUT_SECONDS;
    }
    for (const field of ['Parameters', 'ResultSelector', 'ItemSelector']) {
      if (field in state) state[field] = withStateName(state[field], name);
    }
    if (Array.isArray(state.Branches)) state.Branches = (state.Branches as Json[]).map(engineCopy);
    if (isObject(state.ItemProcessor)) state.ItemProcessor = engineCopy(state.ItemProcessor);
    if (isObject(state.Iterator)) state.Iterator = engineCopy(state.Iterator);
    states[name] = state;
  }
  return { ...machine, States: states };
}

function withStateName(template: unknown, stateName: string): unknown {
  if (Array.isArray(template)) return template.map((item) => withStateName(item, stateName));
  if (!isObject(template)) return template;
  const copy: Json = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && value === '$$.State.Name') copy[key.slice(0, -2)] = stateName;
    else copy[key] = withStateName(value, stateName);
  }
  return copy;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
