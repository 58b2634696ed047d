/**
 * Pose distributions for datasets. Every sample's pose comes from its own random stream
 * ({@link SampleRandom} of (seed, id)), with a fixed number of draws per sample, so samples do not
 * depend on how a dataset is split.
 *
 * - `box`: the DiffDRR tutorial's box around a pose — uniform offsets of the ZYX Euler angles
 *   (± half-widths) and of the translation parameters (ranges per axis).
 * - `cone`: the beam direction uniform (in solid angle) within a cone of half-angle
 *   `coneAngleDegrees` around the centre pose's beam, an in-plane roll uniform in ± `rollRangeDegrees`;
 *   the whole C-arm turns about the isocentre (the CT centre). Translation offsets shift the
 *   whole C-arm in world mm.
 * - `carm`: a C-arm orbit grid, primary angles (LAO +, RAO −) × secondary angles (CRA +, CAU −),
 *   sample `id` at grid point `id mod (grid size)` (primary-major), optional uniform angle jitter,
 *   the source-to-isocentre distance uniform in `sodRangeMm` and the source-to-detector distance
 *   uniform in `sddRangeMm` (a new pinhole camera per sample); pinhole cameras only.
 *
 * Draw order per sample — box: α, β, γ, tx, ty, tz; cone: tilt, azimuth, roll, tx, ty, tz; carm:
 * primary jitter, secondary jitter, sdd, sod, tx, ty, tz.
 */
import { DrrkitError } from '../errors.js';
import { PinholeCamera, type Camera } from '../geometry/camera.js';
import { applyMatrix3, multiplyMatrix3, type Matrix3, type Vector3 } from '../geometry/matrix3.js';
import { poseFromParameters, type PoseParameters } from '../geometry/pose.js';
import type { RigidTransform } from '../geometry/rigid-transform.js';
import { convertRotation } from '../geometry/rotation.js';
import { cArmCameraToWorld } from '../geometry/views.js';
import { poseFromCameraToWorld, type WorldDetector, type WorldDetectorOptions } from '../geometry/world-camera.js';
import { SampleRandom } from './sample-random.js';

/** Translation ranges per axis, mm: [[xLow, xHigh], [yLow, yHigh], [zLow, zHigh]]. */
export type TranslationRanges = [[number, number], [number, number], [number, number]];

/** The tutorial's box: uniform offsets of ZYX Euler angles and translation around the centre pose. */
export interface BoxDistribution {
  kind: 'box';
  /** Half-widths of the α, β, γ offsets, degrees. */
  rotationRangeDegrees: [number, number, number];
  translationRangeMm: TranslationRanges;
}

/** Beam directions uniform within a cone around the centre pose's beam, with a roll. */
export interface ConeDistribution {
  kind: 'cone';
  /** Half-angle of the cone, degrees (0…180). */
  coneAngleDegrees: number;
  /** Half-width of the in-plane roll, degrees. */
  rollRangeDegrees: number;
  translationRangeMm: TranslationRanges;
}

/** C-arm orbits: a grid of primary × secondary angles, with sdd and sod ranges. */
export interface CArmDistribution {
  kind: 'carm';
  /** Primary angles, degrees (LAO +, RAO −). */
  primaryDegrees: number[];
  /** Secondary angles, degrees (CRA +, CAU −). */
  secondaryDegrees: number[];
  /** Half-width of a uniform jitter added to both angles, degrees. */
  angleJitterDegrees: number;
  /** Source-to-detector distance range, mm, or null for the camera's own. */
  sddRangeMm: [number, number] | null;
  /** Source-to-isocentre distance range, mm. */
  sodRangeMm: [number, number];
  translationRangeMm: TranslationRanges;
}

/** Any pose distribution. */
export type PoseDistribution = BoxDistribution | ConeDistribution | CArmDistribution;

/** What a distribution samples around. */
export interface PoseContext {
  /** The camera of the DRR (a pinhole camera for `carm`). */
  camera: Camera;
  /** The isocentre in world mm (the CT centre). */
  isocenter: ArrayLike<number>;
  /** The centre pose of `box` and `cone` (any parameterization). */
  centre: PoseParameters;
}

/** One sample's pose. */
export interface PoseSample {
  /** The pose as ZYX Euler angles (radians) and translation (mm). */
  pose: PoseParameters;
  /** The sample's own camera (carm with an sdd range), else undefined: the DRR's camera. */
  camera: Camera | undefined;
  /** The distribution's own numbers for this sample (angles in degrees, distances in mm). */
  parameters: Record<string, number>;
}

