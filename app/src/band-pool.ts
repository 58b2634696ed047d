/**
 * Splitting one DRR across threads: the detector's rows are dealt out in turn (thread k of T
 * renders rows k, k + T, k + 2T, …), the engine renders its own rows and helper workers the
 * others, all reading one density grid held in a SharedArrayBuffer and writing into shared output
 * buffers. A thread's rays are the full image's RayGrid with `firstPixel` moved down k rows and
 * `rowStep` multiplied by T, so every pixel is cast by exactly the same library kernel
 * (src/render/renderer.ts) as in a single-threaded render.
 *
 * The engine blocks in Atomics.wait (allowed in workers) until every helper has finished its band,
 * so `BandedDRR.render` stays synchronous and the library's `register` loop runs unchanged.
 */
import { DRR, type DRROptions, type Pose, poseToTransform } from '../../src/drr.js';
import type { RayGrid } from '../../src/geometry/detector.js';
import type { DensityGrid } from '../../src/render/density-grid.js';
import type { EmptySpace } from '../../src/render/empty-space.js';
import { renderPixels, renderPixelsWithRayGradients, type RenderSettings } from '../../src/render/renderer.js';
import type { Volume } from '../../src/volume/volume.js';

/** A band job as posted to a helper: every `stride`-th row from `row`, written from `offset` on. */
export interface BandJob {
  type: 'band';
  rays: { source: number[]; firstPixel: number[]; rowStep: number[]; columnStep: number[]; width: number; height: number };
  settings: RenderSettings;
  /** First row, row stride and number of rows of the band. */
  row: number;
  stride: number;
  rows: number;
  /** Pixel offset of the band's first pixel in the shared output buffers. */
  offset: number;
  gradients: boolean;
  /** Skip empty space with the shared structure. */
  skipEmpty: boolean;
}

/** Setup message: the shared grid and output buffers. */
export interface BandSetup {
  type: 'setup';
  grid: DensityGrid;
  emptySpace: EmptySpace | null;
  control: SharedArrayBuffer;
  image: SharedArrayBuffer;
  rayGradients: SharedArrayBuffer;
}

/** control[0]: bands finished; control[1]: a helper failed. */
const DONE = 0, FAILED = 1;

/** The rays of rows row, row + stride, row + 2·stride, … (`rows` of them) of `rays`. */
export function bandRays(rays: RayGrid, row: number, stride: number, rows: number): RayGrid {
  const first = Float64Array.of(
    rays.firstPixel[0] + row * rays.rowStep[0],
    rays.firstPixel[1] + row * rays.rowStep[1],
    rays.firstPixel[2] + row * rays.rowStep[2],
  );
  const step = Float64Array.of(stride * rays.rowStep[0], stride * rays.rowStep[1], stride * rays.rowStep[2]);
  return { ...rays, firstPixel: first, rowStep: step, height: rows };
}

/** A fixed set of helper workers sharing one density grid. */
export class BandPool {
  readonly helpers: Worker[];
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  // Room for a 256 × 256 image up front; larger detectors grow the buffers.
  private imageBuffer = new SharedArrayBuffer(256 * 256 * 4);
  private gradientBuffer = new SharedArrayBuffer(256 * 256 * 6 * 8);
  private grid: DensityGrid | null = null;
  private emptySpace: EmptySpace | null = null;
  private acknowledged = 0;
  private waiting: (() => void) | null = null;

  constructor(helperCount: number, makeWorker: () => Worker) {
    this.helpers = Array.from({ length: helperCount }, makeWorker);
    for (const helper of this.helpers) {
      helper.onmessage = () => {
        this.acknowledged++;
        if (this.acknowledged >= this.helpers.length && this.waiting) { this.waiting(); this.waiting = null; }
      };
    }
  }

