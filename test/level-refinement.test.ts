/** Refinement on one pyramid level with L-BFGS and sparse pixel subsets (src/registration/level-refinement.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { createSimilarity } from '../src/metrics/index.js';
import { pixelSubset, refineOnLevel } from '../src/registration/level-refinement.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

describe('level refinement', () => {
  test('pixel subsets are fixed by the seed, distinct, ascending, and all pixels when the budget covers them', () => {
    const a = pixelSubset(1000, 250, 7), b = pixelSubset(1000, 250, 7), c = pixelSubset(1000, 250, 8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(new Set(a).size, 250);
    for (let i = 1; i < a.length; i++) assert.ok(a[i] > a[i - 1]);
    assert.ok(a[0] >= 0 && a[a.length - 1] < 1000);
    assert.deepEqual(Array.from(pixelSubset(10, 0, 1)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(Array.from(pixelSubset(10, 12, 1)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  for (const [optimizer, pixels] of [['lbfgs', 400], ['lbfgs', 0], ['adam', 400]] as const) {
    test(`${optimizer}${pixels ? ` on ${pixels} of 1024 pixels` : ''} recovers a pose 3°/6 mm off (within 0.3° and 0.6 mm) and settles`, () => {
      const drr = new DRR(loadExampleCT(), { sdr: 300, height: 32, delx: 25, renderer: 'joseph', threads: 1 });
      const truth = { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
      const fixed = drr.render(truth);
      const degree = Math.PI / 180;
      const start = [truth.rotation[0] + 3 * degree, truth.rotation[1] - 2 * degree, truth.rotation[2] + 2 * degree];
      const startTranslation = [truth.translation[0] + 6, truth.translation[1] - 4, truth.translation[2] + 5];
      const result = refineOnLevel(drr, fixed, start, startTranslation, createSimilarity('ncc'), {
        optimizer, pixels, maxRenders: 200, learningRateRotation: 1e-2, learningRateTranslation: 1,
        rotationTolerance: 0.005 * degree, translationTolerance: 0.01, patience: optimizer === 'lbfgs' ? 2 : 5, seed: 1,
      });
      const rotationError = Math.max(...[0, 1, 2].map((axis) => Math.abs(result.rotation[axis] - truth.rotation[axis]))) / degree;
      const translationError = Math.max(...[0, 1, 2].map((axis) => Math.abs(result.translation[axis] - truth.translation[axis])));
      assert.ok(rotationError < 0.3, `rotation error ${rotationError}° after ${result.renders} renders`);
      assert.ok(translationError < 0.6, `translation error ${translationError} mm after ${result.renders} renders`);
      assert.ok(result.settled, `not settled after ${result.renders} renders`);
    });
  }
});
