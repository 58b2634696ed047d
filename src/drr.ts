import { DrrkitError, requirePositive } from './errors.js';
import { createDetector, formatBytes, rayGridForPose, type Detector, type DetectorOptions, type RayGrid } from './geometry/detector.js';
import { poseFromParameters, type PoseParameters } from './geometry/pose.js';
import type { RigidTransform } from './geometry/rigid-transform.js';
import { seedDensityGrid, type DensityGrid } from './render/density-grid.js';
import { buildEmptySpace, type EmptySpace } from './render/empty-space.js';
import { parameterGradientFromTransform, transformGradientFromRays, type ParameterGradient } from './render/pose-gradient.js';
import type { RenderContext, RenderPool } from './render/render-pool.js';
import { renderPixels, renderPixelsWithRayGradients, type RenderSettings, type RendererName } from './render/renderer.js';
import { availableThreads, canBlockOnAtomics, sharedRenderPool } from './render/worker-platform.js';
import type { TrilinearSampling } from './render/trilinear.js';
import { hounsfieldToDensity, minMaxNormalize } from './volume/density.js';
import type { Volume } from './volume/volume.js';

/**
 * How voxel values become densities:
 * - `'diffdrr'` (default): DiffDRR v0.3's conversion — HU thresholds for air/soft tissue/bone,
 *   bone × `boneAttenuationMultiplier`, then min–max normalised to [0, 1].
 * - `'minmax'`: min–max normalisation only.
 * - `'raw'`: the voxel values as they are.
 */
export type DensityMode = 'diffdrr' | 'minmax' | 'raw';

/** Largest batch of images rendered in one call, in bytes of float32 output. */
export const MAXIMUM_OUTPUT_BYTES = 2 ** 31;

/** One pose or several, as a list. */
export function poseList(poses: Pose | readonly Pose[]): readonly Pose[] {
  return Array.isArray(poses) ? (poses as readonly Pose[]) : [poses as Pose];
}

/**
 * The output of a batch render, [image][row][column]; a DrrkitError when it would exceed
 * {@link MAXIMUM_OUTPUT_BYTES} (a detector or batch too large for memory).
 */
export function allocateImages(count: number, height: number, width: number): Float32Array {
  const bytes = count * height * width * 4;
  if (bytes > MAXIMUM_OUTPUT_BYTES) {
    throw new DrrkitError(
      `${count} image(s) of ${height}×${width} pixels need ${formatBytes(bytes)}, ` +
        `more than the ${formatBytes(MAXIMUM_OUTPUT_BYTES)} drrkit renders in one call`,
      'detector',
    );
  }
  return new Float32Array(count * height * width);
}

/** Options for a {@link DRR}: the detector (DiffDRR's names) plus rendering choices. */
export interface DRROptions extends DetectorOptions {
  /** 'siddon' (default) or 'trilinear'. */
  renderer?: RendererName;
  /** Trilinear sampling density. */
  sampling?: TrilinearSampling;
  /** Voxel value → density conversion (default 'diffdrr'). */
  density?: DensityMode;
  /** Bone attenuation multiplier for the 'diffdrr' conversion (default 1). */
  boneAttenuationMultiplier?: number;
  /**
   * Threads that render each image (default: `os.availableParallelism()`, or
   * `navigator.hardwareConcurrency` in a Web Worker). 1 renders on the calling thread only and
   * starts no worker. Images and ray gradients are bit-identical for every thread count.
   */
  threads?: number;
  /**
   * Skip empty space: clip rays to the box of non-zero density and jump over empty blocks
   * (default true). Images and ray gradients are bit-identical either way; only speed changes.
   */
  emptySpaceSkipping?: boolean;
}

/** A camera pose: either a rigid transform (camera → world) or parameters to build one. */
export type Pose = RigidTransform | PoseParameters;

/** True when `pose` is given as parameters rather than as a matrix. */
export function isPoseParameters(pose: Pose): pose is PoseParameters {
  return (pose as PoseParameters).parameterization !== undefined;
}

/** The rigid transform of a pose given either way. */
export function poseToTransform(pose: Pose): RigidTransform {
  return isPoseParameters(pose) ? poseFromParameters(pose) : pose;
}

