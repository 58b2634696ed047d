/**
 * A pool of render workers that split one DRR between threads, with a synchronous API.
 *
 * Platform-neutral: no imports from Node or the DOM. Workers are created through a
 * {@link RenderWorkerFactory} (see `worker-platform.ts` for Node's worker_threads and Web
 * Workers) and run {@link serveRenderWorker}.
 *
 * Protocol. Everything that happens per render goes through shared memory, never postMessage:
 * - Messages (rare): `init` gives a worker the control block; `context` shares a density grid,
 *   its empty-space fields and the output buffers (all SharedArrayBuffer-backed, so nothing is
 *   copied) under a context id; `release` drops one.
 * - The control block (an Int32Array plus a Float64Array of ray parameters) carries the
 *   command. The main thread writes the parameters, resets the counters and publishes the
 *   command by storing a new value in `GENERATION` ((sequence << 2) | kind) and waking the
 *   workers with Atomics.notify. Workers sleep in Atomics.wait on that word.
 * - The image is cut into chunks of pixels. Anyone — the main thread and every participating
 *   worker — claims the next chunk with a compare-and-swap on `CLAIM`, whose upper bits carry
 *   the command's sequence number: a worker that read the parameters of an older command can
 *   never claim a chunk of a newer one (its swap fails), so a claim proves the parameters it read
 *   were the right ones. Each finished chunk increments `COMPLETED`; the main thread, after
 *   rendering chunks itself, waits (Atomics.wait) until all are completed.
 * - A worker that does not know the command's context (its `context` message is still queued)
 *   returns to its event loop to read messages and comes back; the main thread never waits for
 *   a particular worker, so correctness never depends on which workers take part.
 *
 * Every pixel is computed by the same kernel function (`renderPixels` /
 * `renderPixelsWithRayGradients`) from the same inputs whoever renders it, so images and ray
 * gradients are bit-identical for any number of threads.
 */
import type { RayGrid } from '../geometry/detector.js';
import type { DensityGrid } from './density-grid.js';
import type { EmptySpace } from './empty-space.js';
import { backprojectPixels, renderPixels, renderPixelsWithRayGradients, type RenderSettings } from './renderer.js';

/** A started worker, as the pool sees it. */
export interface RenderWorkerHandle {
  /** Sends a message (structured clone; SharedArrayBuffers are shared, not copied). */
  postMessage(message: unknown): void;
  /** Stops the worker. */
  terminate(): void;
}

/**
 * Starts one render worker running {@link serveRenderWorker}; `onFailure` is called (on the
 * main thread's event loop) if the worker dies with an error.
 */
export type RenderWorkerFactory = (onFailure: (error: unknown) => void) => RenderWorkerHandle;

/** The worker side of a message channel: where messages arrive and how to stop. */
export interface RenderWorkerPort {
  /** Registers the handler for messages from the main thread. */
  onMessage(handler: (message: unknown) => void): void;
  /** Schedules `callback` on the worker's event loop (after pending messages, ideally). */
  later(callback: () => void): void;
  /** Ends the worker. */
  close(): void;
}

/** What a context shares with the workers. */
export interface RenderContext {
  /** The density grid (data in a SharedArrayBuffer). */
  readonly grid: DensityGrid;
  /** Empty-space fields (SharedArrayBuffer-backed), or null for full traversal. */
  readonly emptySpace: EmptySpace | null;
  /** Renderer and sampling. */
  readonly settings: RenderSettings;
  /** Output image, one float per pixel (SharedArrayBuffer-backed). */
  readonly image: Float32Array;
  /** Output ray gradients, six per pixel (SharedArrayBuffer-backed), or null when not needed yet. */
  readonly rayGradients: Float64Array | null;
  /** Back-projection: one weight per pixel (SharedArrayBuffer-backed); absent when not needed. */
  readonly weights?: Float64Array | null;
  /**
   * Back-projection: one padded-grid accumulator per band of pixels, band after band
   * (SharedArrayBuffer-backed); absent when not needed. Band b is written only by whoever
   * claims it, so the sum of the bands in order does not depend on the threads.
   */
  readonly accumulators?: Float64Array | null;
  /** Pixel indices of sparse renders (SharedArrayBuffer-backed, one per pixel at most), or null/absent. */
  readonly pixels?: Int32Array | null;
}