/** Checks a distribution's numbers (a DrrkitError naming the flag on a bad one). */
export function checkPoseDistribution(distribution: PoseDistribution): void {
  const ranges = (ranges: TranslationRanges) => ranges.forEach(([low, high], axis) => {
    if (!(low <= high)) throw new DrrkitError(`--translation-range: axis ${'xyz'[axis]}: low ${low} is above high ${high}`, '--translation-range');
  });
  ranges(distribution.translationRangeMm);
  switch (distribution.kind) {
    case 'box':
      if (distribution.rotationRangeDegrees.some((value) => !(value >= 0))) throw new DrrkitError('--rotation-range: half-widths must be ≥ 0', '--rotation-range');
      break;
    case 'cone':
      if (!(distribution.coneAngleDegrees >= 0 && distribution.coneAngleDegrees <= 180)) throw new DrrkitError('--cone-angle: must lie within 0…180 degrees', '--cone-angle');
      if (!(distribution.rollRangeDegrees >= 0)) throw new DrrkitError('--roll-range: must be ≥ 0', '--roll-range');
      break;
    case 'carm':
      if (distribution.primaryDegrees.length === 0 || distribution.secondaryDegrees.length === 0) throw new DrrkitError('--primary-angles/--secondary-angles: need at least one angle each', '--primary-angles');
      if (distribution.primaryDegrees.some((value) => Math.abs(value) > 180)) throw new DrrkitError('--primary-angles: must lie within ±180°', '--primary-angles');
      if (distribution.secondaryDegrees.some((value) => Math.abs(value) > 90)) throw new DrrkitError('--secondary-angles: must lie within ±90°', '--secondary-angles');
      if (!(distribution.angleJitterDegrees >= 0)) throw new DrrkitError('--angle-jitter: must be ≥ 0', '--angle-jitter');
      for (const [name, range] of [['--sdd-range', distribution.sddRangeMm], ['--sod-range', distribution.sodRangeMm]] as const) {
        if (range !== null && !(range[0] > 0 && range[0] <= range[1])) throw new DrrkitError(`${name}: expected 0 < low ≤ high, got ${range.join(',')}`, name);
      }
      break;
    default:
      throw new DrrkitError(`unknown pose distribution "${String((distribution as { kind: unknown }).kind)}"; use box, cone or carm`, '--poses');
  }
}

const DEGREES = Math.PI / 180;

