import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { poseFromParameters, parametersFromPose, type PoseParameters } from '../src/geometry/pose.js';
import { PARAMETERIZATIONS, type Parameterization } from '../src/geometry/rotation.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { Registration } from '../src/registration/registration.js';
import { renderPixels } from '../src/render/renderer.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { eulerZYX, seededRandom } from './helpers.js';

/** A coarse example CT keeps the finite differences fast. */
const volume = loadExampleCT({ shape: [64, 64, 66], spacing: [5.625, 5.625, 5] });
const similarity = new NormalizedCrossCorrelation();

/** NCC between `fixed` and a float64 render at `pose` (float32 output would drown the differences in rounding). */
function scoreAt(drr: DRR, fixed: Float64Array, pose: PoseParameters): number {
  const image = new Float64Array(drr.pixelCount);
  renderPixels(drr.grid, drr.rays(pose), drr.settings, image);
  return similarity.score(fixed, image, { height: drr.detector.height, width: drr.detector.width })[0];
}

/** Central differences of the score with respect to every rotation and translation parameter. */
function numericGradient(drr: DRR, fixed: Float64Array, pose: PoseParameters, rotationStep: number, translationStep: number) {
  const differentiate = (vector: Float64Array, index: number, step: number) => {
    const saved = vector[index];
    vector[index] = saved + step;
    const plus = scoreAt(drr, fixed, pose);
    vector[index] = saved - step;
    const minus = scoreAt(drr, fixed, pose);
    vector[index] = saved;
    return (plus - minus) / (2 * step);
  };
  return {
    rotation: Float64Array.from(pose.rotation, (_, index) => differentiate(pose.rotation, index, rotationStep)),
    translation: Float64Array.from(pose.translation, (_, index) => differentiate(pose.translation, index, translationStep)),
  };
}

/** max |analytic − numeric| / max |numeric| over all parameters. */
function relativeError(analytic: { rotation: Float64Array; translation: Float64Array }, numeric: { rotation: Float64Array; translation: Float64Array }) {
  // Rotation and translation parameters have different units; compare each block against its own scale.
  const block = (a: Float64Array, n: Float64Array) => {
    let scale = 0, error = 0;
    for (let i = 0; i < n.length; i++) { scale = Math.max(scale, Math.abs(n[i])); error = Math.max(error, Math.abs(a[i] - n[i])); }
    return error / scale;
  };
  return Math.max(block(analytic.rotation, numeric.rotation), block(analytic.translation, numeric.translation));
}

function fixedImage(drr: DRR): Float64Array {
  const pose: PoseParameters = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' };
  const image = new Float64Array(drr.pixelCount);
  renderPixels(drr.grid, drr.rays(pose), drr.settings, image);
  return image;
}

/** Non-degenerate poses near the tutorial's true pose, as camera-to-world transforms. */
function testPoses(drr: DRR, count: number) {
  const random = seededRandom(11);
  return Array.from({ length: count }, () => ({
    rotation: eulerZYX(Math.PI + (random() - 0.5) * 0.6, (random() - 0.5) * 0.6, Math.PI / 2 + (random() - 0.5) * 0.6),
    translation: Float64Array.from(drr.center, (value) => value + (random() - 0.5) * 30),
  }));
}

describe('pose gradients of the NCC through the renderer', () => {
  // A fixed number of samples per ray keeps the image smooth in the pose (with a step in mm, the
  // sample count of a ray jumps by one as its length changes, which finite differences would see).
  test('trilinear: analytic gradient within 1e-3 of central differences for every parameterization', () => {
    const drr = new DRR(volume, { sdr: 300, height: 24, delx: 30, renderer: 'trilinear', sampling: { samplesPerRay: 200 } });
    const fixed = fixedImage(drr);
    const worst: Record<string, number> = {};
    for (const parameterization of PARAMETERIZATIONS as readonly Parameterization[]) {
      for (const transform of testPoses(drr, 2)) {
        const pose = parametersFromPose(transform, parameterization, 'ZYX');
        assert.ok(Math.abs(poseFromParameters(pose).translation[0] - transform.translation[0]) < 1e-9);
        const registration = new Registration(drr, pose.rotation, pose.translation, { parameterization, convention: 'ZYX' });
        const evaluation = registration.evaluate(fixed, similarity);
        const analytic = { rotation: evaluation.rotationGradient, translation: evaluation.translationGradient };
        const numeric = numericGradient(drr, fixed, registration.pose, 1e-6, 1e-4);
        const error = relativeError(analytic, numeric);
        worst[parameterization] = Math.max(worst[parameterization] ?? 0, error);
        assert.ok(error < 1e-3, `${parameterization}: relative error ${error}`);
      }
    }
  });

  test('Siddon: analytic gradient within 2% of central differences (piecewise-smooth image)', () => {
    const drr = new DRR(volume, { sdr: 300, height: 24, delx: 30, renderer: 'siddon' });
    const fixed = fixedImage(drr);
    for (const transform of testPoses(drr, 3)) {
      const pose = parametersFromPose(transform, 'euler_angles', 'ZYX');
      const registration = new Registration(drr, pose.rotation, pose.translation);
      const evaluation = registration.evaluate(fixed, similarity);
      const numeric = numericGradient(drr, fixed, registration.pose, 1e-7, 1e-5);
      const error = relativeError({ rotation: evaluation.rotationGradient, translation: evaluation.translationGradient }, numeric);
      assert.ok(error < 2e-2, `relative error ${error}`);
    }
  });
});