// Control block words.
const GENERATION = 0, CLAIM = 1, COMPLETED = 2, FAILED = 3, CONTEXT = 4, VERSION = 5, GRADIENTS = 6;
const CHUNK_COUNT = 7, CHUNK_PIXELS = 8, PIXEL_COUNT = 9, PARTICIPANTS = 10, HEIGHT = 11, WIDTH = 12;
/** Chunks rendered by workers since the pool started (a statistic). */
const WORKER_CHUNKS = 13;
/** Length of the context's pixel list for a sparse render, or −1 for every pixel. */
const SPARSE = 14;
const CONTROL_WORDS = 16;
// GRADIENTS word: what a render command computes.
const IMAGE_ONLY = 0, WITH_RAY_GRADIENTS = 1, BACKPROJECTION = 2;
const PARAMETER_COUNT = 12;
// GENERATION's low two bits: the kind of command.
const RENDER = 1, MAILBOX = 2, EXIT = 3;
/** Chunks per command are at most 2^CHUNK_BITS − 1; the rest of CLAIM holds the sequence tag. */
const CHUNK_BITS = 12;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
const TAG_MASK = (1 << (31 - CHUNK_BITS)) - 1;
/** Iterations of polling before sleeping in Atomics.wait (about 20–50 µs). */
const SPIN = 2000;
/** The main thread gives up on a render when no chunk completes for this long (a dead worker). */
const STALL_MILLISECONDS = 120_000;

interface InitMessage { type: 'init'; control: SharedArrayBuffer; parameters: SharedArrayBuffer; index: number }
interface ContextMessage { type: 'context'; id: number; version: number; context: RenderContext }
interface ReleaseMessage { type: 'release'; id: number }
type PoolMessage = InitMessage | ContextMessage | ReleaseMessage;

/** Reads the ray grid of the current command from the parameter block into `rays` (no allocation). */
function readRays(parameters: Float64Array, control: Int32Array, rays: MutableRayGrid): void {
  for (let axis = 0; axis < 3; axis++) {
    rays.source[axis] = parameters[axis];
    rays.firstPixel[axis] = parameters[3 + axis];
    rays.rowStep[axis] = parameters[6 + axis];
    rays.columnStep[axis] = parameters[9 + axis];
  }
  rays.height = control[HEIGHT];
  rays.width = control[WIDTH];
}

interface MutableRayGrid {
  source: Float64Array; firstPixel: Float64Array; rowStep: Float64Array; columnStep: Float64Array; height: number; width: number;
}

function emptyRays(): MutableRayGrid {
  return { source: new Float64Array(3), firstPixel: new Float64Array(3), rowStep: new Float64Array(3), columnStep: new Float64Array(3), height: 0, width: 0 };
}

/**
 * Renders pixels [start, end) of a context with or without ray gradients — or, for a sparse
 * render (`sparse` ≥ 0), the pixels listed at [start, end) of the context's pixel list.
 */
function renderChunk(context: RenderContext, rays: RayGrid, mode: number, start: number, end: number, sparse = -1, chunk = 0): void {
  if (mode === BACKPROJECTION) {
    // Band `chunk` into its own accumulator (cleared first).
    const size = context.grid.data.length;
    const accumulator = context.accumulators!.subarray(chunk * size, (chunk + 1) * size);
    accumulator.fill(0);
    backprojectPixels(context.grid, rays, context.settings, context.weights!, 0, accumulator, start, end);
    return;
  }
  if (sparse >= 0) {
    const list = context.pixels!;
    for (let index = start; index < end; index++) renderChunk(context, rays, mode, list[index], list[index] + 1);
    return;
  }
  if (mode === WITH_RAY_GRADIENTS) {
    renderPixelsWithRayGradients(context.grid, rays, context.settings, context.image, context.rayGradients!, 0, start, end, context.emptySpace);
  } else {
    renderPixels(context.grid, rays, context.settings, context.image, 0, start, end, context.emptySpace);
  }
}

/**
 * Claims and renders chunks of the command tagged `tag` until none is left. Returns the
 * number rendered. Shared by the main thread and the workers.
 */
