/**
 * The last links of the pose gradient: ∂L/∂(R, t) of a pose (from a camera's `poseGradient`,
 * src/geometry/camera.ts) to ∂L/∂(pose parameters) through the parameterization's Jacobian.
 */
import { poseJacobian, type PoseParameters } from '../geometry/pose.js';

/** The gradient of a scalar with respect to a rigid transform's rotation matrix (row-major) and translation. */
export interface TransformGradient {
  /** ∂L/∂R[k], k row-major. */
  readonly rotation: Float64Array;
  /** ∂L/∂t. */
  readonly translation: Float64Array;
}

/** The gradient of a scalar with respect to pose parameters. */
export interface ParameterGradient {
  /** ∂L/∂(rotation parameters). */
  readonly rotation: Float64Array;
  /** ∂L/∂(translation parameters). */
  readonly translation: Float64Array;
}

/** Chain rule from the pose matrix to the pose parameters, through the parameterization's Jacobian. */
export function parameterGradientFromTransform(pose: PoseParameters, gradient: TransformGradient): ParameterGradient {
  const jacobian = poseJacobian(pose);
  const rotationCount = pose.rotation.length, translationCount = pose.translation.length;
  const rotation = new Float64Array(rotationCount);
  const translation = new Float64Array(translationCount);
  for (let j = 0; j < rotationCount; j++) {
    let total = 0;
    for (let k = 0; k < 9; k++) total += gradient.rotation[k] * jacobian.rotationByRotation[k * rotationCount + j];
    for (let i = 0; i < 3; i++) total += gradient.translation[i] * jacobian.translationByRotation[i * rotationCount + j];
    rotation[j] = total;
  }
  for (let j = 0; j < translationCount; j++) {
    let total = 0;
    for (let k = 0; k < 9; k++) total += gradient.rotation[k] * jacobian.rotationByTranslation[k * translationCount + j];
    for (let i = 0; i < 3; i++) total += gradient.translation[i] * jacobian.translationByTranslation[i * translationCount + j];
    translation[j] = total;
  }
  return { rotation, translation };
}
