import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDetector } from '../src/geometry/detector.js';
import { rotationMatrixFromParameters } from '../src/geometry/rotation.js';
import { evaluateRegistration, quantile, summarizeEvaluation } from '../src/registration/evaluate.js';
import { defaultTargetPoints, geodesicDegrees, poseError } from '../src/registration/pose-error.js';
import { binImage, buildPyramid } from '../src/registration/strategy.js';
import { DRR } from '../src/drr.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { correlation } from './helpers.js';

describe('pose errors', () => {
  const detector = createDetector({ sdr: 300, height: 100, delx: 8 });
  const points = defaultTargetPoints([360, 360, 330]);
  const truth = { rotation: rotationMatrixFromParameters([Math.PI, 0, Math.PI / 2], 'euler_angles', 'ZYX'), translation: Float64Array.of(180, 180, 165) };

  test('identical poses have zero error; a pure translation moves every target point by its length', () => {
    const same = poseError(truth, truth, detector, points);
    assert.deepEqual([same.rotationDegrees, same.translationMm, same.mTRE, same.mPD], [0, 0, 0, 0]);
    const moved = poseError(truth, { rotation: truth.rotation, translation: Float64Array.of(183, 184, 165) }, detector, points);
    assert.ok(Math.abs(moved.translationMm - 5) < 1e-12);
    assert.ok(Math.abs(moved.mTRE - 5) < 1e-9);
    assert.ok(moved.mPD > 0);
  });

  test('the geodesic distance of a known rotation is its angle', () => {
    const offset = rotationMatrixFromParameters([0, 0, (7 * Math.PI) / 180], 'axis_angle');
    const rotated = rotationMatrixFromParameters([0, 0, 0], 'axis_angle');
    assert.ok(Math.abs(geodesicDegrees(rotated, offset) - 7) < 1e-9);
    assert.equal(points.length, 27 * 3);
  });

  test('quantiles and summaries', () => {
    assert.equal(quantile([3, 1, 2], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    const run = (mTRE: number, initial: number) => ({
      index: 0, initialRotation: [0, 0, 0], initialTranslation: [0, 0, 0], initialError: { rotationDegrees: 0, translationMm: 0, mTRE: initial, mPD: 0 },
      finalRotation: [0, 0, 0], finalTranslation: [0, 0, 0], error: { rotationDegrees: 0, translationMm: 0, mTRE, mPD: 0 }, converged: true, reason: '', finalScore: 1, iterations: 1, seconds: 1,
    });
    const summary = summarizeEvaluation('robust', [run(0.5, 10.2), run(1.5, 10.7), run(20, 11.1)]);
    assert.deepEqual(summary.successRate, { below1mm: 1 / 3, below2mm: 2 / 3, below10mm: 2 / 3 });
    assert.deepEqual(summary.captureRange, [{ initialMTREmm: 10, runs: 2, successes: 2 }, { initialMTREmm: 11, runs: 1, successes: 0 }]);
  });
});

describe('coarse-to-fine pyramid', () => {
  test('binned targets match the coarse levels\' own DRRs', () => {
    const volume = loadExampleCT({ shape: [128, 128, 66], spacing: [2.8125, 2.8125, 5] });
    const options = { sdr: 300, height: 64, width: 60, delx: 12.5 };
    const drr = new DRR(volume, options);
    const pose = { rotation: Float64Array.of(2.9, 0.2, 1.4), translation: Float64Array.from(drr.center), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
    const target = drr.render(pose);
    const pyramid = buildPyramid(volume, options, target, 3);
    assert.deepEqual(pyramid.map((level) => level.factor), [4, 2, 1]);
    for (const level of pyramid) {
      const coarse = level.drr.render(pose);
      const score = correlation(coarse, level.fixed);
      assert.ok(score > 0.98, `level ÷${level.factor}: NCC ${score}`);
    }
    const binned = binImage(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3, 2);
    assert.deepEqual([binned.height, binned.width, ...binned.data], [1, 1, 3]);
  });
});

describe('a small evaluation (regression guard for the robust strategy)', () => {
  test('the robust strategy registers every start from the tutorial\'s ranges (mTRE < 2 mm)', () => {
    const volume = loadExampleCT();
    const { runs, summary } = evaluateRegistration({ volume, detector: { sdr: 300, height: 64, delx: 12.5 }, runs: 3, seed: 5, strategy: 'robust' });
    assert.equal(runs.length, 3);
    assert.ok(runs.every((run) => run.initialError.mTRE > 10), 'starts should be far from the truth');
    assert.equal(summary.successRate.below2mm, 1, JSON.stringify(runs.map((run) => run.error)));
  });
});

describe('model mismatch', () => {
  const volume = loadExampleCT();
  const detector = { sdr: 300, height: 64, delx: 12.5, renderer: 'trilinear' as const };

  test('a Siddon target on a 2× finer detector registers with the trilinear renderer', () => {
    const { summary } = evaluateRegistration({ volume, detector, runs: 2, seed: 2, targetModel: { renderer: 'siddon', oversampling: 2 } });
    assert.equal(summary.successRate.below2mm, 1);
  });

  test('a noisy Beer–Lambert target (μ from HU, 10⁴ photons, −log) registers with gradient NCC', () => {
    const { runs, summary } = evaluateRegistration({
      volume, detector, runs: 2, seed: 2,
      targetModel: { renderer: 'siddon', oversampling: 2, intensity: 'beer-lambert', photons: 1e4 },
      robust: { similarity: 'gradient_ncc' },
    });
    assert.equal(summary.successRate.below2mm, 1, JSON.stringify(runs.map((run) => run.error)));
  });
});