/** The ZYX Euler pose parameters of a rigid transform. */
function eulerPose(transform: RigidTransform): PoseParameters {
  return {
    rotation: convertRotation(transform.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX'),
    translation: Float64Array.from(transform.translation),
    parameterization: 'euler_angles',
    convention: 'ZYX',
  };
}

/** The pose (R, t) whose camera → world map is `placement`, for this camera kind. */
function poseOfPlacement(camera: Camera, placement: RigidTransform): RigidTransform {
  return camera.kind === 'seed' ? placement : poseFromCameraToWorld(camera.detector as WorldDetector, placement);
}

/** The rotation by `angle` radians about the unit `axis` (Rodrigues), row-major. */
function axisRotation(axis: ArrayLike<number>, angle: number): Matrix3 {
  const [x, y, z] = [axis[0], axis[1], axis[2]];
  const c = Math.cos(angle), s = Math.sin(angle), C = 1 - c;
  return Float64Array.of(
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  );
}

function normalize(v: Vector3): Vector3 {
  const length = Math.hypot(v[0], v[1], v[2]);
  return Float64Array.of(v[0] / length, v[1] / length, v[2] / length);
}

function cross(a: ArrayLike<number>, b: ArrayLike<number>): Vector3 {
  return Float64Array.of(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
}

/** The unit beam direction (source → detector centre) of `camera` placed by (Q, q), in world coordinates. */
export function beamDirection(camera: Camera, placement: RigidTransform): Vector3 {
  const frame = camera.frameRays();
  const centre = [0, 1, 2].map((axis) => frame.firstPixel[axis] + ((camera.height - 1) / 2) * frame.rowStep[axis] + ((camera.width - 1) / 2) * frame.columnStep[axis] - frame.source[axis]);
  return normalize(applyMatrix3(placement.rotation, centre));
}

/** Draws the translation offsets (three draws). */
function translationOffsets(random: SampleRandom, ranges: TranslationRanges): number[] {
  return ranges.map(([low, high]) => random.uniform(low, high));
}

/** The pose of sample `id` of a dataset with `seed`. */
export function samplePose(distribution: PoseDistribution, context: PoseContext, seed: number, id: number): PoseSample {
  const random = new SampleRandom(seed, id);
  const c = context.isocenter;
  switch (distribution.kind) {
    case 'box': {
      const centre = eulerPose(poseFromParameters(context.centre));
      const rotation = Float64Array.from(centre.rotation, (value, axis) => {
        const half = distribution.rotationRangeDegrees[axis] * DEGREES;
        return value + random.uniform(-half, half);
      });
      const offsets = translationOffsets(random, distribution.translationRangeMm);
      const translation = Float64Array.from(centre.translation, (value, axis) => value + offsets[axis]);
      return {
        pose: { rotation, translation, parameterization: 'euler_angles', convention: 'ZYX' },
        camera: undefined,
        parameters: {},
      };
    }
    case 'cone': {
      const placement = context.camera.cameraToWorld(poseFromParameters(context.centre));
      const beam = beamDirection(context.camera, placement);
      const cosine = 1 - random.random() * (1 - Math.cos(distribution.coneAngleDegrees * DEGREES));
      const tilt = Math.acos(Math.min(1, Math.max(-1, cosine)));
      const azimuth = 2 * Math.PI * random.random();
      const roll = random.uniform(-distribution.rollRangeDegrees, distribution.rollRangeDegrees) * DEGREES;
      const offsets = translationOffsets(random, distribution.translationRangeMm);
      // A fixed orthonormal pair across the beam: the first from the world axis least aligned with it.
      const least = [0, 1, 2].reduce((best, axis) => (Math.abs(beam[axis]) < Math.abs(beam[best]) ? axis : best), 0);
      const reference = Float64Array.of(least === 0 ? 1 : 0, least === 1 ? 1 : 0, least === 2 ? 1 : 0);
      const first = normalize(cross(beam, reference)), second = cross(beam, first);
      const axis = [0, 1, 2].map((index) => Math.cos(azimuth) * first[index] + Math.sin(azimuth) * second[index]);
      const tilted = axisRotation(axis, tilt);
      const turn = multiplyMatrix3(axisRotation(applyMatrix3(tilted, beam), roll), tilted);
      const q = placement.translation;
      const moved = applyMatrix3(turn, [q[0] - c[0], q[1] - c[1], q[2] - c[2]]);
      const newPlacement = {
        rotation: multiplyMatrix3(turn, placement.rotation),
        translation: Float64Array.of(moved[0] + c[0] + offsets[0], moved[1] + c[1] + offsets[1], moved[2] + c[2] + offsets[2]),
      };
      return {
        pose: eulerPose(poseOfPlacement(context.camera, newPlacement)),
        camera: undefined,
        parameters: { tilt_degrees: tilt / DEGREES, azimuth_degrees: azimuth / DEGREES, roll_degrees: roll / DEGREES },
      };
    }
    case 'carm': {
      if (context.camera.kind !== 'pinhole') throw new DrrkitError('--poses carm needs a pinhole camera: add --geometry world', '--poses');
      const grid = distribution.primaryDegrees.length * distribution.secondaryDegrees.length;
      const point = id % grid;
      const primaryIndex = Math.floor(point / distribution.secondaryDegrees.length), secondaryIndex = point % distribution.secondaryDegrees.length;
      const jitter = distribution.angleJitterDegrees;
      const primary = distribution.primaryDegrees[primaryIndex] + random.uniform(-jitter, jitter);
      const secondary = distribution.secondaryDegrees[secondaryIndex] + random.uniform(-jitter, jitter);
      const detector = context.camera.detector as WorldDetector;
      const sddDraw = random.random();
      const sdd = distribution.sddRangeMm === null ? detector.sdd : distribution.sddRangeMm[0] + (distribution.sddRangeMm[1] - distribution.sddRangeMm[0]) * sddDraw;
      const sod = random.uniform(distribution.sodRangeMm[0], distribution.sodRangeMm[1]);
      const offsets = translationOffsets(random, distribution.translationRangeMm);
      if (!(sod < sdd)) throw new DrrkitError(`sample ${id}: source-to-isocentre distance ${sod} mm is not below the source-to-detector distance ${sdd} mm`, '--sod-range');
      const placement = cArmCameraToWorld({ primaryDegrees: primary, secondaryDegrees: secondary }, sod);
      for (let axis = 0; axis < 3; axis++) placement.translation[axis] += c[axis] + offsets[axis];
      const camera = distribution.sddRangeMm === null ? undefined : new PinholeCamera({ ...(detector as WorldDetectorOptions), sdd });
      return {
        pose: eulerPose(poseOfPlacement(context.camera, placement)),
        camera,
        parameters: { primary_degrees: primary, secondary_degrees: secondary, sod_mm: sod, sdd_mm: sdd },
      };
    }
    default:
      throw new DrrkitError(`unknown pose distribution "${String((distribution as { kind: unknown }).kind)}"`, '--poses');
  }
}
