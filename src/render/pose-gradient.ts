import { pixelInCamera, sourceInCamera, type Detector } from '../geometry/detector.js';
import { poseJacobian, type PoseParameters } from '../geometry/pose.js';
import { applyMatrix3, multiplyMatrix3, transposeMatrix3 } from '../geometry/matrix3.js';
import type { RigidTransform } from '../geometry/rigid-transform.js';
import { orientationMatrix, worldPixelInCamera, type WorldDetector } from '../geometry/world-camera.js';

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

/**
 * Chain rule from the pixels to the pose matrix. Each ray runs from a = R·s + t to a + b with
 * b = R·(p − s), where s and p are the source and the pixel centre in camera coordinates, so
 *   ∂L/∂R = Σₚ wₚ·(∂I/∂a ⊗ s + ∂I/∂b ⊗ (pₚ − s)),   ∂L/∂t = Σₚ wₚ·∂I/∂a,
 * with wₚ = ∂L/∂Iₚ (`pixelWeights`) and (∂I/∂a, ∂I/∂b) per pixel from the renderer
 * (`rayGradients`, six numbers per pixel).
 */
export function transformGradientFromRays(detector: Detector, rayGradients: Float64Array, pixelWeights: ArrayLike<number>): TransformGradient {
  const source = sourceInCamera(detector);
  const first = pixelInCamera(detector, 0, 0);
  const { height, width } = detector;
  const rowStep = detector.delx, columnStep = detector.reverseXAxis ? -detector.dely : detector.dely;
  // Accumulate Σ w·∂I/∂a and Σ w·∂I/∂b ⊗ (p − s); (p − s) = (−2·sdr, y₀ + r·Δr, z₀ + c·Δc).
  let ax = 0, ay = 0, az = 0;
  const outer = new Float64Array(9);
  const offsetX = first[0] - source[0];
  for (let row = 0; row < height; row++) {
    const offsetY = first[1] - source[1] + row * rowStep;
    for (let column = 0; column < width; column++) {
      const pixel = row * width + column;
      const weight = pixelWeights[pixel];
      if (weight === 0) continue;
      const offsetZ = first[2] - source[2] + column * columnStep;
      const g = 6 * pixel;
      ax += weight * rayGradients[g];
      ay += weight * rayGradients[g + 1];
      az += weight * rayGradients[g + 2];
      const bx = weight * rayGradients[g + 3], by = weight * rayGradients[g + 4], bz = weight * rayGradients[g + 5];
      outer[0] += bx * offsetX; outer[1] += bx * offsetY; outer[2] += bx * offsetZ;
      outer[3] += by * offsetX; outer[4] += by * offsetY; outer[5] += by * offsetZ;
      outer[6] += bz * offsetX; outer[7] += bz * offsetY; outer[8] += bz * offsetZ;
    }
  }
  const rotation = outer;
  rotation[0] += ax * source[0]; rotation[1] += ax * source[1]; rotation[2] += ax * source[2];
  rotation[3] += ay * source[0]; rotation[4] += ay * source[1]; rotation[5] += ay * source[2];
  rotation[6] += az * source[0]; rotation[7] += az * source[1]; rotation[8] += az * source[2];
  return { rotation, translation: Float64Array.of(ax, ay, az) };
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

/**
 * The chain rule of {@link transformGradientFromRays} for the world geometry
 * (src/geometry/world-camera.ts), where the renderer works in the grid frame.
 *
 * With the pose (R, t), orientation O, the world → grid rotation M (`gridRotation`, fixed) and a
 * pixel centre p in camera coordinates (the source is the camera origin), each ray is
 *   a = M·(R·t) + m,   b = M·R·O·p,
 * so with A = Σₚ wₚ·∂I/∂a and B = Σₚ wₚ·∂I/∂b ⊗ pₚ (grid and camera coordinates):
 *   ∂L/∂R = (MᵀA) ⊗ t + Mᵀ·B·Oᵀ,   ∂L/∂t = Rᵀ·Mᵀ·A.
 * The result feeds {@link parameterGradientFromTransform} unchanged.
 */
export function transformGradientFromWorldRays(
  detector: WorldDetector,
  gridRotation: ArrayLike<number>,
  pose: RigidTransform,
  rayGradients: Float64Array,
  pixelWeights: ArrayLike<number>,
): TransformGradient {
  const { height, width } = detector;
  const first = worldPixelInCamera(detector, 0, 0);
  const rowStep = detector.dely, columnStep = detector.reverseXAxis ? -detector.delx : detector.delx;
  let ax = 0, ay = 0, az = 0;
  const outer = new Float64Array(9); // B, row-major: B[i][j] = Σ w·g_b[i]·p[j]
  const pz = first[2];
  for (let row = 0; row < height; row++) {
    const py = first[1] + row * rowStep;
    for (let column = 0; column < width; column++) {
      const pixel = row * width + column;
      const weight = pixelWeights[pixel];
      if (weight === 0) continue;
      const px = first[0] + column * columnStep;
      const g = 6 * pixel;
      ax += weight * rayGradients[g];
      ay += weight * rayGradients[g + 1];
      az += weight * rayGradients[g + 2];
      const bx = weight * rayGradients[g + 3], by = weight * rayGradients[g + 4], bz = weight * rayGradients[g + 5];
      outer[0] += bx * px; outer[1] += bx * py; outer[2] += bx * pz;
      outer[3] += by * px; outer[4] += by * py; outer[5] += by * pz;
      outer[6] += bz * px; outer[7] += bz * py; outer[8] += bz * pz;
    }
  }
  const m = Float64Array.from(gridRotation);
  const mTranspose = transposeMatrix3(m);
  const worldA = applyMatrix3(mTranspose, [ax, ay, az]);
  const rotationGradient = multiplyMatrix3(multiplyMatrix3(mTranspose, outer), transposeMatrix3(orientationMatrix(detector.orientation)));
  const t = pose.translation;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) rotationGradient[3 * i + j] += worldA[i] * t[j];
  }
  const translation = applyMatrix3(transposeMatrix3(pose.rotation), worldA);
  return { rotation: rotationGradient, translation };
}