/** Converts voxel values to densities by the chosen mode. */
export function volumeDensities(volume: Volume, mode: DensityMode = 'diffdrr', boneAttenuationMultiplier = 1): Float32Array {
  switch (mode) {
    case 'diffdrr': return hounsfieldToDensity(volume, { boneAttenuationMultiplier });
    case 'minmax': return minMaxNormalize(volume.data);
    case 'raw': return Float32Array.from(volume.data);
    default: throw new DrrkitError(`unknown density mode "${String(mode)}"; use diffdrr, minmax or raw`, 'density');
  }
}

/**
 * A DRR generator in DiffDRR's seed geometry: a CT volume (axis 0 flipped, positive octant),
 * a C-arm detector, and a renderer. `render` casts one ray per detector pixel for each pose
 * and returns float32 images, row-major [pose][row][column].
 *
 * With `threads` > 1 each image is split between the calling thread and workers of a shared
 * pool (started on the first render, reused afterwards, never keeping the process alive); the
 * calls stay synchronous. `dispose()` releases this DRR's share of the pool.
 */
export class DRR {
  /** The volume as loaded. */
  readonly volume: Volume;
  /** The detector geometry. */
  readonly detector: Detector;
  /** Densities on the world grid the renderers read (in a SharedArrayBuffer when `threads` > 1). */
  readonly grid: DensityGrid;
  /** Renderer and sampling. */
  readonly settings: RenderSettings;
  /** Threads that render each image (1: the calling thread only). */
  readonly threads: number;
  /** Whether rays skip empty space. */
  readonly emptySpaceSkipping: boolean;
  #emptySpace: EmptySpace | null = null;
  #pool: RenderPool | null = null;
  #context = 0;
  #sharedImage: Float32Array | null = null;
  #rayGradientBuffer: Float64Array | null = null;
  /** What the pool context holds now. */
  #registered: RenderContext | null = null;
  #renderCount = 0;

  constructor(volume: Volume, options: DRROptions) {
    this.volume = volume;
    this.detector = createDetector(options);
    const sampling = { ...options.sampling };
    if (sampling.stepMm !== undefined) requirePositive(sampling.stepMm, 'trilinear step');
    if (sampling.samplesPerRay !== undefined) requirePositive(sampling.samplesPerRay, 'samples per ray');
    const threads = options.threads ?? availableThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new DrrkitError(`threads must be a whole number ≥ 1, got ${threads}`, 'threads');
    this.threads = canBlockOnAtomics() ? threads : 1;
    this.emptySpaceSkipping = options.emptySpaceSkipping ?? true;
    const densities = volumeDensities(volume, options.density ?? 'diffdrr', options.boneAttenuationMultiplier ?? 1);
    this.grid = seedDensityGrid(volume, densities, { shared: this.threads > 1 });
    this.settings = { renderer: options.renderer ?? 'siddon', sampling };
  }

  /** The volume centre in world mm, (nx·dx, ny·dy, nz·dz)/2: the tutorial's isocentre (bx, by, bz). */
  get center(): [number, number, number] {
    const { shape, spacing } = this.volume;
    return [(shape[0] * spacing[0]) / 2, (shape[1] * spacing[1]) / 2, (shape[2] * spacing[2]) / 2];
  }

  /** Pixels per image. */
  get pixelCount(): number {
    return this.detector.height * this.detector.width;
  }

  /** The empty-space fields the renders use (built on the first call), or null when skipping is off. */
  emptySpaceFields(): EmptySpace | null {
    if (!this.emptySpaceSkipping) return null;
    this.#emptySpace ??= buildEmptySpace(this.grid, { shared: this.threads > 1 });
    return this.#emptySpace;
  }

  /**
   * The fields for the next render. Building them costs about as much as a few renders, so the
   * first render traverses every ray in full (with the same result) and later ones skip.
   */
  #emptySpaceForRender(): EmptySpace | null {
    if (this.#renderCount++ === 0 && this.#emptySpace === null) return null;
    return this.emptySpaceFields();
  }

  /** The world-space rays of the detector at `pose`. */
  rays(pose: Pose): RayGrid {
    return rayGridForPose(this.detector, poseToTransform(pose));
  }