  /**
   * Resolves once every helper has started and taken the shared grid. The engine must not block
   * in Atomics.wait before that: a nested worker starts through its parent's event loop.
   */
  ready(): Promise<void> {
    if (this.acknowledged >= this.helpers.length) return Promise.resolve();
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Shares `grid` with the helpers (copied once into shared memory). */
  shareGrid(grid: DensityGrid, emptySpace: EmptySpace | null): DensityGrid {
    const data = new Float32Array(new SharedArrayBuffer(grid.data.byteLength));
    data.set(grid.data);
    this.grid = { ...grid, data };
    this.emptySpace = emptySpace;
    this.acknowledged = 0;
    this.post();
    return this.grid;
  }

  private post(): void {
    if (!this.grid) return;
    const setup: BandSetup = { type: 'setup', grid: this.grid, emptySpace: this.emptySpace, control: this.control.buffer as SharedArrayBuffer, image: this.imageBuffer, rayGradients: this.gradientBuffer };
    for (const helper of this.helpers) helper.postMessage(setup);
  }

  private ensureOutput(pixels: number): void {
    if (this.imageBuffer.byteLength >= pixels * 4) return;
    this.imageBuffer = new SharedArrayBuffer(pixels * 4);
    this.gradientBuffer = new SharedArrayBuffer(pixels * 6 * 8);
    this.post();
  }

  /**
   * Renders one image (and its ray gradients) over all threads into `image` (and `rayGradients`).
   * Rows are dealt out in turn (thread k takes rows k, k + T, …) so that every thread gets as
   * much anatomy as air; each thread writes its rows contiguously into the shared buffers, and
   * they are put back in order here.
   */
  render(grid: DensityGrid, emptySpace: EmptySpace | null, rays: RayGrid, settings: RenderSettings, image: Float32Array, rayGradients: Float64Array | null): void {
    const pixels = rays.height * rays.width;
    this.ensureOutput(pixels);
    const sharedImage = new Float32Array(this.imageBuffer, 0, pixels);
    const sharedGradients = new Float64Array(this.gradientBuffer, 0, 6 * pixels);
    const stride = Math.min(this.threads, rays.height);
    const counts = Array.from({ length: stride }, (_, k) => Math.ceil((rays.height - k) / stride));
    const offsets = counts.map((_, k) => counts.slice(0, k).reduce((sum, rows) => sum + rows, 0) * rays.width);
    Atomics.store(this.control, DONE, 0);
    Atomics.store(this.control, FAILED, 0);
    const plain = (v: ArrayLike<number>) => [v[0], v[1], v[2]];
    const gradients = rayGradients !== null;
    for (let k = 1; k < stride; k++) {
      const job: BandJob = {
        type: 'band',
        rays: { source: plain(rays.source), firstPixel: plain(rays.firstPixel), rowStep: plain(rays.rowStep), columnStep: plain(rays.columnStep), width: rays.width, height: rays.height },
        settings, row: k, stride, rows: counts[k], offset: offsets[k], gradients, skipEmpty: emptySpace !== null,
      };
      this.helpers[k - 1].postMessage(job);
    }
    // This thread's rows.
    const mine = bandRays(rays, 0, stride, counts[0]);
    const minePixels = counts[0] * rays.width;
    if (gradients) renderPixelsWithRayGradients(grid, mine, settings, sharedImage, sharedGradients, 0, 0, minePixels, emptySpace);
    else renderPixels(grid, mine, settings, sharedImage, 0, 0, minePixels, emptySpace);
    const started = performance.now();
    for (;;) {
      const done = Atomics.load(this.control, DONE);
      if (done >= stride - 1) break;
      if (Atomics.wait(this.control, DONE, done, 1000) === 'timed-out' && performance.now() - started > 30000) {
        throw new Error('a render thread stopped answering');
      }
    }
    if (Atomics.load(this.control, FAILED)) throw new Error('a render thread failed (out of memory?)');
    const width = rays.width;
    for (let k = 0; k < stride; k++) {
      for (let n = 0; n < counts[k]; n++) {
        const from = offsets[k] + n * width, to = (k + n * stride) * width;
        image.set(sharedImage.subarray(from, from + width), to);
        if (rayGradients) rayGradients.set(sharedGradients.subarray(6 * from, 6 * (from + width)), 6 * to);
      }
    }
  }

  terminate(): void {
    for (const helper of this.helpers) helper.terminate();
  }
}

/** The helper side: renders the bands it is sent. `post` is the worker's global scope. */
export function serveBands(scope: { onmessage: ((event: MessageEvent) => void) | null }): void {
  let setup: BandSetup | null = null;
  scope.onmessage = (event: MessageEvent<BandSetup | BandJob>) => {
    const message = event.data;
    if (message.type === 'setup') {
      setup = message;
      (scope as unknown as { postMessage(message: string): void }).postMessage('ready');
      return;
    }
    if (!setup) return;
    const control = new Int32Array(setup.control);
    try {
      const full: RayGrid = {
        source: Float64Array.from(message.rays.source), firstPixel: Float64Array.from(message.rays.firstPixel),
        rowStep: Float64Array.from(message.rays.rowStep), columnStep: Float64Array.from(message.rays.columnStep),
        width: message.rays.width, height: message.rays.height,
      };
      const rays = bandRays(full, message.row, message.stride, message.rows);
      const pixels = message.rows * full.width;
      const image = new Float32Array(setup.image);
      if (message.gradients) {
        const gradients = new Float64Array(setup.rayGradients, 6 * message.offset * 8, 6 * pixels);
        renderPixelsWithRayGradients(setup.grid, rays, message.settings, image, gradients, message.offset, 0, pixels, message.skipEmpty ? setup.emptySpace : null);
      } else {
        renderPixels(setup.grid, rays, message.settings, image, message.offset, 0, pixels, message.skipEmpty ? setup.emptySpace : null);
      }
    } catch {
      Atomics.store(control, FAILED, 1);
    }
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  };
}

/**
 * A DRR whose renders are spread over a {@link BandPool} (or run in this thread when `pool` is
 * null). Everything else — detector, densities, gradients — is the library's DRR.
 */
export class BandedDRR extends DRR {
  private readonly pool: BandPool | null;
  private readonly sharedGrid: DensityGrid;
  private readonly emptySpace: EmptySpace | null;

