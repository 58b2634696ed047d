import { applyMatrix3, identityMatrix3, multiplyMatrix3, transposeMatrix3, type Matrix3, type Vector3 } from './matrix3.js';

/**
 * A rigid transform x ↦ R·x + t (rotation R, translation t in mm). In drrkit a pose is the
 * rigid transform that maps camera coordinates to world coordinates.
 */
export interface RigidTransform {
  /** Rotation, row-major 3×3. */
  readonly rotation: Matrix3;
  /** Translation in mm. */
  readonly translation: Vector3;
}

/** The identity transform. */
export function identityTransform(): RigidTransform {
  return { rotation: identityMatrix3(), translation: new Float64Array(3) };
}

/** Builds a transform from a rotation matrix and a translation (copied). */
export function rigidTransform(rotation: ArrayLike<number>, translation: ArrayLike<number>): RigidTransform {
  return { rotation: Float64Array.from(rotation), translation: Float64Array.from(translation) };
}

/** Applies the transform to a point: out = R·p + t. */
export function applyTransform(transform: RigidTransform, point: ArrayLike<number>, out: Vector3 = new Float64Array(3)): Vector3 {
  applyMatrix3(transform.rotation, point, out);
  out[0] += transform.translation[0];
  out[1] += transform.translation[1];
  out[2] += transform.translation[2];
  return out;
}

/** The composition a∘b: first b, then a (x ↦ Ra·(Rb·x + tb) + ta). */
export function composeTransforms(a: RigidTransform, b: RigidTransform): RigidTransform {
  const rotation = multiplyMatrix3(a.rotation, b.rotation);
  const translation = applyMatrix3(a.rotation, b.translation);
  translation[0] += a.translation[0];
  translation[1] += a.translation[1];
  translation[2] += a.translation[2];
  return { rotation, translation };
}

/** The inverse transform x ↦ Rᵀ·(x − t). */
export function invertTransform(transform: RigidTransform): RigidTransform {
  const rotation = transposeMatrix3(transform.rotation);
  const translation = applyMatrix3(rotation, transform.translation);
  translation[0] = -translation[0];
  translation[1] = -translation[1];
  translation[2] = -translation[2];
  return { rotation, translation };
}

/** The 4×4 homogeneous matrix of the transform, row-major. */
export function transformToMatrix4(transform: RigidTransform): Float64Array {
  const r = transform.rotation, t = transform.translation;
  return Float64Array.from([r[0], r[1], r[2], t[0], r[3], r[4], r[5], t[1], r[6], r[7], r[8], t[2], 0, 0, 0, 1]);
}
