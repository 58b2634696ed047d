/**
 * Splitting one DRR across threads: the detector's rows are cut into bands, the engine renders
 * the first band and helper workers the others, all reading one density grid held in a
 * SharedArrayBuffer and writing into shared output buffers. Rays of a band are the full image's
 * RayGrid with `firstPixel` moved down `r0` rows and `height` rows, so every pixel is cast by
 * exactly the same library kernel (src/render/renderer.ts) as in a single-threaded render.
 *
 * The engine blocks in Atomics.wait (allowed in workers) until every helper has finished its band,
 * so `BandedDRR.render` stays synchronous and the library's `register` loop runs unchanged.
 */
import { DRR, type DRROptions, type Pose, poseToTransform } from '../../src/drr.js';
import type { RayGrid } from '../../src/geometry/detector.js';
import type { DensityGrid } from '../../src/render/density-grid.js';
import { renderPixels, renderPixelsWithRayGradients, type RenderSettings } from '../../src/render/renderer.js';
import type { Volume } from '../../src/volume/volume.js';

/** A band job as posted to a helper. */
export interface BandJob {
  type: 'band';
  rays: { source: number[]; firstPixel: number[]; rowStep: number[]; columnStep: number[]; width: number; height: number };
  settings: RenderSettings;
  /** First row of the band, and its row count. */
  row: number;
  rows: number;
  gradients: boolean;
}

/** Setup message: the shared grid and output buffers. */
export interface BandSetup {
  type: 'setup';
  grid: DensityGrid;
  control: SharedArrayBuffer;
  image: SharedArrayBuffer;
  rayGradients: SharedArrayBuffer;
}

/** control[0]: bands finished; control[1]: a helper failed. */
const DONE = 0, FAILED = 1;

/** The rays of rows [row, row + rows) of `rays`. */
export function bandRays(rays: RayGrid, row: number, rows: number): RayGrid {
  const first = Float64Array.of(
    rays.firstPixel[0] + row * rays.rowStep[0],
    rays.firstPixel[1] + row * rays.rowStep[1],
    rays.firstPixel[2] + row * rays.rowStep[2],
  );
  return { ...rays, firstPixel: first, height: rows };
}

/** A fixed set of helper workers sharing one density grid. */
export class BandPool {
  readonly helpers: Worker[];
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private imageBuffer = new SharedArrayBuffer(4);
  private gradientBuffer = new SharedArrayBuffer(8);
  private grid: DensityGrid | null = null;

  constructor(helperCount: number, makeWorker: () => Worker) {
    this.helpers = Array.from({ length: helperCount }, makeWorker);
  }

  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Shares `grid` with the helpers (copied once into shared memory). */
  shareGrid(grid: DensityGrid): DensityGrid {
    const data = new Float32Array(new SharedArrayBuffer(grid.data.byteLength));
    data.set(grid.data);
    this.grid = { ...grid, data };
    this.post();
    return this.grid;
  }

  private post(): void {
    if (!this.grid) return;
    const setup: BandSetup = { type: 'setup', grid: this.grid, control: this.control.buffer as SharedArrayBuffer, image: this.imageBuffer, rayGradients: this.gradientBuffer };
    for (const helper of this.helpers) helper.postMessage(setup);
  }

  private ensureOutput(pixels: number): void {
    if (this.imageBuffer.byteLength >= pixels * 4) return;
    this.imageBuffer = new SharedArrayBuffer(pixels * 4);
    this.gradientBuffer = new SharedArrayBuffer(pixels * 6 * 8);
    this.post();
  }