  /**
   * `sharedGrid` (default: this DRR's own grid) is what the threads read; `emptySpace` (from
   * buildEmptySpace, optional) lets the kernels skip air without changing any value.
   */
  constructor(volume: Volume, options: DRROptions, pool: BandPool | null, sharedGrid?: DensityGrid, emptySpace: EmptySpace | null = null) {
    super(volume, options);
    this.pool = pool;
    this.sharedGrid = sharedGrid ?? this.grid;
    this.emptySpace = emptySpace;
  }

  override render(poses: Pose | readonly Pose[]): Float32Array {
    const list = Array.isArray(poses) ? (poses as readonly Pose[]) : [poses as Pose];
    const out = new Float32Array(list.length * this.pixelCount);
    list.forEach((pose, index) => {
      const image = out.subarray(index * this.pixelCount, (index + 1) * this.pixelCount);
      const rays = this.rays(poseToTransform(pose));
      if (this.pool) this.pool.render(this.sharedGrid, this.emptySpace, rays, this.settings, image, null);
      else renderPixels(this.sharedGrid, rays, this.settings, image, 0, 0, this.pixelCount, this.emptySpace);
    });
    return out;
  }

  override renderWithRayGradients(pose: Pose): { image: Float32Array; rayGradients: Float64Array } {
    const image = new Float32Array(this.pixelCount);
    const rayGradients = new Float64Array(6 * this.pixelCount);
    const rays = this.rays(pose);
    if (this.pool) this.pool.render(this.sharedGrid, this.emptySpace, rays, this.settings, image, rayGradients);
    else renderPixelsWithRayGradients(this.sharedGrid, rays, this.settings, image, rayGradients, 0, 0, this.pixelCount, this.emptySpace);
    return { image, rayGradients };
  }
}
