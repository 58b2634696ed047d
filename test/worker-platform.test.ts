import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setWebRenderWorker, webWorkerFactory, type WebRenderWorker } from '../src/render/worker-platform.js';

test('setWebRenderWorker: the pool starts Web Workers the way the page says, and null restores the default', () => {
  const started: Array<{ messages: unknown[]; listeners: Array<[string, (event: unknown) => void]>; terminated: boolean }> = [];
  setWebRenderWorker(() => {
    const record = { messages: [] as unknown[], listeners: [] as Array<[string, (event: unknown) => void]>, terminated: false };
    started.push(record);
    const worker: WebRenderWorker = {
      postMessage: (message) => record.messages.push(message),
      terminate: () => { record.terminated = true; },
      addEventListener: (type, listener) => record.listeners.push([type, listener]),
    };
    return worker;
  });
  try {
    const factory = webWorkerFactory();
    assert.ok(factory, 'a factory exists once the page has said how to start workers, even without a global Worker');
    const failures: unknown[] = [];
    const handle = factory((error) => failures.push(error));
    assert.equal(started.length, 1);
    handle.postMessage('hello');
    assert.deepEqual(started[0].messages, ['hello']);
    // The pool learns of a worker that fails to load through its error event.
    assert.equal(started[0].listeners.length, 1);
    assert.equal(started[0].listeners[0][0], 'error');
    started[0].listeners[0][1]('script failed');
    assert.deepEqual(failures, ['script failed']);
    handle.terminate();
    assert.equal(started[0].terminated, true);
  } finally {
    setWebRenderWorker(null);
  }
  // Node has no global Worker: without the page's hook there is no Web Worker factory.
  const hasGlobalWorker = typeof (globalThis as { Worker?: unknown }).Worker === 'function';
  assert.equal(webWorkerFactory() === null, !hasGlobalWorker);
});
