/**
 * Volume gradients: the renderers as linear maps of the densities, A (forward projection) and
 * Aᵀ (back-projection), threaded like the forward pass.
 *
 * A render is linear in the densities: pixel p = Σᵥ Aₚᵥ·xᵥ, with Aₚᵥ the length of ray p in
 * voxel v (Siddon) or the sum of its samples' trilinear weights times the step (trilinear). The
 * gradient of a loss L(image) with respect to the densities is therefore Aᵀ·(∂L/∂image): a
 * back-projection of the image-space gradient. {@link VolumeProjector} holds a density grid that
 * may change between calls (reconstruction) and computes both, on the calling thread and the
 * shared render pool's workers. Back-projection cuts the image into a fixed number of bands,
 * each accumulated into its own buffer (by whichever thread takes it) and summed in band order,
 * so the result is the same for any number of threads that take part.
 */
import { DrrkitError } from '../errors.js';
import type { RayGrid } from '../geometry/detector.js';
import { densityGridFromArray, type DensityGrid } from './density-grid.js';
import type { RenderPool } from './render-pool.js';
import { backprojectPixels, renderPixels, type RenderSettings } from './renderer.js';
import { availableThreads, canBlockOnAtomics, sharedRenderPool } from './worker-platform.js';

/** Options for {@link VolumeProjector}. */
export interface VolumeProjectorOptions {
  /** Renderer and sampling (default Siddon). */
  settings?: RenderSettings;
  /** Threads per projection (default: all available); 1 renders on the calling thread only. */
  threads?: number;
  /**
   * Bands of pixels per back-projection, each with its own accumulator (default: `threads`).
   * The result depends on this number only, not on how many threads take part.
   */
  bands?: number;
  /** The largest image (pixels) to be projected (default 512²); larger images are refused. */
  maximumPixels?: number;
}

/**
 * Forward and back-projection over one density grid of fixed geometry whose values may change
 * between calls (write them with {@link VolumeProjector.setDensities}).
 */
export class VolumeProjector {
  /** The grid the renderers read (SharedArrayBuffer-backed when threaded). */
  readonly grid: DensityGrid;
  /** Renderer and sampling. */
  readonly settings: RenderSettings;
  /** Threads per projection. */
  readonly threads: number;
  /** Back-projection bands. */
  readonly bands: number;
  readonly #weights: Float64Array;
  readonly #accumulators: Float64Array;
  readonly #image: Float32Array;
  #pool: RenderPool | null = null;
  #context = 0;

  /** A projector for a grid of `shape` voxels of `spacing` mm with its corner at `origin`. */
  constructor(shape: readonly [number, number, number], spacing: readonly [number, number, number], origin: readonly [number, number, number], options: VolumeProjectorOptions = {}) {
    const threads = options.threads ?? availableThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new DrrkitError(`threads must be a whole number ≥ 1, got ${threads}`, 'threads');
    this.threads = canBlockOnAtomics() ? threads : 1;
    const bands = options.bands ?? threads;
    if (!Number.isInteger(bands) || bands < 1 || bands > 64) throw new DrrkitError(`bands must be a whole number from 1 to 64, got ${bands}`, 'bands');
    this.bands = bands;
    this.settings = options.settings ?? { renderer: 'siddon', sampling: {} };
    const shared = this.threads > 1;
    const make = (bytes: number): ArrayBuffer | SharedArrayBuffer => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.grid = densityGridFromArray(new Float32Array(shape[0] * shape[1] * shape[2]), shape, spacing, origin, { shared });
    const maximumPixels = options.maximumPixels ?? 512 * 512;
    this.#weights = new Float64Array(make(8 * maximumPixels));
    this.#image = new Float32Array(make(4 * maximumPixels));
    this.#accumulators = new Float64Array(make(8 * bands * this.grid.data.length));
  }

  /** Voxels in the grid. */
  get voxelCount(): number {
    return this.grid.shape[0] * this.grid.shape[1] * this.grid.shape[2];
  }