  /**
   * Renders one image (and its ray gradients) over all threads into `image` (and `rayGradients`),
   * the engine's band with `grid` in this thread.
   */
  render(grid: DensityGrid, rays: RayGrid, settings: RenderSettings, image: Float32Array, rayGradients: Float64Array | null): void {
    const pixels = rays.height * rays.width;
    this.ensureOutput(pixels);
    const sharedImage = new Float32Array(this.imageBuffer, 0, pixels);
    const sharedGradients = rayGradients ? new Float64Array(this.gradientBuffer, 0, 6 * pixels) : null;
    const bands = this.threads;
    const edges = Array.from({ length: bands + 1 }, (_, k) => Math.round((k * rays.height) / bands));
    Atomics.store(this.control, DONE, 0);
    Atomics.store(this.control, FAILED, 0);
    let posted = 0;
    const plain = (v: ArrayLike<number>) => [v[0], v[1], v[2]];
    for (let k = 1; k < bands; k++) {
      const rows = edges[k + 1] - edges[k];
      if (rows === 0) continue;
      const job: BandJob = {
        type: 'band',
        rays: { source: plain(rays.source), firstPixel: plain(rays.firstPixel), rowStep: plain(rays.rowStep), columnStep: plain(rays.columnStep), width: rays.width, height: rays.height },
        settings, row: edges[k], rows, gradients: rayGradients !== null,
      };
      this.helpers[k - 1].postMessage(job);
      posted++;
    }
    // This thread's band, straight into the caller's arrays.
    const mine = bandRays(rays, 0, edges[1]);
    if (rayGradients) renderPixelsWithRayGradients(grid, mine, settings, image, rayGradients);
    else renderPixels(grid, mine, settings, image);
    const started = performance.now();
    for (;;) {
      const done = Atomics.load(this.control, DONE);
      if (done >= posted) break;
      if (Atomics.wait(this.control, DONE, done, 1000) === 'timed-out' && performance.now() - started > 30000) {
        throw new Error('a render thread stopped answering');
      }
    }
    if (Atomics.load(this.control, FAILED)) throw new Error('a render thread failed (out of memory?)');
    const start = edges[1] * rays.width;
    image.set(sharedImage.subarray(start, pixels), start);
    if (rayGradients && sharedGradients) rayGradients.set(sharedGradients.subarray(6 * start, 6 * pixels), 6 * start);
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
    if (message.type === 'setup') { setup = message; return; }
    if (!setup) return;
    const control = new Int32Array(setup.control);
    try {
      const full: RayGrid = {
        source: Float64Array.from(message.rays.source), firstPixel: Float64Array.from(message.rays.firstPixel),
        rowStep: Float64Array.from(message.rays.rowStep), columnStep: Float64Array.from(message.rays.columnStep),
        width: message.rays.width, height: message.rays.height,
      };
      const rays = bandRays(full, message.row, message.rows);
      const offset = message.row * full.width;
      const image = new Float32Array(setup.image);
      if (message.gradients) {
        const gradients = new Float64Array(setup.rayGradients, 6 * offset * 8, 6 * message.rows * full.width);
        renderPixelsWithRayGradients(setup.grid, rays, message.settings, image, gradients, offset);
      } else {
        renderPixels(setup.grid, rays, message.settings, image, offset);
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

  constructor(volume: Volume, options: DRROptions, pool: BandPool | null, sharedGrid?: DensityGrid) {
    super(volume, options);
    this.pool = pool;
    this.sharedGrid = sharedGrid ?? this.grid;
  }

  override render(poses: Pose | readonly Pose[]): Float32Array {
    if (!this.pool) return super.render(poses);
    const list = Array.isArray(poses) ? (poses as readonly Pose[]) : [poses as Pose];
    const out = new Float32Array(list.length * this.pixelCount);
    list.forEach((pose, index) => {
      const image = out.subarray(index * this.pixelCount, (index + 1) * this.pixelCount);
      this.pool!.render(this.sharedGrid, this.rays(poseToTransform(pose)), this.settings, image, null);
    });
    return out;
  }

  override renderWithRayGradients(pose: Pose): { image: Float32Array; rayGradients: Float64Array } {
    if (!this.pool) return super.renderWithRayGradients(pose);
    const image = new Float32Array(this.pixelCount);
    const rayGradients = new Float64Array(6 * this.pixelCount);
    this.pool.render(this.sharedGrid, this.rays(pose), this.settings, image, rayGradients);
    return { image, rayGradients };
  }
}
