/**
 * The runtime inside one execution environment (a worker thread): imports the function's bundle
 * once (the init phase), then runs the invocations the pool sends, one at a time, and answers with
 * the JSON payload or a Lambda-shaped error. Plain JavaScript so that it runs in a worker under any
 * loader (tsx, Jest) without a transform.
 */
import { readlinkSync } from 'node:fs';
import module from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {{ errorType: string, errorMessage: string, trace?: string[] }} LambdaError */

/** Shapes what was thrown the way Lambda's Node.js runtime interface client does. */
function toLambdaError(thrown) {
  try {
    if (types.isNativeError(thrown) || (thrown && typeof thrown === 'object' && 'stack' in thrown)) {
      return {
        errorType: thrown.name,
        errorMessage: thrown.message,
        trace: String(thrown.stack ?? '').split('\n'),
      };
    }
    return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'the handler failed with a value that cannot be described' };
  }
}

/** Init failures carry the runtime's own error types, so they read like Lambda's console. */
function initError(thrown) {
  const error = toLambdaError(thrown);
  if (thrown?.code === 'ERR_MODULE_NOT_FOUND') return { ...error, errorType: 'Runtime.ImportModuleError' };
  if (thrown instanceof SyntaxError) return { ...error, errorType: 'Runtime.UserCodeSyntaxError' };
  return error;
}

async function loadHandler() {
  const module = await import(pathToFileURL(workerData.bundlePath).href);
  const handler = module[workerData.handlerExport] ?? module.default?.[workerData.handlerExport];
  if (typeof handler !== 'function') {
    const error = new Error(`${workerData.handlerName} is undefined or not exported`);
    error.name = 'Runtime.HandlerNotFound';
    throw error;
  }
  return handler;
}

function contextFor(request, settle) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: workerData.functionName,
    functionVersion: workerData.functionVersion,
    invokedFunctionArn: workerData.invokedFunctionArn,
    memoryLimitInMB: workerData.memoryLimitInMB,
    awsRequestId: request.requestId,
    logGroupName: workerData.logGroupName,
    logStreamName: workerData.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, request.deadline - Date.now()),
    // The legacy completion methods, still honoured by Lambda's runtime.
    done: (error, value) => (error == null ? settle.succeed(value) : settle.fail(error)),
    succeed: (value) => settle.succeed(value),
    fail: (error) => settle.fail(error),
  };
}

/** Runs the handler in either style: a returned promise, or the (error, result) callback. */
function callHandler(handler, event, request) {
  return new Promise((resolve, reject) => {
    // The first of promise, callback or context.done wins: a settled promise ignores the rest.
    const settle = { succeed: resolve, fail: reject };
    const callback = (error, value) => (error == null ? settle.succeed(value) : settle.fail(error));
    let returned;
    try {
      returned = handler(event, contextFor(request, settle), callback);
    } catch (error) {
      settle.fail(error);
      return;
    }
    if (typeof returned?.then === 'function') returned.then(settle.succeed, settle.fail);
    else if (handler.length < 3) settle.succeed(returned);
  });
}

async function invoke(handler, request) {
  process.env._X_AMZN_TRACE_ID = request.traceId;
  const started = performance.now();
  try {
    const result = await callHandler(handler, JSON.parse(request.event), request);
    const payload = JSON.stringify(result === undefined ? null : result);
    const durationMs = performance.now() - started;
    parentPort.postMessage({ type: 'result', requestId: request.requestId, payload, durationMs });
  } catch (thrown) {
    const durationMs = performance.now() - started;
    parentPort.postMessage({
      type: 'error',
      requestId: request.requestId,
      error: toLambdaError(thrown),
      durationMs,
    });
  }
}

/**
 * Lowers this thread's CPU priority by `niceness` from what it inherited (sandbox.ts says why), so a
 * local cloud started under `nice` keeps its workflow below the rest of it, never above. Linux gives
 * each thread a nice value of its own, named by its thread id; elsewhere the sandbox keeps the
 * process's priority.
 */
function lowerPriority(niceness) {
  try {
    const thread = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(thread, Math.min(19, getPriority(thread) + niceness));
  } catch {
    // not Linux: every sandbox runs at the same priority
  }
}

const initStarted = performance.now();
if (workerData.niceness !== undefined) lowerPriority(workerData.niceness);
// Every sandbox compiles the same bundle and SDK: V8's code cache on disk spares the later ones
// the parse (about a sixth of a cold start's CPU). Only speed changes: each still evaluates its modules.
if (workerData.compileCacheDir) module.enableCompileCache?.(workerData.compileCacheDir);
try {
  const handler = await loadHandler();
  parentPort.on('message', (request) => invoke(handler, request));
  parentPort.postMessage({ type: 'ready', initDurationMs: performance.now() - initStarted });
} catch (thrown) {
  // No message listener: the worker ends once this is delivered.
  parentPort.postMessage({ type: 'init-error', error: initError(thrown) });
}
