import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { identityTransform } from '../src/geometry/rigid-transform.js';
import { rotationMatrixFromParameters } from '../src/geometry/rotation.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { MultiViewRegistration } from '../src/registration/multi-view.js';
import { register } from '../src/registration/register.js';
import { renderPixels } from '../src/render/renderer.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

const volume = loadExampleCT({ shape: [96, 96, 88], spacing: [3.75, 3.75, 3.75] });
const lateral = { rotation: rotationMatrixFromParameters([0, Math.PI / 2, 0], 'axis_angle'), translation: Float64Array.of(0, 0, 0) };
const views = [identityTransform(), lateral];

describe('two-view registration (AP + lateral)', () => {
  test('the two-view score gradient matches central differences', () => {
    const drr = new DRR(volume, { sdr: 300, height: 24, delx: 30, renderer: 'trilinear', sampling: { samplesPerRay: 200 } });
    const truthRegistration = new MultiViewRegistration(drr, [Math.PI, 0, Math.PI / 2], drr.center, views);
    const fixed = truthRegistration.render();
    const registration = new MultiViewRegistration(drr, [Math.PI + 0.1, 0.05, Math.PI / 2 - 0.08], Float64Array.from(drr.center, (value, axis) => value + [5, -6, 4][axis]), views);
    const similarity = new NormalizedCrossCorrelation();
    const analytic = registration.evaluate(fixed, similarity);
    const scoreAt = () => {
      // Render in float64: float32 images would drown the differences in rounding.
      const pixels = drr.pixelCount;
      const images = new Float64Array(2 * pixels);
      registration.viewTransforms().forEach((transform, index) => renderPixels(drr.grid, drr.rays(transform), drr.settings, images, index * pixels));
      const shape = { height: 24, width: 24 };
      return (similarity.score(fixed.subarray(0, pixels), images.subarray(0, pixels), shape)[0] + similarity.score(fixed.subarray(pixels), images.subarray(pixels), shape)[0]) / 2;
    };
    const check = (vector: Float64Array, gradient: Float64Array, step: number) => {
      let scale = 0;
      const numeric = Array.from(vector, (_, index) => {
        const saved = vector[index];
        vector[index] = saved + step; const plus = scoreAt();
        vector[index] = saved - step; const minus = scoreAt();
        vector[index] = saved;
        const value = (plus - minus) / (2 * step);
        scale = Math.max(scale, Math.abs(value));
        return value;
      });
      numeric.forEach((value, index) => assert.ok(Math.abs(gradient[index] - value) <= 1e-3 * scale, `component ${index}: ${gradient[index]} vs ${value}`));
    };
    check(registration.rotation, analytic.rotationGradient, 1e-6);
    check(registration.translation, analytic.translationGradient, 1e-4);
  });

  test('registers to an AP and a lateral view from a start 8° and 15 mm away, depth included', () => {
    const drr = new DRR(volume, { sdr: 300, height: 48, delx: 16 });
    const fixed = new MultiViewRegistration(drr, [Math.PI, 0, Math.PI / 2], drr.center, views).render();
    const registration = new MultiViewRegistration(drr, [Math.PI + 0.1, -0.06, Math.PI / 2 + 0.07], Float64Array.from(drr.center, (value, axis) => value + [12, -7, 5][axis]), views);
    const result = register(registration, fixed, { optimizer: 'adam', learningRateRotation: 1e-2, learningRateTranslation: 1, maxIterations: 300, stopScore: 0.9995 });
    assert.ok(result.converged, `final score ${result.finalLoss}`);
    const translationError = Math.hypot(...drr.center.map((value, axis) => result.translation[axis] - value));
    assert.ok(translationError < 1, `translation error ${translationError} mm`);
  });
});
