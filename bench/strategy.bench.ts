/**
 * Paired on/off benchmark of the robust strategy's speed settings (docs/speed.md): every
 * configuration registers the same start, one after the other (order alternating between
 * starts), in one process, before the next start — so that a machine shared with other work
 * slows all configurations alike. One JSON line per configuration, on stdout.
 *
 *   npm run bench:strategy                                   # both CTs, 30 starts, seed 7
 *   node dist/bench/strategy.bench.js --volumes lidc2 --runs 100 --seed 7
 *
 * Starts are `drrkit evaluate`'s (the tutorial's ranges, the same NumPy-compatible draws), the
 * true pose and target its defaults; success is mTRE < 2 mm.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRR } from '../src/drr.js';
import { poseFromParameters, type PoseParameters } from '../src/geometry/pose.js';
import { readNifti } from '../src/io/nifti.js';
import { defaultTruePose } from '../src/registration/evaluate.js';
import { poseError } from '../src/registration/pose-error.js';
import { NumpyRandom } from '../src/registration/random.js';
import { pyramidLevels, registerRobust, type RobustOptions } from '../src/registration/strategy.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import type { Volume } from '../src/volume/volume.js';

const argv = process.argv.slice(2);
/** The value after `--name`, if given. */
function option(name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}
const runs = Number(option('runs') ?? 30), seed = Number(option('seed') ?? 7);
const volumeFilter = option('volumes')?.split(',');
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedCT = path.resolve(repositoryRoot, '..', 'shared', 'data', 'lidc2-chest-ct.nii.gz');

/** The final defaults, each ingredient back at its previous value, and all of them back. */
const CONFIGURATIONS: Array<{ name: string; options: RobustOptions }> = [
  { name: 'defaults', options: {} },
  { name: 'search on the coarsest level', options: { searchCoarsening: 1 } },
  { name: 'coarse levels with the DRR renderer', options: { coarseRenderer: 'same' } },
  { name: '20 candidate iterations', options: { candidateIterations: 20 } },
  { name: '2500-pixel subsets', options: { refinePixels: 2500 } },
  { name: 'previous defaults', options: { searchCoarsening: 1, coarseRenderer: 'same', candidateIterations: 20, refinePixels: 2500 } },
];

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

function benchmark(name: string, volume: Volume): void {
  const drr = new DRR(volume, { sdr: 300, height: 100, delx: 8 });
  const truth = defaultTruePose(drr), trueTransform = poseFromParameters(truth), target = drr.render(truth), points = drr.targetPoints();
  const cases = CONFIGURATIONS.map((configuration) => ({
    ...configuration,
    pyramid: pyramidLevels(drr, target, 3, { coarseRenderer: configuration.options.coarseRenderer }),
    seconds: [] as number[], renders: [] as number[], successes: 0, converged: 0,
  }));
  const random = new NumpyRandom(seed);
  const range = [45, 60, 60].map((value) => (value * Math.PI) / 180);
  for (let index = 0; index < runs; index++) {
    const rotation = Float64Array.from(truth.rotation, (value, axis) => value + random.uniform(-range[axis], range[axis]));
    const translation = Float64Array.from(truth.translation, (value) => value + random.uniform(-30, 31));
    const start: PoseParameters = { rotation, translation, parameterization: 'euler_angles', convention: 'ZYX' };
    for (const item of index % 2 === 0 ? cases : [...cases].reverse()) {
      const started = performance.now();
      const result = registerRobust(item.pyramid, start, item.options);
      item.seconds.push((performance.now() - started) / 1000);
      item.renders.push(result.iterations.candidates + result.iterations.refine);
      if (poseError(trueTransform, poseFromParameters(result.pose), drr.camera, points).mTRE < 2) item.successes++;
      if (result.converged) item.converged++;
    }
  }
  for (const item of cases) {
    process.stdout.write(JSON.stringify({
      benchmark: 'strategy', volume: name, configuration: item.name, options: item.options, runs, seed,
      success_below_2mm: item.successes / runs, reported_converged: item.converged / runs,
      median_seconds: Number(quantile(item.seconds, 0.5).toFixed(3)), p95_seconds: Number(quantile(item.seconds, 0.95).toFixed(3)),
      median_renders: quantile(item.renders, 0.5), load: Number(os.loadavg()[0].toFixed(2)), cpus: os.cpus().length,
    }) + '\n');
  }
  for (const item of cases) for (const level of item.pyramid) level.drr.dispose();
}

const volumes: Array<{ name: string; load: () => Promise<Volume> }> = [{ name: 'example', load: async () => loadExampleCT() }];
if (existsSync(sharedCT)) volumes.push({ name: 'lidc2', load: () => readNifti(sharedCT) });
else process.stderr.write(`bench: ${sharedCT} absent; the example CT only\n`);
for (const { name, load } of volumes) {
  if (volumeFilter && !volumeFilter.includes(name)) continue;
  benchmark(name, await load());
}
closeRenderPool();
