/**
 * How far an estimated camera pose is from the true one, in the terms registration papers use:
 * rotation error (geodesic angle), translation error, mean target registration error (mTRE) over
 * 3-D points in the CT, and mean projection distance (mPD) of those points on the detector.
 */
import { isCamera, SeedCamera, type Camera } from '../geometry/camera.js';
import type { Detector } from '../geometry/detector.js';
import { projectPoints } from '../geometry/projection.js';
import { multiplyMatrix3, transposeMatrix3 } from '../geometry/matrix3.js';
import { invertTransform, applyTransform, type RigidTransform } from '../geometry/rigid-transform.js';

/** Errors of one estimated pose. */
export interface PoseError {
  /** Geodesic angle between the rotations, degrees. */
  rotationDegrees: number;
  /** Distance between the camera translations (the isocentres), mm. */
  translationMm: number;
  /** Mean distance between the target points seen from the two poses (camera frame), mm. */
  mTRE: number;
  /** Mean distance between the target points' projections on the detector plane, mm. */
  mPD: number;
}

/** Geodesic distance between two rotation matrices, degrees: acos((trace(AᵀB) − 1)/2). */
export function geodesicDegrees(a: Float64Array, b: Float64Array): number {
  const m = multiplyMatrix3(transposeMatrix3(a), b);
  const cosine = Math.min(1, Math.max(-1, (m[0] + m[4] + m[8] - 1) / 2));
  return (Math.acos(cosine) * 180) / Math.PI;
}

/**
 * The default target points for mTRE: a 3×3×3 grid spanning the middle half of the volume's box
 * in each direction (from 25% to 75% of the extent) — points inside the anatomy, in world mm
 * of the seed frame. Returned as a flat array x0, y0, z0, x1, ….
 */
export function defaultTargetPoints(extent: readonly [number, number, number]): Float64Array {
  const points: number[] = [];
  for (const fz of [0.25, 0.5, 0.75]) for (const fy of [0.25, 0.5, 0.75]) for (const fx of [0.25, 0.5, 0.75]) {
    points.push(fx * extent[0], fy * extent[1], fz * extent[2]);
  }
  return Float64Array.from(points);
}

/**
 * Where a world point lands on the detector plane (camera x = −sdr), in detector mm relative to
 * the principal ray: the perspective projection from the source at (sdr, 0, 0).
 */
export function projectToDetector(detector: Detector, cameraPoint: ArrayLike<number>): [number, number] {
  const sdr = detector.sdr;
  const scale = (2 * sdr) / (sdr - cameraPoint[0]);
  return [cameraPoint[1] * scale, cameraPoint[2] * scale];
}

/**
 * The errors of the pose `estimate` against the pose `truth` over `targetPoints` (world mm, flat
 * xyz), for a camera (a seed `Detector` is taken as its {@link SeedCamera}). mTRE compares the
 * points in the two camera frames; mPD their projections on the detector, in detector mm.
 */
export function poseError(truth: RigidTransform, estimate: RigidTransform, camera: Camera | Detector, targetPoints: Float64Array): PoseError {
  const view = isCamera(camera) ? camera : new SeedCamera(camera);
  const trueCamera = view.cameraToWorld(truth), estimateCamera = view.cameraToWorld(estimate);
  const trueInverse = invertTransform(trueCamera), estimateInverse = invertTransform(estimateCamera);
  const pointCount = targetPoints.length / 3;
  let tre = 0;
  const point = new Float64Array(3), a = new Float64Array(3), b = new Float64Array(3);
  for (let index = 0; index < pointCount; index++) {
    point[0] = targetPoints[3 * index]; point[1] = targetPoints[3 * index + 1]; point[2] = targetPoints[3 * index + 2];
    applyTransform(trueInverse, point, a);
    applyTransform(estimateInverse, point, b);
    tre += Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  }
  const trueRays = view.rays(truth);
  const rowPitch = Math.hypot(...trueRays.rowStep), columnPitch = Math.hypot(...trueRays.columnStep);
  const projectedTrue = projectPoints(trueRays, targetPoints), projectedEstimate = projectPoints(view.rays(estimate), targetPoints);
  let projection = 0;
  for (let index = 0; index < pointCount; index++) {
    projection += Math.hypot(
      (projectedTrue[2 * index] - projectedEstimate[2 * index]) * rowPitch,
      (projectedTrue[2 * index + 1] - projectedEstimate[2 * index + 1]) * columnPitch,
    );
  }
  return {
    rotationDegrees: geodesicDegrees(truth.rotation, estimate.rotation),
    translationMm: Math.hypot(trueCamera.translation[0] - estimateCamera.translation[0], trueCamera.translation[1] - estimateCamera.translation[1], trueCamera.translation[2] - estimateCamera.translation[2]),
    mTRE: tre / pointCount,
    mPD: projection / pointCount,
  };
}
