/**
 * 3-vectors and 3×3 matrices as plain typed arrays (gl-matrix style): a `Vector3` is a
 * Float64Array of length 3, a `Matrix3` a Float64Array of length 9 in row-major order
 * (m[3*row + col]), acting on column vectors. Functions take an `out` argument where they
 * produce a matrix or vector so that hot paths need not allocate.
 */

/** A 3-vector (x, y, z). */
export type Vector3 = Float64Array;
/** A 3×3 matrix, row-major: element (row, col) is m[3*row + col]. */
export type Matrix3 = Float64Array;

/** A new vector (x, y, z). */
export function vector3(x = 0, y = 0, z = 0): Vector3 {
  const v = new Float64Array(3);
  v[0] = x; v[1] = y; v[2] = z;
  return v;
}

/** A new 3×3 identity matrix. */
export function identityMatrix3(): Matrix3 {
  const m = new Float64Array(9);
  m[0] = 1; m[4] = 1; m[8] = 1;
  return m;
}

/** A new matrix from nine numbers given row by row. */
export function matrix3FromRows(values: ArrayLike<number>): Matrix3 {
  if (values.length !== 9) throw new RangeError(`a 3×3 matrix needs 9 values, got ${values.length}`);
  return Float64Array.from(values as ArrayLike<number>);
}

/** out = a·b (matrix product). `out` may alias `a` or `b`. */
export function multiplyMatrix3(a: Matrix3, b: Matrix3, out: Matrix3 = new Float64Array(9)): Matrix3 {
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7], a8 = a[8];
  const b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4], b5 = b[5], b6 = b[6], b7 = b[7], b8 = b[8];
  out[0] = a0 * b0 + a1 * b3 + a2 * b6;
  out[1] = a0 * b1 + a1 * b4 + a2 * b7;
  out[2] = a0 * b2 + a1 * b5 + a2 * b8;
  out[3] = a3 * b0 + a4 * b3 + a5 * b6;
  out[4] = a3 * b1 + a4 * b4 + a5 * b7;
  out[5] = a3 * b2 + a4 * b5 + a5 * b8;
  out[6] = a6 * b0 + a7 * b3 + a8 * b6;
  out[7] = a6 * b1 + a7 * b4 + a8 * b7;
  out[8] = a6 * b2 + a7 * b5 + a8 * b8;
  return out;
}

/** out = mᵀ. `out` may alias `m`. */
export function transposeMatrix3(m: Matrix3, out: Matrix3 = new Float64Array(9)): Matrix3 {
  const m1 = m[1], m2 = m[2], m5 = m[5];
  out[0] = m[0]; out[4] = m[4]; out[8] = m[8];
  out[1] = m[3]; out[3] = m1;
  out[2] = m[6]; out[6] = m2;
  out[5] = m[7]; out[7] = m5;
  return out;
}

/** Determinant of m. */
export function determinantMatrix3(m: Matrix3): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/** out = m·v. `out` may alias `v`. */
export function applyMatrix3(m: Matrix3, v: ArrayLike<number>, out: Vector3 = new Float64Array(3)): Vector3 {
  const x = v[0], y = v[1], z = v[2];
  out[0] = m[0] * x + m[1] * y + m[2] * z;
  out[1] = m[3] * x + m[4] * y + m[5] * z;
  out[2] = m[6] * x + m[7] * y + m[8] * z;
  return out;
}

/** Largest absolute element-wise difference between two arrays of equal length. */
export function maxAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