function renderClaimedChunks(control: Int32Array, tag: number, context: RenderContext, rays: RayGrid, mode: number, chunkCount: number, chunkPixels: number, pixelCount: number, sparse: number): number {
  let rendered = 0;
  for (;;) {
    const claim = Atomics.load(control, CLAIM);
    if (claim >>> CHUNK_BITS !== tag) return rendered;
    const chunk = claim & CHUNK_MASK;
    if (chunk >= chunkCount) return rendered;
    if (Atomics.compareExchange(control, CLAIM, claim, claim + 1) !== claim) continue;
    const start = chunk * chunkPixels, end = Math.min(pixelCount, start + chunkPixels);
    try {
      renderChunk(context, rays, mode, start, end, sparse, chunk);
    } catch (error) {
      Atomics.add(control, FAILED, 1);
    }
    rendered++;
    if (Atomics.add(control, COMPLETED, 1) + 1 === chunkCount) Atomics.notify(control, COMPLETED);
  }
}

/**
 * The worker side: handles the pool's messages and serves render commands until told to exit.
 * Call it once at the top of a worker script with the platform's port.
 */
export function serveRenderWorker(port: RenderWorkerPort): void {
  let control: Int32Array | null = null;
  let parameters: Float64Array | null = null;
  let index = 0;
  let seen = 0;
  let scheduled = false;
  const contexts = new Map<number, { version: number; context: RenderContext }>();
  const rays = emptyRays();

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    port.later(serve);
  };

  /** Serves commands; returns to the event loop when messages must be read first, or on exit. */
  function serve(): void {
    scheduled = false;
    const block = control!, values = parameters!;
    for (;;) {
      let word = Atomics.load(block, GENERATION);
      for (let spin = 0; word === seen && spin < SPIN; spin++) word = Atomics.load(block, GENERATION);
      if (word === seen) {
        Atomics.wait(block, GENERATION, seen);
        continue;
      }
      seen = word;
      const kind = word & 3;
      if (kind === EXIT) { port.close(); return; }
      if (kind === MAILBOX) { schedule(); return; }
      if (kind !== RENDER || index >= Atomics.load(block, PARTICIPANTS)) continue;
      const entry = contexts.get(Atomics.load(block, CONTEXT));
      if (entry === undefined || entry.version < Atomics.load(block, VERSION)) { schedule(); return; }
      // Read the command; a successful claim below proves it was this command's.
      readRays(values, block, rays);
      const mode = Atomics.load(block, GRADIENTS);
      if (mode === WITH_RAY_GRADIENTS && entry.context.rayGradients === null) { schedule(); return; }
      if (mode === BACKPROJECTION && !(entry.context.weights && entry.context.accumulators)) { schedule(); return; }
      if (Atomics.load(block, SPARSE) >= 0 && !entry.context.pixels) { schedule(); return; }
      const rendered = renderClaimedChunks(block, (word >>> 2) & TAG_MASK, entry.context, rays, mode,
        Atomics.load(block, CHUNK_COUNT), Atomics.load(block, CHUNK_PIXELS), Atomics.load(block, PIXEL_COUNT), Atomics.load(block, SPARSE));
      if (rendered > 0) Atomics.add(block, WORKER_CHUNKS, rendered);
    }
  }

  port.onMessage((raw) => {
    const message = raw as PoolMessage;
    if (message.type === 'init') {
      control = new Int32Array(message.control);
      parameters = new Float64Array(message.parameters);
      index = message.index;
      seen = Atomics.load(control, GENERATION);
      schedule();
    } else if (message.type === 'context') {
      contexts.set(message.id, { version: message.version, context: message.context });
    } else if (message.type === 'release') {
      contexts.delete(message.id);
    }
  });
}

/**
 * The main-thread side: workers started on demand, contexts registered with them, and
 * synchronous renders split between the calling thread and the workers.
 */
export class RenderPool {
  private readonly factory: RenderWorkerFactory;
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  private readonly parameters = new Float64Array(new SharedArrayBuffer(8 * PARAMETER_COUNT));
  private readonly workers: RenderWorkerHandle[] = [];
  private readonly contexts = new Map<number, ContextMessage>();
  private sequence = 0;
  private nextContext = 1;
  private closed = false;
  /** Set when a worker died: the pool then renders on the calling thread only. */
  private broken: unknown = null;

