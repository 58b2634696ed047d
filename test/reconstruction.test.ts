import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import type { RayGrid } from '../src/geometry/detector.js';
import { poseFromParameters } from '../src/geometry/pose.js';
import { peakSignalToNoiseRatio, structuralSimilarity3d } from '../src/metrics/volume-quality.js';
import { projectorForGrid } from '../src/render/backprojection.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { reconstructVolume } from '../src/reconstruction/reconstruct.js';
import { totalVariation } from '../src/reconstruction/total-variation.js';
import { createVolume } from '../src/volume/volume.js';
import { seededRandom } from './helpers.js';

after(() => closeRenderPool());

/** A 20³ phantom of 2 mm voxels: a ball of density 1 holding a denser cube and a hollow. */
function phantom() {
  const n = 20;
  const data = new Float32Array(n * n * n);
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    const r = Math.hypot(i - 9.5, j - 9.5, k - 9.5);
    let value = r < 8 ? 1 : 0;
    if (i >= 5 && i < 9 && j >= 6 && j < 10 && k >= 8 && k < 13) value = 2;
    if (Math.hypot(i - 13, j - 12, k - 7) < 2.5) value = 0;
    data[i + n * (j + n * k)] = value;
  }
  return createVolume({ data, shape: [n, n, n], spacing: [2, 2, 2], source: 'phantom' });
}

function setting(views: number) {
  const volume = phantom();
  const drr = new DRR(volume, { sdr: 200, height: 32, delx: 2.5, density: 'raw', threads: 1 });
  const rays: RayGrid[] = [];
  const projections = new Float32Array(views * drr.pixelCount);
  for (let view = 0; view < views; view++) {
    const pose = poseFromParameters({ rotation: Float64Array.of(Math.PI + (view * Math.PI) / views, 0.3 * Math.sin(view), Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' });
    rays.push(drr.rays(pose));
    projections.set(drr.render(pose), view * drr.pixelCount);
  }
  const [n] = drr.grid.shape;
  const truth = new Float64Array(n * n * n);
  const px = n + 2;
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) truth[i + n * (j + n * k)] = drr.grid.data[i + 1 + px * (j + 1 + px * (k + 1))];
  return { drr, rays, projections, truth };
}

describe('reconstruction from projections at known poses', () => {
  const { drr, rays, projections, truth } = setting(24);
  for (const method of ['sirt', 'sart', 'adam'] as const) {
    test(`${method}: the residual falls and the volume approaches the truth`, () => {
      const projector = projectorForGrid(drr.grid, { threads: 2, maximumPixels: drr.pixelCount });
      const iterations = method === 'sart' ? 10 : method === 'sirt' ? 60 : 150;
      const result = reconstructVolume(projector, rays, projections, { method, iterations, learningRate: 0.05 });
      projector.dispose();
      const psnr = peakSignalToNoiseRatio(truth, result.densities);
      const ssim = structuralSimilarity3d(truth, result.densities, [20, 20, 20]);
      assert.ok(result.residuals[result.residuals.length - 1] < 0.2 * result.residuals[0], `residual ${result.residuals[0]} → ${result.residuals.at(-1)}`);
      assert.ok(psnr > 20, `PSNR ${psnr}`);
      assert.ok(ssim > 0.6, `SSIM ${ssim}`);
      for (const value of result.densities) assert.ok(value >= 0);
    });
  }

  test('SIRT with total variation is closer to the piecewise-constant truth from few views', () => {
    const few = setting(4);
    const run = (tv: number) => {
      const projector = projectorForGrid(few.drr.grid, { threads: 1, maximumPixels: few.drr.pixelCount });
      const result = reconstructVolume(projector, few.rays, few.projections, { method: 'sirt', iterations: 40, totalVariation: tv });
      return peakSignalToNoiseRatio(few.truth, result.densities);
    };
    const plain = run(0), regularised = run(1);
    assert.ok(regularised > plain, `PSNR with TV ${regularised} vs without ${plain}`);
  });

  test('bad options are refused', () => {
    const projector = projectorForGrid(drr.grid, { threads: 1, maximumPixels: drr.pixelCount });
    assert.throws(() => reconstructVolume(projector, rays, projections.subarray(1), {}), /projection values/);
    assert.throws(() => reconstructVolume(projector, rays, projections, { relaxation: 2 }), /relaxation/);
    assert.throws(() => reconstructVolume(projector, rays, projections, { iterations: 0 }), /iterations/);
  });
});

describe('total variation and volume quality', () => {
  test('TV gradient matches central differences', () => {
    const shape = [6, 5, 4] as const;
    const random = seededRandom(3);
    const x = new Float64Array(120).map(() => random());
    const gradient = new Float64Array(120);
    totalVariation(x, shape, 0.05, gradient);
    for (const v of [0, 7, 33, 64, 119]) {
      const plus = Float64Array.from(x), minus = Float64Array.from(x);
      plus[v] += 1e-6; minus[v] -= 1e-6;
      const numeric = (totalVariation(plus, shape, 0.05) - totalVariation(minus, shape, 0.05)) / 2e-6;
      assert.ok(Math.abs(numeric - gradient[v]) < 1e-6, `voxel ${v}: ${gradient[v]} vs ${numeric}`);
    }
    // A constant volume has TV = ε per voxel.
    assert.ok(Math.abs(totalVariation(new Float64Array(120).fill(3), shape, 0.05) - 120 * 0.05) < 1e-12);
  });

  test('PSNR and SSIM: analytic values', () => {
    const shape = [9, 8, 10] as const;
    const random = seededRandom(9);
    const truth = new Float64Array(720).map(() => random());
    let minimum = Infinity, maximum = -Infinity;
    for (const value of truth) { minimum = Math.min(minimum, value); maximum = Math.max(maximum, value); }
    const shifted = truth.map((value) => value + 0.1);
    assert.ok(Math.abs(peakSignalToNoiseRatio(truth, shifted) - 20 * Math.log10((maximum - minimum) / 0.1)) < 1e-9);
    assert.equal(structuralSimilarity3d(truth, truth, shape), 1);
    // A constant offset c changes only the luminance term: (2μ(μ+c) + C1)/(μ² + (μ+c)² + C1) per window.
    const ssim = structuralSimilarity3d(truth, shifted, shape);
    assert.ok(ssim < 1 && ssim > 0.9, `SSIM ${ssim}`);
    const noise = truth.map(() => random());
    assert.ok(structuralSimilarity3d(truth, noise, shape) < 0.2);
  });
});
