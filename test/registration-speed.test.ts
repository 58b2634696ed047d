/**
 * The speed settings of the robust strategy (docs/speed.md): Joseph on the coarse pyramid levels,
 * the search on a level coarsened once more, and `DRR.coarsened` with another renderer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import { DrrkitError } from '../src/errors.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { binImage, pyramidLevels, registerRobust } from '../src/registration/strategy.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

const zyx = (rotation: ArrayLike<number>, translation: ArrayLike<number>): PoseParameters =>
  ({ rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' });

/** The example CT at 5.6 mm, a 32 × 32 seed detector, the tutorial's true pose and a start 12°/8 mm away. */
function problem() {
  const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
  const drr = new DRR(volume, { sdr: 300, height: 32, delx: 25, threads: 1 });
  const centre = drr.center;
  const truth = zyx([Math.PI, 0, Math.PI / 2], centre);
  const start = zyx([Math.PI + 0.21, -0.12, Math.PI / 2 + 0.1], [centre[0] + 8, centre[1] - 5, centre[2] + 4]);
  return { volume, drr, truth, start, fixed: drr.render(truth) };
}

describe('robust strategy speed settings', () => {
  test('pyramidLevels renders the coarse levels with Joseph by default and keeps the finest; "same" keeps every level', () => {
    const { drr, fixed } = problem();
    const levels = pyramidLevels(drr, fixed, 3);
    assert.deepEqual(levels.map((level) => level.factor), [4, 2, 1]);
    assert.deepEqual(levels.map((level) => level.drr.settings.renderer), ['joseph', 'joseph', 'siddon']);
    assert.equal(levels[2].drr, drr, 'the finest level is the DRR itself');
    const same = pyramidLevels(drr, fixed, 3, { coarseRenderer: 'same' });
    assert.deepEqual(same.map((level) => level.drr.settings.renderer), ['siddon', 'siddon', 'siddon']);
  });

  test('DRR.coarsened(1) is the DRR itself, or with another renderer the same images as a DRR made with it', () => {
    const { volume, drr, truth } = problem();
    assert.equal(drr.coarsened(1), drr);
    assert.equal(drr.coarsened(1, { renderer: 'siddon' }), drr);
    const joseph = drr.coarsened(1, { renderer: 'joseph' });
    assert.equal(joseph.settings.renderer, 'joseph');
    const direct = new DRR(volume, { sdr: 300, height: 32, delx: 25, threads: 1, renderer: 'joseph' });
    assert.deepEqual(joseph.render(truth), direct.render(truth));
    // A coarse level with another renderer: same densities and camera, other renderer.
    const coarse = drr.coarsened(2, { renderer: 'joseph' });
    assert.equal(coarse.settings.renderer, 'joseph');
    assert.deepEqual(coarse.densities(), drr.coarsened(2).densities());
  });

  test('registerRobust registers with the search on the coarser search level, and rejects a bad coarsening', () => {
    const { drr, truth, start, fixed } = problem();
    const levels = pyramidLevels(drr, fixed, 2);
    const options = { rotationRangeDegrees: [15, 15, 15] as [number, number, number], searchStepDegrees: 15, candidates: 2 };
    for (const searchCoarsening of [2, 1]) {
      const result = registerRobust(levels, start, { ...options, searchCoarsening });
      assert.ok(result.converged, `coarsening ${searchCoarsening}: ${result.reason}`);
      const rotationError = Math.max(...[0, 1, 2].map((axis) => Math.abs(result.pose.rotation[axis] - truth.rotation[axis])));
      const translationError = Math.max(...[0, 1, 2].map((axis) => Math.abs(result.pose.translation[axis] - truth.translation[axis])));
      assert.ok(rotationError < 0.01 && translationError < 1, `coarsening ${searchCoarsening}: ${rotationError} rad, ${translationError} mm off`);
      assert.equal(result.iterations.search, 27, 'the same rotation grid is searched');
    }
    // 16² coarsest level coarsened 4× would have 4² pixels: the search stays on the coarsest level.
    const fallback = registerRobust(levels, start, { ...options, searchCoarsening: 4 });
    const onCoarsest = registerRobust(levels, start, { ...options, searchCoarsening: 1 });
    assert.deepEqual(fallback.pose, onCoarsest.pose);
    // The same level DRRs with another target: the search level's DRR is reused, its target is not.
    const other = zyx([Math.PI - 0.15, 0.08, Math.PI / 2 - 0.05], [truth.translation[0] - 6, truth.translation[1] + 4, truth.translation[2]]);
    const otherFixed = drr.render(other);
    const otherLevels = levels.map((level) => ({ ...level, fixed: binImage(otherFixed, 32, 32, level.factor).data }));
    const moved = registerRobust(otherLevels, start, options);
    assert.ok(moved.converged, moved.reason);
    const movedError = Math.max(...[0, 1, 2].map((axis) => Math.abs(moved.pose.rotation[axis] - other.rotation[axis])));
    assert.ok(movedError < 0.01, `the second target's pose: ${movedError} rad off`);
    for (const bad of [0, 1.5, -2]) {
      assert.throws(() => registerRobust(levels, start, { ...options, searchCoarsening: bad }), (error: unknown) => error instanceof DrrkitError && /search coarsening/.test(error.message));
    }
  });
});
