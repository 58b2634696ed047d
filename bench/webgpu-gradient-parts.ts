/**
 * Where the WebGPU pose gradient differs from the CPU's: for the five poses of the gradient test
 * in test/webgpu.test.ts (four seed poses, one world pose; NCC against the truth's image), one
 * JSON line per pose and renderer with the relative error of
 * - `total`: the device's pose gradient against the CPU's;
 * - `rays_reduced_in_f64`: the device's per-ray gradients, read back and reduced in f64 on the CPU;
 * - `weights_only`: the CPU's ray gradients with the loss weights of the device's (f32) image;
 * - `reduction_only`: the device's f32 reduction against the f64 reduction of the same ray gradients.
 *
 *   EGL_PLATFORM=surfaceless node dist/bench/webgpu-gradient-parts.js [--renderers siddon,trilinear,joseph] [--sparse]
 *     [--random N [--seed S]] [--total-only]
 *
 * `--sparse`: NCC over a third of the pixels (the sparse gradient test's list). `--random N`:
 * instead of the test's five poses, N generic poses per camera (seed and world) from a seeded
 * generator (mulberry32, seed S, default 1): rotations within ±0.15 rad and translations within
 * ±15 mm of the truth. `--total-only`: only the `total` column (faster). After the per-pose
 * lines, one `summary` line per renderer and camera: the median and maximum per-pose `total`.
 * Uses the LIDC CT in ../shared when present, else the example CT at half resolution (as the test).
 */
import { DRR } from '../src/drr.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { readNifti } from '../src/io/nifti.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import type { RendererName } from '../src/render/renderer.js';
import { nodeWebGPUDevice } from '../src/render/webgpu/node.js';
import { WebGPUDRR } from '../src/render/webgpu/webgpu-drr.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { downsampleVolume } from '../src/volume/pyramid.js';
import { seededRandom } from '../src/volume/shapes.js';
import { WorldDRR } from '../src/world-drr.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const rendererOption = argv.indexOf('--renderers');
const renderers = (rendererOption >= 0 ? argv[rendererOption + 1] : 'siddon,trilinear,joseph').split(',') as RendererName[];
const sparse = argv.includes('--sparse');
const randomOption = argv.indexOf('--random');
const randomPoses = randomOption >= 0 ? Number(argv[randomOption + 1]) : 0;
const seedOption = argv.indexOf('--seed');
const randomSeed = seedOption >= 0 ? Number(argv[seedOption + 1]) : 1;
const totalOnly = argv.includes('--total-only');
const sharedCT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'lidc2-chest-ct.nii.gz');

/** Relative L2 distance. */
function relative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let difference = 0, norm = 0;
  for (let index = 0; index < expected.length; index++) { difference += (actual[index] - expected[index]) ** 2; norm += expected[index] ** 2; }
  return Math.sqrt(difference / norm);
}

/** Median and maximum of a list. */
function medianAndMaximum(values: number[]): { median: number; maximum: number } {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: sorted[Math.floor(sorted.length / 2)], maximum: sorted[sorted.length - 1] };
}

/** A pose gradient as six numbers. */
function flat(gradient: { rotation: ArrayLike<number>; translation: ArrayLike<number> }): number[] {
  return [...Array.from(gradient.rotation), ...Array.from(gradient.translation)];
}