  constructor(factory: RenderWorkerFactory) {
    this.factory = factory;
  }

  /** Workers started so far. */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Chunks of images rendered by workers so far (the rest were rendered by calling threads). */
  get workerChunks(): number {
    return Atomics.load(this.control, WORKER_CHUNKS);
  }

  /** Whether the pool can still use workers. */
  get usable(): boolean {
    return !this.closed && this.broken === null;
  }

  /** Why workers failed (a worker died or stopped responding), or null. */
  get failure(): unknown {
    return this.broken;
  }

  /** Starts workers until there are `count` (never fewer than now). */
  ensureWorkers(count: number): void {
    if (!this.usable) return;
    while (this.workers.length < count) {
      const index = this.workers.length;
      const worker = this.factory((error) => { this.broken = error ?? new Error('render worker failed'); });
      worker.postMessage({ type: 'init', control: this.control.buffer, parameters: this.parameters.buffer, index } satisfies InitMessage);
      for (const message of this.contexts.values()) worker.postMessage(message);
      this.workers.push(worker);
    }
  }

  /** Shares a context with the workers; returns its id. */
  register(context: RenderContext): number {
    const id = this.nextContext++;
    this.publish({ type: 'context', id, version: 1, context });
    return id;
  }

  /** Replaces a context's buffers (e.g. adds ray gradients); workers pick it up before its next use. */
  update(id: number, context: RenderContext): void {
    const previous = this.contexts.get(id);
    this.publish({ type: 'context', id, version: (previous?.version ?? 0) + 1, context });
  }

  /** Drops a context: workers release their references to its buffers. */
  release(id: number): void {
    if (!this.contexts.delete(id)) return;
    for (const worker of this.workers) worker.postMessage({ type: 'release', id } satisfies ReleaseMessage);
    this.command(MAILBOX);
  }

  private publish(message: ContextMessage): void {
    this.contexts.set(message.id, message);
    for (const worker of this.workers) worker.postMessage(message);
    this.command(MAILBOX);
  }

  /** The next command's sequence number (never 0, so a fresh control block holds no command). */
  private advance(): number {
    this.sequence = (this.sequence + 1) & TAG_MASK || 1;
    return this.sequence;
  }

  /** Publishes the command of the current sequence number, of `kind`, and wakes the workers. */
  private publishCommand(kind: number): void {
    Atomics.store(this.control, GENERATION, (this.sequence << 2) | kind);
    Atomics.notify(this.control, GENERATION);
  }

  /** Publishes a command that needs no parameters. */
  private command(kind: number): void {
    this.advance();
    this.publishCommand(kind);
  }

  /**
   * Renders the whole image of context `id` for `rays` (with ray gradients when `gradients`),
   * on the calling thread and up to `helpers` workers, and returns when every pixel is done.
   * With `sparse` ≥ 0 only the first `sparse` pixels of the context's pixel list are rendered.
   */
  render(id: number, rays: RayGrid, gradients: boolean, helpers: number, sparse = -1): void {
    const message = this.contexts.get(id);
    if (message === undefined) throw new Error(`render context ${id} is not registered`);
    const context = message.context;
    if (sparse >= 0 && !context.pixels) throw new Error(`render context ${id} has no pixel list for a sparse render`);
    const pixelCount = sparse >= 0 ? sparse : rays.height * rays.width;
    const participants = this.usable ? Math.min(helpers, this.workers.length) : 0;
    const mode = gradients ? WITH_RAY_GRADIENTS : IMAGE_ONLY;
    if (participants === 0 || pixelCount === 0) {
      renderChunk(context, rays, mode, 0, pixelCount, sparse);
      return;
    }
    // About eight chunks per thread, so a thread slowed by other processes costs little.
    let chunkPixels = Math.max(1, Math.ceil(pixelCount / (8 * (participants + 1))));
    if (Math.ceil(pixelCount / chunkPixels) > CHUNK_MASK) chunkPixels = Math.ceil(pixelCount / CHUNK_MASK);
    this.run(message, rays, mode, participants, Math.ceil(pixelCount / chunkPixels), chunkPixels, pixelCount, sparse);
  }

