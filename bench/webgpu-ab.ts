/**
 * Same-process A/B timing of two builds of the WebGPU backend on one device: this build's
 * `WebGPUDRR` against another build's (`--baseline`, the path of its
 * dist/src/render/webgpu/webgpu-drr.js, e.g. a checkout of an earlier commit), alternating
 * A, B, A, B … so machine load hits both alike. One JSON line per renderer and case:
 * - `forward`: a batch of 16 poses at 100² (one submission, images read back);
 * - `gradient`: one pose at 100² rendered with ray gradients kept on the device, then reduced
 *   with NCC weights to 12 numbers (one registration iteration's device work).
 * Reports the median milliseconds per call of each build and their ratio (this / baseline).
 *
 *   EGL_PLATFORM=surfaceless node dist/bench/webgpu-ab.js --baseline ../old/dist/src/render/webgpu/webgpu-drr.js [--renderers siddon,trilinear,joseph] [--rounds 7]
 *
 * Uses the LIDC CT in ../shared when present, else the example CT.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DRR } from '../src/drr.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { readNifti } from '../src/io/nifti.js';
import type { RendererName } from '../src/render/renderer.js';
import { nodeWebGPUDevice } from '../src/render/webgpu/node.js';
import { WebGPUDRR } from '../src/render/webgpu/webgpu-drr.js';
import { loadExampleCT } from '../src/volume/example-ct.js';

const argv = process.argv.slice(2);
/** The value after `--name`, if given. */
function option(name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}
const baselinePath = option('baseline');
const renderers = (option('renderers') ?? 'siddon,trilinear,joseph').split(',') as RendererName[];
const rounds = Number(option('rounds') ?? 7);
const sharedCT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'lidc2-chest-ct.nii.gz');

/** Seed-geometry Euler ZYX pose. */
function seedPose(rotation: ArrayLike<number>, translation: ArrayLike<number>): PoseParameters {
  return { rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' };
}

/** Median of a list. */
function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  if (baselinePath === undefined) throw new Error('give --baseline <path of another build\'s dist/src/render/webgpu/webgpu-drr.js>');
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const info = await nodeWebGPUDevice();
  if (info === null) {
    process.stdout.write(JSON.stringify({ benchmark: 'webgpu-ab', skipped: 'no WebGPU adapter' }) + '\n');
    return;
  }
  const baseline = (await import(pathToFileURL(path.resolve(baselinePath)).href)) as { WebGPUDRR: typeof WebGPUDRR };
  const shared = existsSync(sharedCT);
  const volume = shared ? await readNifti(sharedCT) : loadExampleCT();
  for (const renderer of renderers) {
    const drr = new DRR(volume, { sdr: 300, height: 100, delx: 4, renderer, threads: 1 });
    const poses = Array.from({ length: 16 }, (_, index) => seedPose([Math.PI + 0.2 * Math.sin(index), 0.1 * Math.cos(index), Math.PI / 2 + 0.05 * index], drr.center.map((value, axis) => value + 5 * Math.sin(index + axis))));
    const weights = Float64Array.from({ length: drr.pixelCount }, (_, index) => Math.sin(0.37 * index));
    const builds = { this: await WebGPUDRR.create(drr, info), baseline: await baseline.WebGPUDRR.create(drr, info) };
    const cases = {
      forward: async (gpu: WebGPUDRR) => { await gpu.renderAsync(poses); },
      gradient: async (gpu: WebGPUDRR) => { await gpu.renderForGradientAsync(poses[0]); await gpu.parameterGradientAsync(poses[0], weights); },
    };
    for (const [name, run] of Object.entries(cases)) {
      const times = { this: [] as number[], baseline: [] as number[] };
      for (const build of ['this', 'baseline'] as const) await run(builds[build]); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (const build of ['this', 'baseline'] as const) {
          const start = performance.now();
          await run(builds[build]);
          times[build].push(performance.now() - start);
        }
      }
      const thisMs = median(times.this), baselineMs = median(times.baseline);
      process.stdout.write(JSON.stringify({ benchmark: 'webgpu-ab', adapter: info.description, software: info.software, volume: shared ? 'lidc2' : 'example', renderer, case: name, detector: '100x100', poses: name === 'forward' ? 16 : 1, this_ms: Number(thisMs.toFixed(1)), baseline_ms: Number(baselineMs.toFixed(1)), ratio: Number((thisMs / baselineMs).toFixed(3)) }) + '\n');
    }
    await builds.this.destroy();
    await builds.baseline.destroy();
  }
  info.device.destroy();
}

await main();
