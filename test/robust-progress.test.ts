import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DRR } from '../src/drr.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { pyramidLevels, registerRobust } from '../src/registration/strategy.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

/** A small world-geometry problem: the example CT at 5.6 mm, a 32 × 32 pinhole detector, a target 10° and 10 mm away. */
function problem() {
  const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
  const drr = new DRR(volume, { sdd: 1020, height: 32, delx: 25, orientation: 'AP', threads: 1 });
  const start = drr.defaultPose();
  const zyx = (rotation: number[], translation: ArrayLike<number>): PoseParameters =>
    ({ rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' });
  const truth = zyx([0.17, -0.1, 0.08], [start.translation[0] + 10, start.translation[1], start.translation[2] - 5]);
  return { levels: pyramidLevels(drr, drr.render(truth), 2), start: zyx([0, 0, 0], start.translation) };
}

test('registerRobust reports search and candidate progress, and a stop during the search ends unconverged', () => {
  const { levels, start } = problem();
  const seen: Array<[string, number, number, number]> = [];
  const full = registerRobust(levels, start, {
    rotationRangeDegrees: [15, 15, 15], searchStepDegrees: 15, candidates: 2, candidateIterations: 5, maxIterationsPerLevel: 5, acceptScore: 0.5,
    onProgress: (stage, done, total, score) => { seen.push([stage, done, total, score]); },
  });
  const search = seen.filter(([stage]) => stage === 'search'), candidates = seen.filter(([stage]) => stage === 'candidates');
  // 27 search poses, reported every 16 and at the end; the best score so far never falls.
  assert.deepEqual(search.map(([, done, total]) => [done, total]), [[16, 27], [27, 27]]);
  assert.ok(search[1][3] >= search[0][3]);
  // Two candidates × five iterations, counted 1 … 10.
  assert.deepEqual(candidates.map(([, done]) => done), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(candidates.every(([, , total, score]) => total === 10 && Number.isFinite(score)));
  assert.equal(full.iterations.search, 27);

  const stopped = registerRobust(levels, start, {
    rotationRangeDegrees: [15, 15, 15], searchStepDegrees: 15, candidates: 2, candidateIterations: 5, maxIterationsPerLevel: 5,
    onProgress: (stage) => stage !== 'search',
  });
  assert.equal(stopped.converged, false);
  assert.match(stopped.reason, /stopped/);
  assert.equal(stopped.attempts.length, 0, 'nothing was refined');
  assert.equal(stopped.iterations.search, 16, 'the search ended at the first report');
  assert.equal(stopped.iterations.candidates, 0);
  assert.ok(Number.isFinite(stopped.finalScore), 'the best search pose is returned with its (coarse) score');

  const stoppedInCandidates = registerRobust(levels, start, {
    rotationRangeDegrees: [15, 15, 15], searchStepDegrees: 15, candidates: 2, candidateIterations: 5, maxIterationsPerLevel: 5,
    onProgress: (stage, done) => !(stage === 'candidates' && done === 3),
  });
  assert.equal(stoppedInCandidates.converged, false);
  // The candidates ascend in lockstep (1: first, 2: second, 3: first again): the stop at 3 ends both at that round.
  assert.equal(stoppedInCandidates.iterations.candidates, 4);
  assert.equal(stoppedInCandidates.attempts.length, 0);
});