  /** Writes the densities (grid order, i fastest, unpadded). */
  setDensities(densities: ArrayLike<number>): void {
    const [nx, ny, nz] = this.grid.shape;
    if (densities.length !== nx * ny * nz) throw new DrrkitError(`volume projector: ${densities.length} densities for ${nx}×${ny}×${nz} voxels`);
    const data = this.grid.data as Float32Array;
    const px = nx + 2, pxy = px * (ny + 2);
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const source = nx * (j + ny * k), target = 1 + px * (j + 1) + pxy * (k + 1);
        for (let i = 0; i < nx; i++) data[target + i] = densities[source + i];
      }
    }
  }

  #checkSize(rays: RayGrid): number {
    const pixels = rays.height * rays.width;
    if (pixels > this.#image.length) throw new DrrkitError(`volume projector: ${rays.height}×${rays.width} image is larger than the ${this.#image.length} pixels it was made for`);
    return pixels;
  }

  /** The pool with this projector registered, or null to work on the calling thread. */
  #workers(): RenderPool | null {
    if (this.threads <= 1) return null;
    if (this.#pool === null || !this.#pool.usable) {
      this.#pool = sharedRenderPool();
      this.#context = 0;
      if (this.#pool === null) return null;
    }
    this.#pool.ensureWorkers(this.threads - 1);
    if (!this.#pool.usable) return null;
    if (this.#context === 0) {
      this.#context = this.#pool.register({
        grid: this.grid, emptySpace: null, settings: this.settings, image: this.#image, rayGradients: null,
        weights: this.#weights, accumulators: this.#accumulators,
      });
    }
    return this.#pool;
  }

  /** Forward projection: renders `rays` with the current densities into `out[offset …]`. */
  project(rays: RayGrid, out: Float32Array | Float64Array, offset = 0): void {
    const pixels = this.#checkSize(rays);
    const pool = this.#workers();
    if (pool !== null) {
      pool.render(this.#context, rays, false, this.threads - 1);
      for (let p = 0; p < pixels; p++) out[offset + p] = this.#image[p];
    } else {
      renderPixels(this.grid, rays, this.settings, out, offset, 0, pixels, null);
    }
  }

  /**
   * Back-projection: adds Aᵀ·w to `out` (grid order, unpadded, one value per voxel), with w the
   * pixel weights `weights[offset …]` of an image of `rays`. This is the volume gradient of a
   * loss whose image gradient is w.
   */
  backproject(rays: RayGrid, weights: ArrayLike<number>, out: Float64Array, offset = 0): void {
    const pixels = this.#checkSize(rays);
    if (out.length !== this.voxelCount) throw new DrrkitError(`volume projector: gradient buffer has ${out.length} values for ${this.voxelCount} voxels`);
    const buffer = this.#weights;
    for (let p = 0; p < pixels; p++) buffer[p] = weights[offset + p];
    const size = this.grid.data.length;
    const pool = this.#workers();
    if (pool !== null) {
      pool.backproject(this.#context, rays, this.threads - 1);
    } else {
      const bandPixels = Math.ceil(pixels / this.bands);
      for (let band = 0; band < this.bands; band++) {
        const accumulator = this.#accumulators.subarray(band * size, (band + 1) * size);
        accumulator.fill(0);
        backprojectPixels(this.grid, rays, this.settings, buffer, 0, accumulator, Math.min(pixels, band * bandPixels), Math.min(pixels, (band + 1) * bandPixels));
      }
    }
    const [nx, ny, nz] = this.grid.shape;
    const px = nx + 2, pxy = px * (ny + 2);
    const accumulators = this.#accumulators;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const target = nx * (j + ny * k), source = 1 + px * (j + 1) + pxy * (k + 1);
        for (let i = 0; i < nx; i++) {
          let sum = 0;
          for (let band = 0; band < this.bands; band++) sum += accumulators[band * size + source + i];
          out[target + i] += sum;
        }
      }
    }
  }

  /** Releases this projector's share of the render pool (it stays usable). */
  dispose(): void {
    if (this.#pool !== null && this.#context !== 0) this.#pool.release(this.#context);
    this.#context = 0;
  }
}

/** A projector with the geometry of an existing grid (e.g. a DRR's `grid`), holding a copy of its densities. */
export function projectorForGrid(grid: DensityGrid, options: VolumeProjectorOptions = {}): VolumeProjector {
  const projector = new VolumeProjector(grid.shape, grid.spacing, grid.origin, options);
  (projector.grid.data as Float32Array).set(grid.data);
  return projector;
}

/**
 * The volume gradient of a loss at one render: Aᵀ·w for the rays `rays` of `grid`, with w the
 * loss's derivative with respect to each pixel (line-integral images; for Beer–Lambert images
 * multiply w by ∂I/∂(line integral) first). Grid order, unpadded. Single-threaded; use a
 * {@link VolumeProjector} for repeated or threaded calls.
 */
export function volumeGradient(grid: DensityGrid, rays: RayGrid, settings: RenderSettings, pixelWeights: ArrayLike<number>): Float64Array {
  const [nx, ny, nz] = grid.shape;
  if (pixelWeights.length < rays.height * rays.width) throw new DrrkitError(`volume gradient: ${pixelWeights.length} pixel weights for ${rays.height}×${rays.width} pixels`);
  const accumulator = new Float64Array(grid.data.length);
  backprojectPixels(grid, rays, settings, pixelWeights, 0, accumulator);
  const out = new Float64Array(nx * ny * nz);
  const px = nx + 2, pxy = px * (ny + 2);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      out.set(accumulator.subarray(1 + px * (j + 1) + pxy * (k + 1), 1 + px * (j + 1) + pxy * (k + 1) + nx), nx * (j + ny * k));
    }
  }
  return out;
}
