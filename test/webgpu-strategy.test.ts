/**
 * The robust strategy on WebGPU (`registerRobustAsync` with a `WebGPUPoseAnswerer`): the same
 * search, candidates, coarse-to-fine sparse L-BFGS refinement and acceptance test as on the CPU,
 * every render made on the device. Skips without a WebGPU adapter (see test/webgpu.test.ts).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DRR } from '../src/drr.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { pixelSubset } from '../src/registration/level-refinement.js';
import { MultiViewRegistration } from '../src/registration/multi-view.js';
import { identityTransform } from '../src/geometry/rigid-transform.js';
import { rotationMatrixFromParameters } from '../src/geometry/rotation.js';
import { cpuPoseAnswerer } from '../src/registration/pose-requests.js';
import { pyramidLevels, registerRobust, registerRobustAsync } from '../src/registration/strategy.js';
import { nodeWebGPUDevice } from '../src/render/webgpu/node.js';
import { WebGPUPoseAnswerer } from '../src/render/webgpu/webgpu-answerer.js';
import { WebGPUDRR } from '../src/render/webgpu/webgpu-drr.js';
import type { WebGPUDeviceInfo } from '../src/render/webgpu/webgpu-backend.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { relativeL2 } from './helpers.js';

process.env.EGL_PLATFORM ??= 'surfaceless';
const info: WebGPUDeviceInfo | null = await nodeWebGPUDevice().catch(() => null);
const skip = info === null ? 'no WebGPU adapter (needs the "webgpu" package and a GPU driver, or Mesa: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)' : false;
after(() => info?.device.destroy());

const zyx = (rotation: ArrayLike<number>, translation: ArrayLike<number>): PoseParameters =>
  ({ rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' });

describe('the robust strategy on WebGPU', { skip }, () => {
  const volume = loadExampleCT({ shape: [64, 64, 48], spacing: [5.625, 5.625, 6.875] });
  const cameras = {
    // The tutorial's C-arm, seed frame.
    seed: () => {
      const drr = new DRR(volume, { sdr: 500, height: 48, delx: 16, threads: 1 });
      const truth = zyx([Math.PI, 0, Math.PI / 2], drr.center);
      return { drr, truth, start: zyx([Math.PI + 0.3, -0.2, Math.PI / 2 - 0.25], drr.center.map((value, axis) => value + [10, -12, 8][axis])) };
    },
    // A pinhole camera in the patient frame (Joseph on the coarse levels, trilinear on the finest).
    pinhole: () => {
      const drr = new DRR(volume, { sdd: 1020, height: 48, delx: 16, orientation: 'AP', renderer: 'trilinear', threads: 1 });
      const base = drr.defaultPose().translation;
      return { drr, truth: zyx([0.2, -0.15, 0.1], base.map((value, axis) => value + [8, 0, -6][axis])), start: zyx([0, 0, 0], base) };
    },
  };

  for (const [name, make] of Object.entries(cameras)) {
    test(`${name} camera: converges to the truth as the CPU run does, every render on the device`, async () => {
      const { drr, truth, start } = make();
      const levels = pyramidLevels(drr, drr.render(truth), 3);
      const options = { rotationRangeDegrees: [30, 30, 30] as [number, number, number], searchStepDegrees: 15 };
      const answerer = new WebGPUPoseAnswerer(info!);
      let gpu;
      try {
        gpu = await registerRobustAsync(levels, start, answerer, options);
      } finally {
        await answerer.destroy();
      }
      const cpu = registerRobust(levels, start, options);
      for (const [backend, result] of [['CPU', cpu], ['WebGPU', gpu]] as const) {
        assert.equal(result.converged, true, `${backend}: ${result.reason}`);
        const rotation = Math.max(...Array.from(result.pose.rotation, (value, axis) => Math.abs(value - truth.rotation[axis])));
        const translation = Math.hypot(...Array.from(result.pose.translation, (value, axis) => value - truth.translation[axis]));
        assert.ok(rotation < 2e-3 && translation < 0.5, `${backend}: ${rotation.toExponential(2)} rad, ${translation.toFixed(3)} mm from the truth`);
        assert.ok(result.finalScore > 0.9999, `${backend}: final NCC ${result.finalScore}`);
      }
      // The search went to the device in batches of 16 poses (125 poses: 8 submissions), the six
      // candidates' ascents in lockstep (one submission per iteration for all: 10), then every
      // refinement evaluation and final score.
      assert.equal(gpu.iterations.search, 125);
      assert.equal(gpu.iterations.candidates, 60);
      assert.ok(answerer.submissions >= 8 + 10 + 1 + gpu.iterations.refine, `${answerer.submissions} submissions`);
      assert.ok(answerer.submissions < 8 + gpu.iterations.candidates + gpu.iterations.refine, `${answerer.submissions} submissions: the candidates share theirs`);
    });
  }

  test('NCC, its pixel weights and the reduction in one device submission equal the CPU\'s (both cameras, whole image and pixel list, Beer–Lambert falls back)', async (t) => {
    const ncc = new NormalizedCrossCorrelation();
    for (const make of [cameras.seed, cameras.pinhole]) {
      const { drr, truth, start } = make();
      const fixed = drr.render(truth);
      const gpu = await WebGPUDRR.create(drr, info!);
      try {
        assert.equal(gpu.supportsDeviceNcc, true);
        for (const pixels of [null, pixelSubset(drr.pixelCount, 700, 11)]) {
          const target = pixels === null ? fixed : Float32Array.from(pixels, (pixel) => fixed[pixel]);
          const call = pixels === null ? undefined : { pixels };
          const request = { kind: 'evaluate', drr, pose: start, fixed: target, similarity: ncc, pixels } as const;
          const expected = cpuPoseAnswerer.evaluate(request);
          const fused = await gpu.nccGradientAsync(start, target, ncc.eps, call);
          // The device's own f32 score, and the f64 score of the image it sent back.
          assert.ok(Math.abs(fused.deviceScore - expected.score) < 1e-5, `device score ${fused.deviceScore} vs ${expected.score}`);
          assert.ok(Math.abs(fused.score - expected.score) < 1e-6, `score ${fused.score} vs ${expected.score}`);
          assert.ok(relativeL2(fused.image, expected.image) < 1e-4);
          const gradient = (rotation: ArrayLike<number>, translation: ArrayLike<number>) => [...Array.from(rotation), ...Array.from(translation)];
          const cpuGradient = gradient(expected.rotationGradient, expected.translationGradient);
          assert.ok(relativeL2(gradient(fused.gradient.rotation, fused.gradient.translation), cpuGradient) < 1e-4, 'pose gradient vs the CPU');
          // Against the two-submission path (image read back, weights formed here): the same numbers to f32 rounding.
          await gpu.renderForGradientAsync(start, call);
          const weights = new Float64Array(drr.pixelCount);
          const moving = pixels === null ? fused.image : Float32Array.from(pixels, (pixel) => fused.image[pixel]);
          const shape = pixels === null ? { height: drr.detector.height, width: drr.detector.width } : { height: 1, width: pixels.length };
          const byPixel = ncc.scoreWithGradient(target, moving, shape, 1).gradient;
          if (pixels === null) weights.set(byPixel); else pixels.forEach((pixel, index) => { weights[pixel] = byPixel[index]; });
          const twoSubmissions = await gpu.parameterGradientAsync(start, weights);
          const error = relativeL2(gradient(fused.gradient.rotation, fused.gradient.translation), gradient(twoSubmissions.rotation, twoSubmissions.translation));
          assert.ok(error < 1e-4, `one submission vs two: ${error}`);
          t.diagnostic(`${drr.camera.kind} ${pixels === null ? 'whole image' : `${pixels.length} pixels`}: device score − CPU ${(fused.deviceScore - expected.score).toExponential(1)}, ` +
            `gradient vs CPU ${relativeL2(gradient(fused.gradient.rotation, fused.gradient.translation), cpuGradient).toExponential(1)}, one vs two submissions ${error.toExponential(1)}`);
        }
      } finally {
        await gpu.destroy();
      }
    }
    const beerLambert = new DRR(volume, { sdr: 500, height: 24, delx: 32, intensity: 'beer-lambert', threads: 1 });
    const gpu = await WebGPUDRR.create(beerLambert, info!);
    assert.equal(gpu.supportsDeviceNcc, false);
    await assert.rejects(gpu.nccGradientAsync(cameras.seed().truth, new Float32Array(beerLambert.pixelCount), 1e-5), /line-integral/);
    await gpu.destroy();
  });

  test('a two-view registration evaluated on the device equals the CPU evaluation', async () => {
    const { drr, truth, start } = cameras.seed();
    const views = [identityTransform(), { rotation: rotationMatrixFromParameters([0, 0, Math.PI / 2], 'euler_angles', 'ZYX'), translation: Float64Array.of(0, 0, 0) }];
    const gpu = await WebGPUDRR.create(drr, info!);
    try {
      const cpu = new MultiViewRegistration(drr, start.rotation, start.translation, views);
      const onDevice = new MultiViewRegistration(drr, start.rotation, start.translation, views, { device: gpu });
      const fixed = new MultiViewRegistration(drr, truth.rotation, truth.translation, views).render();
      const ncc = new NormalizedCrossCorrelation();
      const expected = cpu.evaluate(fixed, ncc), actual = await onDevice.evaluateAsync(fixed, ncc);
      assert.ok(Math.abs(actual.score - expected.score) < 1e-5, `score ${actual.score} vs ${expected.score}`);
      assert.ok(relativeL2(actual.image, expected.image) < 1e-4);
      assert.ok(relativeL2([...actual.rotationGradient, ...actual.translationGradient], [...expected.rotationGradient, ...expected.translationGradient]) < 1e-4);
      assert.ok(relativeL2(await onDevice.renderAsync(), cpu.render()) < 1e-4);
      await assert.rejects(cpu.evaluateAsync(fixed, ncc), /no asynchronous renderer/);
    } finally {
      await gpu.destroy();
    }
  });

  test('an evaluate request answered on the device equals the CPU answer (whole image and pixel list)', async () => {
    const { drr, truth, start } = cameras.seed();
    const fixed = drr.render(truth);
    const ncc = new NormalizedCrossCorrelation();
    const answerer = new WebGPUPoseAnswerer(info!);
    try {
      for (const pixels of [null, pixelSubset(drr.pixelCount, 600, 3)]) {
        const target = pixels === null ? fixed : Float32Array.from(pixels, (pixel) => fixed[pixel]);
        const request = { kind: 'evaluate', drr, pose: start, fixed: target, similarity: ncc, pixels } as const;
        const expected = cpuPoseAnswerer.evaluate(request), actual = await answerer.evaluate(request);
        assert.ok(Math.abs(actual.score - expected.score) < 1e-5, `score ${actual.score} vs ${expected.score}`);
        const gradient = (evaluation: typeof actual) => [...evaluation.rotationGradient, ...evaluation.translationGradient];
        assert.ok(relativeL2(gradient(actual), gradient(expected)) < 1e-4, `gradient ${gradient(actual)} vs ${gradient(expected)}`);
        assert.ok(relativeL2(actual.image, expected.image) < 1e-4);
      }
      const poses = [start, truth];
      const images = await answerer.render({ kind: 'render', drr, poses });
      assert.ok(relativeL2(images, drr.render(poses)) < 1e-4);
      assert.equal(answerer.submissions, 3);
    } finally {
      await answerer.destroy();
    }
  });
});