/** Seed-geometry Euler ZYX pose. */
function seedPose(rotation: ArrayLike<number>, translation: ArrayLike<number>): PoseParameters {
  return { rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' };
}

async function main(): Promise<void> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const info = await nodeWebGPUDevice();
  if (info === null) {
    process.stdout.write(JSON.stringify({ benchmark: 'webgpu-gradient-parts', skipped: 'no WebGPU adapter' }) + '\n');
    return;
  }
  const shared = existsSync(sharedCT);
  const volume = shared ? await readNifti(sharedCT) : downsampleVolume(loadExampleCT(), 2);
  const ncc = new NormalizedCrossCorrelation();
  for (const renderer of renderers) {
    const seed = new DRR(volume, { sdr: 300, height: 64, delx: 12, renderer, threads: 1 });
    const world = new WorldDRR(volume, { sdd: 1000, height: 60, width: 56, delx: 6, orientation: 'AP', renderer });
    const seedTruth = seedPose([Math.PI, 0, Math.PI / 2], seed.center);
    const worldStart = world.defaultPose().translation;
    const cases: [DRR, PoseParameters, PoseParameters][] = [];
    if (randomPoses > 0) {
      const random = seededRandom(randomSeed);
      const spread = (scale: number) => (2 * random() - 1) * scale;
      for (const [drr, truth] of [[seed, seedTruth], [world, seedPose([0, 0, 0], worldStart)]] as [DRR, PoseParameters][]) {
        for (let k = 0; k < randomPoses; k++) {
          cases.push([drr, truth, seedPose(Array.from(truth.rotation, (value) => value + spread(0.15)), Array.from(truth.translation, (value) => value + spread(15)))]);
        }
      }
    } else {
      for (let k = 0; k < 4; k++) {
        cases.push([seed, seedTruth, seedPose([Math.PI + 0.1 * Math.sin(k + 1), 0.05 * Math.cos(2 * k), Math.PI / 2 - 0.08 * Math.sin(3 * k)], seed.center.map((value, axis) => value + 10 * Math.sin(k + axis)))]);
      }
      cases.push([world, seedPose([0, 0, 0], worldStart), seedPose([0.06, -0.08, 0.05], worldStart.map((value, axis) => value + [8, -6, 10][axis]))]);
    }
    const totals = { seed: [] as number[], world: [] as number[] };
    const gpu = { seed: await WebGPUDRR.create(seed, info), world: await WebGPUDRR.create(world, info) };
    for (const [index, [drr, truth, pose]] of cases.entries()) {
      const total = drr.pixelCount;
      const pixels = sparse ? Array.from({ length: Math.floor(total / 3) }, (_, entry) => (entry * 3 + (entry % 3)) % total) : null;
      const call = pixels ? { pixels } : undefined;
      const list = pixels ?? Array.from({ length: total }, (_, pixel) => pixel);
      const fixed = drr.render(truth);
      const fixedSubset = Float32Array.from(list, (pixel) => fixed[pixel]);
      const shape = pixels ? { height: 1, width: list.length } : { height: drr.detector.height, width: drr.detector.width };
      const weightsOf = (image: Float32Array): Float64Array => {
        const gradient = ncc.scoreWithGradient(fixedSubset, Float32Array.from(list, (pixel) => image[pixel]), shape, 1).gradient;
        const weights = new Float64Array(total);
        list.forEach((pixel, entry) => { weights[pixel] += gradient[entry]; });
        return weights;
      };
      const cpu = drr.renderWithRayGradients(pose, call);
      const cpuRays = Float64Array.from(cpu.rayGradients);
      const cpuGradient = flat(drr.parameterGradient(pose, cpuRays, weightsOf(cpu.image), call));
      const camera = drr instanceof WorldDRR ? 'world' : 'seed';
      const device = gpu[camera];
      const weights = weightsOf(await device.renderForGradientAsync(pose, call));
      const gpuGradient = flat(await device.parameterGradientAsync(pose, weights));
      const error = relative(gpuGradient, cpuGradient);
      totals[camera].push(error);
      const line: Record<string, unknown> = { benchmark: 'webgpu-gradient-parts', adapter: info.description, volume: shared ? 'lidc2' : 'example', renderer, sparse, pose: index, camera, total: error };
      if (!totalOnly) {
        const readBack = await device.renderWithRayGradientsAsync(pose, call);
        const reducedInF64 = flat(drr.parameterGradient(pose, readBack.rayGradients, weights, call));
        const weightsOnly = flat(drr.parameterGradient(pose, cpuRays, weights, call));
        Object.assign(line, { rays_reduced_in_f64: relative(reducedInF64, cpuGradient), weights_only: relative(weightsOnly, cpuGradient), reduction_only: relative(gpuGradient, reducedInF64) });
      }
      process.stdout.write(JSON.stringify(line) + '\n');
    }
    await gpu.seed.destroy();
    await gpu.world.destroy();
    for (const camera of ['seed', 'world'] as const) {
      if (totals[camera].length === 0) continue;
      process.stdout.write(JSON.stringify({ benchmark: 'webgpu-gradient-parts', summary: true, renderer, camera, sparse, poses: totals[camera].length, ...medianAndMaximum(totals[camera]) }) + '\n');
    }
  }
  info.device.destroy();
}

await main();
