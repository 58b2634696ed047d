/**
 * Named C-arm views, so that nobody has to guess Euler angles.
 *
 * A view is a C-arm position in the angles of DICOM PS3.3 C.8.7.5 (as the X-ray loader reads
 * them, src/io/xray.ts): the primary angle θ (+ LAO: the detector towards the patient's left,
 * − RAO) and the secondary angle φ (+ CRA: the detector towards the head, − CAU). At θ = φ = 0 the
 * detector is in front of the chest and the source behind the patient (a PA beam — the C-arm's
 * home position). The camera → world map of a view is Q = Rz(θ)·Rx(φ)·O_PA with the source at
 * −sod·d, d = Rz(θ)·Rx(φ)·(0, 1, 0) (RAS, world origin at the isocentre); {@link viewPose} turns
 * it into pose parameters (R, t) for a pinhole camera of any orientation.
 *
 * Names: `AP` (source in front, θ = 180°), `PA` (θ = 0), `LL`/`left-lateral` (detector on the
 * patient's left, θ = +90°), `RL`/`right-lateral` (θ = −90°), and angle words such as `LAO30`,
 * `RAO45`, `CRA20`, `CAU15`, `LAO30CRA20` or `RAO20-CAU10` (degrees; case and separators free).
 */
import { DrrkitError, requireFinite, requirePositive } from '../errors.js';
import { applyMatrix3, multiplyMatrix3, transposeMatrix3, type Matrix3 } from './matrix3.js';
import type { RigidTransform } from './rigid-transform.js';
import { orientationMatrix, type Orientation } from './world-camera.js';

/** A C-arm position: DICOM primary (LAO +) and secondary (CRA +) angles in degrees. */
export interface CArmAngles {
  /** Primary angle θ, degrees: + LAO, − RAO. */
  primaryDegrees: number;
  /** Secondary angle φ, degrees: + CRA, − CAU. */
  secondaryDegrees: number;
}

/** The view names understood besides angle words. */
export const VIEW_NAMES = ['AP', 'PA', 'LL', 'RL', 'left-lateral', 'right-lateral'] as const;

/** Rz(a)·Rx(b), row-major. */
export function cArmRotation(primaryRadians: number, secondaryRadians: number): Matrix3 {
  const ca = Math.cos(primaryRadians), sa = Math.sin(primaryRadians), cb = Math.cos(secondaryRadians), sb = Math.sin(secondaryRadians);
  return Float64Array.of(ca, -sa * cb, sa * sb, sa, ca * cb, -ca * sb, 0, sb, cb);
}

/** Parses a view name or angle word (see the module comment) into C-arm angles. */
export function parseView(text: string): CArmAngles {
  const name = text.trim().toUpperCase().replace(/[\s_]+/g, '-');
  switch (name) {
    case 'PA': return { primaryDegrees: 0, secondaryDegrees: 0 };
    case 'AP': return { primaryDegrees: 180, secondaryDegrees: 0 };
    case 'LL': case 'LEFT-LATERAL': case 'LEFT': return { primaryDegrees: 90, secondaryDegrees: 0 };
    case 'RL': case 'RIGHT-LATERAL': case 'RIGHT': return { primaryDegrees: -90, secondaryDegrees: 0 };
    default: break;
  }
  const compact = name.replace(/-/g, '');
  const pattern = /(LAO|RAO|CRA|CAU)(\d+(?:\.\d+)?)/gy;
  let primary: number | undefined, secondary: number | undefined, position = 0;
  for (let match = pattern.exec(compact); match !== null; match = pattern.exec(compact)) {
    const value = Number(match[2]);
    if (match[1] === 'LAO' || match[1] === 'RAO') {
      if (primary !== undefined) throw new DrrkitError(`view "${text}": two primary angles (LAO/RAO)`, 'view');
      primary = match[1] === 'LAO' ? value : -value;
    } else {
      if (secondary !== undefined) throw new DrrkitError(`view "${text}": two secondary angles (CRA/CAU)`, 'view');
      secondary = match[1] === 'CRA' ? value : -value;
    }
    position = pattern.lastIndex;
  }
  if (compact.length === 0 || position !== compact.length || (primary === undefined && secondary === undefined)) {
    throw new DrrkitError(`unknown view "${text}"; use AP, PA, LL, RL, left-lateral, right-lateral or angles such as LAO30, RAO45CRA20, CAU15`, 'view');
  }
  const angles = { primaryDegrees: primary ?? 0, secondaryDegrees: secondary ?? 0 };
  if (Math.abs(angles.primaryDegrees) > 180 || Math.abs(angles.secondaryDegrees) > 90) {
    throw new DrrkitError(`view "${text}": the primary angle must lie within ±180° and the secondary within ±90°`, 'view');
  }
  return angles;
}

/** The camera → world map of a C-arm at `angles` with the source `sourceToIsocenter` mm from the isocentre (world origin). */
export function cArmCameraToWorld(angles: CArmAngles, sourceToIsocenter: number): RigidTransform {
  const theta = (requireFinite(angles.primaryDegrees, 'primary angle') * Math.PI) / 180;
  const phi = (requireFinite(angles.secondaryDegrees, 'secondary angle') * Math.PI) / 180;
  const sod = requirePositive(sourceToIsocenter, 'source-to-isocentre distance');
  const carm = cArmRotation(theta, phi);
  const detectorDirection = [carm[1], carm[4], carm[7]];
  return {
    rotation: multiplyMatrix3(carm, orientationMatrix('PA')),
    translation: Float64Array.of(-sod * detectorDirection[0], -sod * detectorDirection[1], -sod * detectorDirection[2]),
  };
}

/**
 * The pose (R, t) of a pinhole camera with `orientation` that sees a view: R = Q·Oᵀ, t = Rᵀ·q for
 * the view's camera → world map (Q, q), optionally about an isocentre other than the world origin.
 */
export function viewPose(view: string | CArmAngles, orientation: Orientation, sourceToIsocenter: number, isocenter: ArrayLike<number> = [0, 0, 0]): RigidTransform {
  const angles = typeof view === 'string' ? parseView(view) : view;
  const placement = cArmCameraToWorld(angles, sourceToIsocenter);
  const q = placement.translation;
  for (let axis = 0; axis < 3; axis++) q[axis] += isocenter[axis];
  const rotation = multiplyMatrix3(placement.rotation, transposeMatrix3(orientationMatrix(orientation)));
  return { rotation, translation: applyMatrix3(transposeMatrix3(rotation), q) };
}
