/**
 * WebGPU benchmark: one JSON line per case, on stdout (the same shape as render.bench.ts's).
 *
 *   npm run bench                                           # after the CPU benchmark
 *   node dist/bench/webgpu.bench.js --quick                 # 100² only, short timings
 *   node dist/bench/webgpu.bench.js --sizes 100,200 --batches 1,16,256,1024 --adapter native --require-hardware
 *
 * Cases, for each renderer:
 * - `webgpu-render`: images per second for a batch of poses rendered in one submission (rays up,
 *   images read back), per detector size and batch size; with the CPU (all threads) time of one
 *   image measured in the same process, and the ratio.
 * - `webgpu-sparse-gradient`: one evaluation of the robust strategy's refinement at 100²: a
 *   2500-pixel sparse render with ray gradients, NCC over those pixels, the reduction to 12
 *   numbers and the chain rule; with the CPU's time for the same in the same process.
 * - `webgpu-registration`: iterations per second of `registerAsync`'s loop at 100² from a pose
 *   10°/20 mm off, `device_ncc` true (one submission: render with ray gradients, NCC, its pixel
 *   weights and the reduction to 12 numbers on the device) and false (two: the image read back
 *   and scored on the CPU, the weights sent up for the reduction); chain rule and Adam on the CPU.
 * - `webgpu-robust-registration`: the robust strategy (`registerRobustAsync` with a
 *   `WebGPUPoseAnswerer`: batched search, candidates, sparse L-BFGS refinement) at 100² from the
 *   tutorial's random starts, seconds per registration and successes, next to `registerRobust` on
 *   the CPU from the same starts in the same process.
 * Each line names the adapter (`adapter`), whether it is a software one, and Dawn's backend.
 * Without an adapter it prints one line saying so (`"skipped"`) and exits 0 — or 1 with
 * `--require-hardware`, which also refuses software adapters (for bench/gpu/run.sh).
 */
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DRR } from '../src/drr.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { readNifti } from '../src/io/nifti.js';
import { NumpyRandom, tutorialInitialPose } from '../src/registration/random.js';
import { registerAsync } from '../src/registration/register.js';
import { pyramidLevels, registerRobust, registerRobustAsync } from '../src/registration/strategy.js';
import { WebGPUPoseAnswerer } from '../src/render/webgpu/webgpu-answerer.js';
import { Registration } from '../src/registration/registration.js';
import type { RendererName } from '../src/render/renderer.js';
import { nodeWebGPUDevice, type NodeWebGPUBackend } from '../src/render/webgpu/node.js';
import { WebGPUDRR } from '../src/render/webgpu/webgpu-drr.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import type { Volume } from '../src/volume/volume.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const requireHardware = argv.includes('--require-hardware');
/** The value after `--name`, if given. */
function option(name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}
const sizes = (option('sizes') ?? (quick ? '100' : '100,200')).split(',').map(Number);
const batches = (option('batches') ?? (quick ? '1,16' : '1,16,64')).split(',').map(Number);
const renderers = (option('renderers') ?? 'siddon,trilinear,joseph').split(',') as RendererName[];
const adapterChoice = (option('adapter') ?? 'any') as NodeWebGPUBackend;
const seconds = Number(option('seconds') ?? (quick ? 1 : 2));
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedCT = path.resolve(repositoryRoot, '..', 'shared', 'data', 'lidc2-chest-ct.nii.gz');
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version };

/** Prints one JSON line, with the load average and the machine. */
function report(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ...fields, load: Number(os.loadavg()[0].toFixed(2)), ...machine }) + '\n');
}