  /**
   * Back-projects the context's `weights` (one per pixel) for `rays` into its accumulators: the
   * image is cut into as many bands as there are accumulators, band b goes to accumulator b
   * (whichever thread takes it), on the calling thread and up to `helpers` workers. The caller
   * sums the bands in order, so the result depends on the number of bands only.
   */
  backproject(id: number, rays: RayGrid, helpers: number): void {
    const message = this.contexts.get(id);
    if (message === undefined) throw new Error(`render context ${id} is not registered`);
    const context = message.context;
    if (!context.weights || !context.accumulators) throw new Error(`render context ${id} has no back-projection buffers`);
    const pixelCount = rays.height * rays.width;
    const bands = Math.floor(context.accumulators.length / context.grid.data.length);
    if (bands < 1 || bands > CHUNK_MASK) throw new Error(`back-projection needs 1 to ${CHUNK_MASK} accumulators, got ${bands}`);
    const bandPixels = Math.ceil(pixelCount / bands);
    const participants = this.usable ? Math.min(helpers, this.workers.length) : 0;
    if (participants === 0) {
      for (let band = 0; band < bands; band++) {
        renderChunk(context, rays, BACKPROJECTION, Math.min(pixelCount, band * bandPixels), Math.min(pixelCount, (band + 1) * bandPixels), -1, band);
      }
      return;
    }
    this.run(message, rays, BACKPROJECTION, participants, bands, bandPixels, pixelCount, -1);
  }

  /** Publishes one command of `chunkCount` chunks and takes part in it until every chunk is done. */
  private run(message: ContextMessage, rays: RayGrid, mode: number, participants: number, chunkCount: number, chunkPixels: number, pixelCount: number, sparse: number): void {
    const context = message.context, id = message.id;
    const control = this.control, parameters = this.parameters;
    for (let axis = 0; axis < 3; axis++) {
      parameters[axis] = rays.source[axis];
      parameters[3 + axis] = rays.firstPixel[axis];
      parameters[6 + axis] = rays.rowStep[axis];
      parameters[9 + axis] = rays.columnStep[axis];
    }
    Atomics.store(control, HEIGHT, rays.height);
    Atomics.store(control, WIDTH, rays.width);
    Atomics.store(control, CONTEXT, id);
    Atomics.store(control, VERSION, message.version);
    Atomics.store(control, GRADIENTS, mode);
    Atomics.store(control, CHUNK_COUNT, chunkCount);
    Atomics.store(control, CHUNK_PIXELS, chunkPixels);
    Atomics.store(control, PIXEL_COUNT, pixelCount);
    Atomics.store(control, SPARSE, sparse);
    Atomics.store(control, PARTICIPANTS, participants);
    Atomics.store(control, COMPLETED, 0);
    Atomics.store(control, FAILED, 0);
    const sequence = this.advance();
    Atomics.store(control, CLAIM, sequence << CHUNK_BITS);
    this.publishCommand(RENDER);
    renderClaimedChunks(control, sequence, context, rays, mode, chunkCount, chunkPixels, pixelCount, sparse);
    // Wait for the chunks other threads are still rendering.
    let completed = Atomics.load(control, COMPLETED);
    for (let spin = 0; completed < chunkCount && spin < SPIN; spin++) completed = Atomics.load(control, COMPLETED);
    let waitedSince = 0;
    while (completed < chunkCount) {
      if (Atomics.wait(control, COMPLETED, completed, 1000) === 'timed-out') {
        const now = performance.now();
        if (waitedSince === 0) waitedSince = now;
        else if (now - waitedSince > STALL_MILLISECONDS || this.broken !== null) {
          this.broken ??= new Error('a render worker stopped responding');
          throw new Error(`render workers stopped responding (${completed} of ${chunkCount} parts done)`);
        }
      } else waitedSince = 0;
      completed = Atomics.load(control, COMPLETED);
    }
    if (Atomics.load(control, FAILED) !== 0) throw new Error('rendering failed in a render thread');
  }

  /** Stops every worker. The pool then renders on the calling thread only. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.command(EXIT);
    for (const worker of this.workers) worker.terminate();
    this.workers.length = 0;
    this.contexts.clear();
  }
}
