/**
 * The render worker's script: serves the render pool (see `render-pool.ts`) on Node's
 * worker_threads or as a module Web Worker.
 */
import { serveRenderWorker, type RenderWorkerPort } from './render-pool.js';

interface NodeParentPort {
  on(event: 'message', listener: (message: unknown) => void): void;
  close(): void;
}

const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; exit(code?: number): void } }).process;
const threads = typeof process?.getBuiltinModule === 'function'
  ? (process.getBuiltinModule('node:worker_threads') as { parentPort: NodeParentPort | null } | undefined)
  : undefined;

let port: RenderWorkerPort;
if (threads?.parentPort) {
  const parent = threads.parentPort;
  port = {
    onMessage: (handler) => parent.on('message', handler),
    later: (callback) => setImmediate(callback),
    close: () => process!.exit(0),
  };
} else {
  const scope = globalThis as unknown as { addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void; close(): void };
  port = {
    onMessage: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
    later: (callback) => setTimeout(callback, 0),
    close: () => scope.close(),
  };
}
serveRenderWorker(port);