/** Runs async `work` for about `budget` seconds after a warm-up; the median and minimum ms per call. */
async function time(work: () => Promise<unknown>, budget: number, warmup = 2): Promise<{ median: number; minimum: number; repetitions: number }> {
  for (let i = 0; i < warmup; i++) await work();
  const samples: number[] = [];
  const deadline = performance.now() + budget * 1000;
  while (performance.now() < deadline || samples.length < 3) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], minimum: samples[0], repetitions: samples.length };
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** Seed pose with ZYX `rotation` about the volume centre, moved by `offset` (degrees, mm). */
function seedPose(drr: DRR, rotation: readonly number[], offsetDegrees = 0, offsetMm = 0): PoseParameters {
  const offset = (offsetDegrees * Math.PI) / 180;
  return {
    rotation: Float64Array.of(rotation[0] + offset, rotation[1] - offset, rotation[2] + offset),
    translation: Float64Array.from(drr.center, (value) => value + offsetMm),
    parameterization: 'euler_angles',
    convention: 'ZYX',
  };
}

async function main(): Promise<void> {
  const device = await nodeWebGPUDevice({ backend: adapterChoice, allowSoftware: !requireHardware });
  if (device === null) {
    report({ benchmark: 'webgpu', skipped: requireHardware ? 'no hardware WebGPU adapter' : 'no WebGPU adapter' });
    process.exitCode = requireHardware ? 1 : 0;
    return;
  }
  const adapter = { backend: 'webgpu', adapter: device.description, software: device.software, dawn: device.backend };
  const useShared = existsSync(sharedCT);
  const volume: Volume = useShared ? await readNifti(sharedCT) : loadExampleCT();
  const name = useShared ? 'lidc2' : 'example';
  const rotation = useShared ? [Math.PI / 2, 0, Math.PI / 2] : [Math.PI, 0, Math.PI / 2];

  for (const renderer of renderers) {
    for (const size of sizes) {
      const drr = new DRR(volume, { sdr: 300, height: size, delx: 800 / size, renderer });
      const gpu = await WebGPUDRR.create(drr, device);
      const cpu = await time(async () => drr.render(seedPose(drr, rotation)), quick ? 0.5 : 1, 1);
      for (const batch of batches) {
        const poses = Array.from({ length: batch }, (_, index) => seedPose(drr, rotation, (index % 7) - 3, (index % 5) - 2));
        const result = await time(() => gpu.renderAsync(poses), seconds, 1);
        const perImage = result.median / batch;
        report({
          benchmark: 'webgpu-render', ...adapter, volume: name, shape: volume.shape, renderer, detector: `${size}x${size}`, batch,
          ms_per_batch: round(result.median), ms_per_drr: round(perImage, 4), drrs_per_second: round(1000 / perImage, 1), repetitions: result.repetitions,
          cpu_threads: drr.threads, cpu_ms_per_drr: round(cpu.median), speedup_vs_cpu: round(cpu.median / perImage, 2),
        });
      }
      await gpu.destroy();
      drr.dispose();
    }

    // The registration loop at 100², as render.bench.ts's `registration` case.
    const drr = new DRR(volume, { sdr: 300, height: 100, delx: 8, renderer });
    const gpu = await WebGPUDRR.create(drr, device);
    const fixed = drr.render(seedPose(drr, rotation));

    // A sparse evaluation (2500 of 10 000 pixels, every fourth), as the strategy's L-BFGS refinement does.
    const pixels = Array.from({ length: 2500 }, (_, index) => 4 * index + (index % 4));
    const call = { pixels };
    const ncc = new NormalizedCrossCorrelation();
    const fixedSubset = Float32Array.from(pixels, (pixel) => fixed[pixel]);
    const near = seedPose(drr, rotation, 2, 4);
    const weightsOf = (image: Float32Array): Float64Array => {
      const gradient = ncc.scoreWithGradient(fixedSubset, Float32Array.from(pixels, (pixel) => image[pixel]), { height: 1, width: pixels.length }, 1).gradient;
      const weights = new Float64Array(drr.pixelCount);
      pixels.forEach((pixel, index) => { weights[pixel] = gradient[index]; });
      return weights;
    };
    const sparseCpu = await time(async () => {
      const { image, rayGradients } = drr.renderWithRayGradients(near, call);
      return drr.parameterGradient(near, rayGradients, weightsOf(image), call);
    }, quick ? 0.5 : 1, 1);
    const sparseGpu = await time(async () => gpu.parameterGradientAsync(near, weightsOf(await gpu.renderForGradientAsync(near, call))), seconds, 1);
    report({
      benchmark: 'webgpu-sparse-gradient', ...adapter, volume: name, renderer, detector: '100x100', pixels: pixels.length,
      ms_per_evaluation: round(sparseGpu.median), cpu_threads: drr.threads, cpu_ms_per_evaluation: round(sparseCpu.median), speedup_vs_cpu: round(sparseCpu.median / sparseGpu.median, 2),
    });
    const start = seedPose(drr, rotation, 10, 20);
    const iterations = quick ? 10 : 30;
    for (const deviceNcc of [true, false]) {
      gpu.deviceNcc = deviceNcc;
      // Warm-up (the device NCC kernels compile on first use).
      await new Registration(gpu, start.rotation, start.translation).evaluateAsync(fixed, new NormalizedCrossCorrelation());
      const result = await registerAsync(new Registration(gpu, start.rotation, start.translation), fixed, {
        optimizer: 'adam', learningRateRotation: 1e-2, learningRateTranslation: 1, maxIterations: iterations, stopScore: 2,
      });
      report({
        benchmark: 'webgpu-registration', ...adapter, volume: name, renderer, detector: '100x100', device_ncc: deviceNcc,
        step: deviceNcc
          ? 'one submission: render + ray gradients, NCC, its pixel weights and the reduction to 12 numbers on the device; chain rule and Adam on the CPU'
          : 'two submissions: render + ray gradients on the device, NCC on the CPU, reduction to 12 numbers on the device, chain rule, Adam',
        iterations: result.iterations, iterations_per_second: round(result.iterationsPerSecond, 1), final_ncc: round(result.finalLoss, 4),
      });
    }
    await gpu.destroy();

    // The robust strategy from the tutorial's random starts, on the device and on the CPU.
    const runs = Number(option('robust-runs') ?? (quick ? 3 : 10));
    const truth = seedPose(drr, rotation);
    const levels = pyramidLevels(drr, fixed, 3);
    const random = new NumpyRandom(7);
    const outcomes = { gpu: [] as number[], cpu: [] as number[], gpuSuccesses: 0, cpuSuccesses: 0 };
    const close = (pose: PoseParameters) => Math.max(...Array.from(pose.rotation, (value, axis) => Math.abs(value - truth.rotation[axis]))) < 0.01
      && Math.hypot(...Array.from(pose.translation, (value, axis) => value - truth.translation[axis])) < 1;
    for (let run = 0; run < runs; run++) {
      const drawn = tutorialInitialPose(truth.rotation, truth.translation, random);
      const startPose: PoseParameters = { ...truth, ...drawn };
      const answerer = new WebGPUPoseAnswerer(device);
      let began = performance.now();
      const onGpu = await registerRobustAsync(levels, startPose, answerer);
      outcomes.gpu.push((performance.now() - began) / 1000);
      await answerer.destroy();
      began = performance.now();
      const onCpu = registerRobust(levels, startPose);
      outcomes.cpu.push((performance.now() - began) / 1000);
      if (onGpu.converged && close(onGpu.pose)) outcomes.gpuSuccesses++;
      if (onCpu.converged && close(onCpu.pose)) outcomes.cpuSuccesses++;
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    report({
      benchmark: 'webgpu-robust-registration', ...adapter, volume: name, renderer, detector: '100x100', runs,
      seconds_median: round(median(outcomes.gpu), 3), successes: outcomes.gpuSuccesses,
      cpu_threads: drr.threads, cpu_seconds_median: round(median(outcomes.cpu), 3), cpu_successes: outcomes.cpuSuccesses,
      speedup_vs_cpu: round(median(outcomes.cpu) / median(outcomes.gpu), 2),
    });
    for (const level of levels) if (level.drr !== drr) level.drr.dispose();
    drr.dispose();
  }
  device.device.destroy();
  closeRenderPool();
}

await main();
