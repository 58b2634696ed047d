import { DrrkitError, requireFinite, requirePositive, requirePositiveInteger } from '../errors.js';
import { MAXIMUM_DETECTOR_PIXELS, PHYSICAL_RANGES, requireInRange } from '../validation.js';
import { applyMatrix3, type Vector3 } from './matrix3.js';
import type { RigidTransform } from './rigid-transform.js';

/**
 * The seed-era DiffDRR C-arm (DiffDRR v0.3, see docs/geometry.md).
 *
 * In the camera frame the X-ray source sits at (+sdr, 0, 0) and the detector plane is x = −sdr,
 * so the source-to-detector distance is 2·sdr. Detector pixel (r, c) is centred at
 * camera (−sdr, t_r − y0, s_c − x0) with t_r = (r − (height−1)/2)·delx and
 * s_c = (c − (width−1)/2)·dely (negated when `reverseXAxis`). Note DiffDRR's naming quirk:
 * `delx` is the pixel size along rows (camera y), `dely` along columns (camera z).
 */
export interface Detector {
  /** Source-to-isocentre (and isocentre-to-detector) distance in mm: half the source-to-detector distance. */
  readonly sdr: number;
  /** Number of detector rows. */
  readonly height: number;
  /** Number of detector columns. */
  readonly width: number;
  /** Pixel size in mm from one row to the next. */
  readonly delx: number;
  /** Pixel size in mm from one column to the next. */
  readonly dely: number;
  /** Principal-point offset in mm subtracted along the column direction (camera z). */
  readonly x0: number;
  /** Principal-point offset in mm subtracted along the row direction (camera y). */
  readonly y0: number;
  /** Mirror the columns (DiffDRR's `reverse_x_axis`). */
  readonly reverseXAxis: boolean;
}

/** Options for {@link createDetector}; `width` defaults to `height`, `dely` to `delx`. */
export interface DetectorOptions {
  sdr: number;
  height: number;
  width?: number;
  delx: number;
  dely?: number;
  x0?: number;
  y0?: number;
  reverseXAxis?: boolean;
}

/** Largest detector side accepted, in pixels. */
export const MAXIMUM_DETECTOR_SIDE = 16384;

/** Validates options and fills in DiffDRR's defaults. Throws a DrrkitError naming the bad option. */
export function createDetector(options: DetectorOptions): Detector {
  const height = requirePositiveInteger(options.height, 'height');
  const width = requirePositiveInteger(options.width ?? options.height, 'width');
  for (const [name, side] of [['height', height], ['width', width]] as const) {
    if (side > MAXIMUM_DETECTOR_SIDE) {
      throw new DrrkitError(
        `${name} ${side} is too large: a detector side may have at most ${MAXIMUM_DETECTOR_SIDE} pixels ` +
          `(${height}×${width} float32 pixels would need ${formatBytes(height * width * 4)} per image)`,
        name,
      );
    }
  }
  requireDetectorPixelCount(height, width);
  return {
    sdr: requireInRange(requirePositive(options.sdr, 'sdr'), PHYSICAL_RANGES.distanceMm, 'sdr'),
    height,
    width,
    delx: requireInRange(requirePositive(options.delx, 'delx'), PHYSICAL_RANGES.pixelSizeMm, 'delx'),
    dely: requireInRange(requirePositive(options.dely ?? options.delx, 'dely'), PHYSICAL_RANGES.pixelSizeMm, 'dely'),
    x0: requireInRange(requireFinite(options.x0 ?? 0, 'x0'), PHYSICAL_RANGES.positionMm, 'x0'),
    y0: requireInRange(requireFinite(options.y0 ?? 0, 'y0'), PHYSICAL_RANGES.positionMm, 'y0'),
    reverseXAxis: options.reverseXAxis ?? false,
  };
}

/** Throws unless height × width is at most {@link MAXIMUM_DETECTOR_PIXELS}. */
export function requireDetectorPixelCount(height: number, width: number): void {
  if (height * width > MAXIMUM_DETECTOR_PIXELS) {
    throw new DrrkitError(`detector ${height}×${width} has more than ${MAXIMUM_DETECTOR_PIXELS} pixels (${formatBytes(height * width * 4)} per image)`, 'height');
  }
}

/** Human-readable byte count. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The X-ray source in camera coordinates: (sdr, 0, 0). */
export function sourceInCamera(detector: Detector): Vector3 {
  return Float64Array.of(detector.sdr, 0, 0);
}

/** Centre of pixel (row, column) in camera coordinates. */
export function pixelInCamera(detector: Detector, row: number, column: number): Vector3 {
  const t = (row - (detector.height - 1) / 2) * detector.delx;
  let s = (column - (detector.width - 1) / 2) * detector.dely;
  if (detector.reverseXAxis) s = -s;
  return Float64Array.of(-detector.sdr, t - detector.y0, s - detector.x0);
}

/**
 * All rays of one image in world coordinates. Pixel (r, c) is centred at
 * `firstPixel + r·rowStep + c·columnStep`; its ray runs from `source` (α = 0) to the pixel
 * centre (α = 1). Because the detector is a regular grid, these twelve numbers describe every
 * ray, so a render needs no per-pixel ray buffers.
 */
export interface RayGrid {
  /** X-ray source, world mm. */
  readonly source: Vector3;
  /** Centre of pixel (0, 0), world mm. */
  readonly firstPixel: Vector3;
  /** World displacement from one row to the next. */
  readonly rowStep: Vector3;
  /** World displacement from one column to the next. */
  readonly columnStep: Vector3;
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
}

/** The rays of `detector` at `pose` (camera → world). */
export function rayGridForPose(detector: Detector, pose: RigidTransform): RayGrid {
  const { rotation, translation } = pose;
  for (let i = 0; i < 9; i++) requireFinite(rotation[i], 'pose rotation');
  for (let i = 0; i < 3; i++) requireFinite(translation[i], 'pose translation');
  const toWorld = (point: ArrayLike<number>): Vector3 => {
    const out = applyMatrix3(rotation, point);
    out[0] += translation[0]; out[1] += translation[1]; out[2] += translation[2];
    return out;
  };
  const columnSign = detector.reverseXAxis ? -1 : 1;
  return {
    source: toWorld(sourceInCamera(detector)),
    firstPixel: toWorld(pixelInCamera(detector, 0, 0)),
    rowStep: applyMatrix3(rotation, [0, detector.delx, 0]),
    columnStep: applyMatrix3(rotation, [0, 0, columnSign * detector.dely]),
    height: detector.height,
    width: detector.width,
  };
}
