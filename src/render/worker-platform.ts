/**
 * The platform adapters of the render pool: how to start a render worker and how many threads
 * there are. Node's worker_threads are reached through `process.getBuiltinModule` (Node ≥ 20.16),
 * so this module has no static import of Node and loads in a browser too, where Web Workers are
 * used instead.
 *
 * In a page built by a bundler (Vite, webpack, …) the worker script must be one of the bundle's
 * entries, which the library cannot name for the bundler: the page tells the pool how to start a
 * render worker with {@link setWebRenderWorker}, from a worker entry file of its own whose only
 * line is `import 'drrkit/<path>/render/render-worker.js'` (the library's worker script). Without
 * that call, Web Workers load `render-worker.js` beside this module, which works when the
 * library's dist/ files are served as they are.
 */
import { RenderPool, type RenderWorkerFactory, type RenderWorkerHandle } from './render-pool.js';

/** The part of Node's worker_threads module used here. */
interface NodeWorkerThreads {
  Worker: new (url: URL) => RenderWorkerHandle & { unref(): void; on(event: string, listener: (value: unknown) => void): void };
}

/** The part of Node's os module used here. */
interface NodeOs {
  availableParallelism?: () => number;
  cpus(): unknown[];
}

/** Node's `process.getBuiltinModule`, where it exists. */
function nodeBuiltin<T>(name: string): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof process?.getBuiltinModule === 'function' ? (process.getBuiltinModule(name) as T | undefined) : undefined;
}

/**
 * The worker script's file, beside this module (dist/src/render). Held in a variable so that a
 * bundler does not take `new URL(…, import.meta.url)` for an asset to inline: a bundled page names
 * its own worker entry through {@link setWebRenderWorker}.
 */
const WORKER_SCRIPT_NAME = './render-worker.js';

/** The URL of the worker script. */
function workerScript(): URL {
  return new URL(WORKER_SCRIPT_NAME, import.meta.url);
}

/** Starts Node worker_threads that do not keep the process alive (unref). */
export function nodeWorkerFactory(): RenderWorkerFactory | null {
  const threads = nodeBuiltin<NodeWorkerThreads>('node:worker_threads');
  if (threads === undefined) return null;
  return (onFailure) => {
    const worker = new threads.Worker(workerScript());
    worker.unref();
    worker.on('error', onFailure);
    return worker;
  };
}

/** A started Web Worker, as far as the render pool uses it. */
export interface WebRenderWorker extends RenderWorkerHandle {
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/** How to start a render Web Worker, when the page says (see {@link setWebRenderWorker}). */
let startWebRenderWorker: (() => WebRenderWorker) | null = null;

/**
 * Tells the render pool how to start its Web Workers: `start` returns a new module worker running
 * the library's worker script (src/render/render-worker.ts). A bundled page needs this, because
 * only the page's own code can name the worker entry for its bundler — with Vite:
 *
 *     // render.worker.ts
 *     import 'drrkit/dist/src/render/render-worker.js';
 *     // where the DRRs are made (the page's engine worker)
 *     setWebRenderWorker(() => new Worker(new URL('./render.worker.ts', import.meta.url), { type: 'module' }));
 *
 * Call it before the first multi-threaded render; `null` restores the default (`render-worker.js`
 * beside this module). A pool already running keeps its workers until `closeRenderPool()`.
 */
export function setWebRenderWorker(start: (() => WebRenderWorker) | null): void {
  startWebRenderWorker = start;
}

/** Starts module Web Workers (for a page or a worker that is cross-origin isolated). */
export function webWorkerFactory(): RenderWorkerFactory | null {
  const WebWorker = (globalThis as { Worker?: new (url: URL, options: { type: 'module' }) => WebRenderWorker }).Worker;
  if (startWebRenderWorker === null && typeof WebWorker !== 'function') return null;
  const start = startWebRenderWorker ?? (() => new WebWorker!(workerScript(), { type: 'module' }));
  return (onFailure) => {
    const worker = start();
    worker.addEventListener('error', onFailure);
    return worker;
  };
}

/**
 * Whether this thread may block in Atomics.wait with SharedArrayBuffers: Node (any thread) and
 * Web Workers, but not a browser page's main thread.
 */
export function canBlockOnAtomics(): boolean {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return false;
  if (nodeBuiltin('node:worker_threads') !== undefined) return true;
  const scope = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return scope.document === undefined && scope.WorkerGlobalScope !== undefined;
}

/** The platform's worker factory: Node's worker_threads, else Web Workers, else none. */
export function defaultWorkerFactory(): RenderWorkerFactory | null {
  if (!canBlockOnAtomics()) return null;
  return nodeWorkerFactory() ?? webWorkerFactory();
}

/** The number of threads that can run at once: os.availableParallelism() or navigator.hardwareConcurrency. */
export function availableThreads(): number {
  const os = nodeBuiltin<NodeOs>('node:os');
  if (os !== undefined) return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const navigator = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, navigator?.hardwareConcurrency ?? 1);
}

let sharedPool: RenderPool | null = null;

/**
 * The process-wide render pool that DRRs with `threads` > 1 share (created on first use), or
 * null where this platform cannot run one. Its workers do not keep a Node process alive.
 */
export function sharedRenderPool(): RenderPool | null {
  if (sharedPool !== null && sharedPool.usable) return sharedPool;
  // After a worker failure (say, the worker script cannot load) render on the calling thread
  // rather than start failing workers again; closeRenderPool() allows a new attempt.
  if (sharedPool !== null && sharedPool.failure !== null) return null;
  const factory = defaultWorkerFactory();
  if (factory === null) return null;
  sharedPool = new RenderPool(factory);
  return sharedPool;
}

/** Stops the shared pool's workers (a later multi-threaded render starts new ones, even after a failure). */
export function closeRenderPool(): void {
  sharedPool?.close();
  sharedPool = null;
}