  /**
   * The shared pool with this DRR's context registered (with `emptySpace` and, when
   * `gradients`, a ray-gradient buffer), or null to render on this thread alone.
   */
  #workers(gradients: boolean, emptySpace: EmptySpace | null): RenderPool | null {
    if (this.threads <= 1) return null;
    if (this.#pool === null || !this.#pool.usable) {
      this.#pool = sharedRenderPool();
      this.#context = 0;
      if (this.#pool === null) return null;
    }
    this.#pool.ensureWorkers(this.threads - 1);
    if (!this.#pool.usable) return null;
    this.#sharedImage ??= new Float32Array(new SharedArrayBuffer(4 * this.pixelCount));
    if (gradients) this.#rayGradientBuffer ??= new Float64Array(new SharedArrayBuffer(48 * this.pixelCount));
    const current = this.#registered;
    if (this.#context === 0 || current === null || current.emptySpace !== emptySpace || current.rayGradients !== this.#rayGradientBuffer) {
      const context = { grid: this.grid, emptySpace, settings: this.settings, image: this.#sharedImage, rayGradients: this.#rayGradientBuffer };
      if (this.#context === 0) this.#context = this.#pool.register(context);
      else this.#pool.update(this.#context, context);
      this.#registered = context;
    }
    return this.#pool;
  }

  /** Renders one image per pose; the result is [pose][row][column], float32. */
  render(poses: Pose | readonly Pose[]): Float32Array {
    const list = poseList(poses);
    const out = allocateImages(list.length, this.detector.height, this.detector.width);
    list.forEach((pose, index) => {
      const rays = this.rays(pose);
      const emptySpace = this.#emptySpaceForRender();
      const pool = this.#workers(false, emptySpace);
      if (pool !== null) {
        pool.render(this.#context, rays, false, this.threads - 1);
        out.set(this.#sharedImage!, index * this.pixelCount);
      } else {
        renderPixels(this.grid, rays, this.settings, out, index * this.pixelCount, 0, this.pixelCount, emptySpace);
      }
    });
    return out;
  }

  /**
   * Renders one image and, for every pixel, the derivative of its value with respect to its
   * ray (∂I/∂a, ∂I/∂b: six numbers per pixel) — what {@link DRR.parameterGradient} needs. The
   * image is new; `rayGradients` is a buffer this DRR reuses (SharedArrayBuffer-backed when
   * threads > 1), overwritten by the next call: use it, or copy it, before rendering again.
   */
  renderWithRayGradients(pose: Pose): { image: Float32Array; rayGradients: Float64Array } {
    const rays = this.rays(pose);
    const emptySpace = this.#emptySpaceForRender();
    const pool = this.#workers(true, emptySpace);
    if (pool !== null) {
      pool.render(this.#context, rays, true, this.threads - 1);
      return { image: this.#sharedImage!.slice(), rayGradients: this.#rayGradientBuffer! };
    }
    const image = new Float32Array(this.pixelCount);
    this.#rayGradientBuffer ??= new Float64Array(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(48 * this.pixelCount) : new ArrayBuffer(48 * this.pixelCount));
    renderPixelsWithRayGradients(this.grid, rays, this.settings, image, this.#rayGradientBuffer, 0, 0, this.pixelCount, emptySpace);
    return { image, rayGradients: this.#rayGradientBuffer };
  }

  /**
   * The gradient of a scalar loss with respect to the pose parameters, given the ray
   * derivatives of a render at `pose` and ∂loss/∂pixel (`pixelWeights`, one per pixel).
   */
  parameterGradient(pose: PoseParameters, rayGradients: Float64Array, pixelWeights: ArrayLike<number>): ParameterGradient {
    return parameterGradientFromTransform(pose, transformGradientFromRays(this.detector, rayGradients, pixelWeights));
  }

  /**
   * Releases this DRR's share of the render pool (the workers drop their references to its
   * buffers). The DRR stays usable: a later render registers it again. The pool's workers are
   * shared and stay (idle, not keeping the process alive); `closeRenderPool()` stops them.
   */
  dispose(): void {
    if (this.#pool !== null && this.#context !== 0) this.#pool.release(this.#context);
    this.#context = 0;
    this.#registered = null;
  }
}
