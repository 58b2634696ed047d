/**
 * Rendering benchmark: one JSON line per case, on stdout.
 *
 *   npm run bench                                  # everything below
 *   node dist/bench/render.bench.js --quick        # 100×100 only, shorter timings
 *   node dist/bench/render.bench.js --sizes 100,256 --volumes lidc2 --renderers siddon --threads all
 *
 * Cases (seed geometry: sdr 300 mm, a detector of 800 mm, so delx = 800/size mm; world geometry:
 * the same detector as a pinhole camera, sdd 600 mm, in the CT's patient frame, placed so that
 * its rays cross the density grid exactly where the seed camera's do — the same work, through the
 * camera and the world → grid map of the world geometry; `--geometries seed,world` picks):
 * - `render`: forward and forward + ray gradients, Siddon and trilinear, at 100², 200², 256² and
 *   512², for the built-in example CT and ../shared/data/lidc2-chest-ct.nii.gz (when present), on
 *   1 thread and on all (os.availableParallelism()).
 * - `registration`: iterations per second of the registration loop body — render with ray
 *   gradients, NCC and its gradient, chain rule to the pose, one Adam step (`Registration.evaluate`
 *   and the optimizer of `register`) — at 100², from a pose 10°/20 mm off.
 * - `plastimatch`: where `plastimatch` is on the PATH, its `drr` (exact Siddon) on the same
 *   density volume and geometry, on one thread (OMP_NUM_THREADS=1) and on all, timed by its own
 *   "Total time" report (rendering only, not reading the volume), with the NCC of its image
 *   against ours and the ratio of times. Skipped with a message when absent.
 * - `memory`: peak resident set size (VmHWM, else maxRSS) of a fresh process that loads the
 *   volume and renders on all threads (bench/memory-probe.ts), with the sizes of the big arrays.
 *
 * Every line carries the 1-minute load average at its end and the machine: the machine may be
 * shared, so compare lines from one run, and prefer the medians.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRR, poseToTransform, type Pose } from '../src/drr.js';
import { applyMatrix3, multiplyMatrix3, transposeMatrix3 } from '../src/geometry/matrix3.js';
import type { RigidTransform } from '../src/geometry/rigid-transform.js';
import { poseFromParameters, type PoseParameters } from '../src/geometry/pose.js';
import { convertRotation } from '../src/geometry/rotation.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { registrationOptimizer } from '../src/registration/register.js';
import { Registration } from '../src/registration/registration.js';
import type { RendererName } from '../src/render/renderer.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { createVolume, type Volume } from '../src/volume/volume.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
/** The value after `--name`, if given. */
function option(name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index >= 0 ? argv[index + 1] : undefined;
}
const sizes = (option('sizes') ?? (quick ? '100' : '100,200,256,512')).split(',').map(Number);
const renderers = (option('renderers') ?? 'siddon,trilinear').split(',') as RendererName[];
const allThreads = os.availableParallelism();
const threadCounts = (option('threads') ?? '1,all').split(',').map((value) => (value === 'all' ? allThreads : Number(value)));
const volumeFilter = option('volumes')?.split(',');
const geometries = (option('geometries') ?? 'seed,world').split(',') as Array<'seed' | 'world'>;
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharedCT = path.resolve(repositoryRoot, '..', 'shared', 'data', 'lidc2-chest-ct.nii.gz');
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version };

/** Prints one JSON line, with the load average and the machine. */
function report(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ ...fields, load: Number(os.loadavg()[0].toFixed(2)), ...machine }) + '\n');
}

/** Runs `work` for about `seconds` after a warm-up; returns the median and minimum ms per call. */
function time(work: () => void, seconds: number, warmup = 3): { median: number; minimum: number; repetitions: number } {
  for (let i = 0; i < warmup; i++) work();
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline || samples.length < 5) {
    const start = performance.now();
    work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], minimum: samples[0], repetitions: samples.length };
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** The seed-geometry pose with `rotation` (ZYX, radians) about the volume centre. */
function seedPose(drr: DRR, rotation: readonly number[]): PoseParameters {
  return { rotation: Float64Array.from(rotation), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' };
}

/** Normalised cross-correlation of two images (the library's NCC without its epsilon). */
function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return new NormalizedCrossCorrelation({ eps: 0 }).score(a, b, { height: 1, width: a.length })[0];
}

/**
 * A DRR of `geometry` for the benchmark detector, and the pose at which its grid-frame rays are
 * the seed camera's at the seed pose with `rotation` (for the world geometry: a pinhole camera with
 * orientation 'none', whose camera axes map to the seed camera's by x → z, y → y, z → −x).
 */
function benchmarkDrr(geometry: 'seed' | 'world', volume: Volume, size: number, options: { renderer: RendererName; threads: number }, rotation: readonly number[]): { drr: DRR; pose: Pose } {
  const seed = new DRR(volume, { sdr: 300, height: size, delx: 800 / size, ...options });
  const pose = seedPose(seed, rotation);
  if (geometry === 'seed') return { drr: seed, pose };
  seed.dispose();
  const drr = new DRR(volume, { sdd: 600, height: size, delx: 800 / size, orientation: 'none', ...options });
  const seedTransform = poseToTransform(pose);
  const cameraAxes = Float64Array.of(0, 0, -1, 0, 1, 0, 1, 0, 0);
  const gridRotation = multiplyMatrix3(seedTransform.rotation, cameraAxes);
  const source = applyMatrix3(seedTransform.rotation, [300, 0, 0]);
  const gridSource = [0, 1, 2].map((axis) => source[axis] + seedTransform.translation[axis]);
  // World = Mᵀ·(grid − m) for the world → grid map g = M·w + m of the volume's frame.
  const frame = drr.frame!;
  const toWorld = transposeMatrix3(frame.worldToGridRotation);
  const rotationWorld = multiplyMatrix3(toWorld, gridRotation);
  const sourceWorld = applyMatrix3(toWorld, gridSource.map((value, axis) => value - frame.worldToGridTranslation[axis]));
  const worldPose: RigidTransform = { rotation: rotationWorld, translation: applyMatrix3(transposeMatrix3(rotationWorld), sourceWorld) };
  return { drr, pose: worldPose };
}

function benchmarkRenders(name: string, volume: Volume, rotation: readonly number[]): void {
  for (const renderer of renderers) {
    for (const size of sizes) {
      for (const threads of threadCounts) for (const geometry of geometries) {
        const { drr, pose } = benchmarkDrr(geometry, volume, size, { renderer, threads }, rotation);
        const seconds = quick ? 0.5 : size >= 512 ? 3 : 1.5;
        for (const mode of ['forward', 'forward+gradient'] as const) {
          const result = time(() => (mode === 'forward' ? drr.render(pose) : drr.renderWithRayGradients(pose)), seconds);
          report({
            benchmark: 'render', volume: name, shape: volume.shape, geometry, renderer, detector: `${size}x${size}`, mode, threads,
            ms_per_drr: round(result.median), min_ms: round(result.minimum), drrs_per_second: round(1000 / result.median, 1), repetitions: result.repetitions,
          });
        }
        drr.dispose();
      }
    }
  }
}

function benchmarkRegistration(name: string, volume: Volume, rotation: readonly number[]): void {
  for (const renderer of renderers) {
    for (const threads of threadCounts) for (const geometry of geometries) {
      const { drr, pose } = benchmarkDrr(geometry, volume, 100, { renderer, threads }, rotation);
      const truth = poseToTransform(pose);
      const fixed = drr.render(truth);
      const truthEuler = convertRotation(truth.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX');
      const offset = (10 * Math.PI) / 180;
      const registration = new Registration(drr, [truthEuler[0] + offset, truthEuler[1] - offset, truthEuler[2] + offset], [truth.translation[0] + 20, truth.translation[1] - 20, truth.translation[2] + 20]);
      const optimizer = registrationOptimizer(registration, { optimizer: 'adam', learningRateRotation: 1e-2, learningRateTranslation: 1 });
      const similarity = new NormalizedCrossCorrelation();
      let score = 0;
      const iteration = () => {
        const evaluation = registration.evaluate(fixed, similarity);
        score = evaluation.score;
        optimizer.step([[evaluation.rotationGradient], [evaluation.translationGradient]]);
      };
      const result = time(iteration, quick ? 1 : 3);
      report({
        benchmark: 'registration', volume: name, geometry, renderer, detector: '100x100', threads, step: 'evaluate (render + ray gradients + NCC + chain rule) + Adam',
        ms_per_iteration: round(result.median), iterations_per_second: round(1000 / result.median, 1), repetitions: result.repetitions, final_ncc: round(score, 4),
      });
      drr.dispose();
    }
  }
}

/** `plastimatch drr` on the same densities and geometry: its render time and its image's NCC against ours. */
async function benchmarkPlastimatch(name: string, volume: Volume, rotation: readonly number[]): Promise<void> {
  if (spawnSync('plastimatch', ['--version'], { encoding: 'utf8' }).error) {
    process.stderr.write('bench: plastimatch is not installed; skipping the comparison (apt-get install plastimatch)\n');
    return;
  }
  const directory = mkdtempSync(path.join(os.tmpdir(), 'drrkit-plastimatch-'));
  try {
    for (const size of sizes.filter((value) => value <= 256)) {
      const drr = new DRR(volume, { sdr: 300, height: size, delx: 800 / size, renderer: 'siddon', threads: allThreads });
      const single = new DRR(volume, { sdr: 300, height: size, delx: 800 / size, renderer: 'siddon', threads: 1 });
      // The densities in the renderers' world frame. plastimatch reads NIfTI through ITK, which
      // turns RAS into LPS (x, y negated): negative x, y columns make its world our world.
      const [nx, ny, nz] = drr.grid.shape, [dx, dy, dz] = drr.grid.spacing;
      const px = nx + 2, pxy = px * (ny + 2);
      const densities = new Float32Array(nx * ny * nz);
      for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) densities[i + nx * (j + ny * k)] = drr.grid.data[i + 1 + px * (j + 1) + pxy * (k + 1)];
      const affine = Float64Array.of(-dx, 0, 0, -dx / 2, 0, -dy, 0, -dy / 2, 0, 0, dz, dz / 2, 0, 0, 0, 1);
      const input = path.join(directory, `${name}.nii`);
      await writeNifti(input, createVolume({ data: densities, shape: [nx, ny, nz], spacing: [dx, dy, dz], affine }));
      const pose = seedPose(drr, rotation);
      const ours = drr.render(pose);
      const { rotation: matrix, translation } = poseFromParameters(pose);
      // Source at isocentre + sad·nrm (camera +x); rows run down from the top row (camera −y).
      const normal = [matrix[0], matrix[3], matrix[6]], up = [-matrix[1], -matrix[4], -matrix[7]];
      const args = ['drr', '-t', 'raw', '-P', 'none', '-i', 'exact', '-r', `${size} ${size}`, '-z', '800 800', '--sad', '300', '--sid', '600',
        '-n', normal.join(' '), '--vup', up.join(' '), '-o', Array.from(translation).join(' '), '-O', path.join(directory, 'out'), '-I', input];
      for (const threads of [1, allThreads]) {
        const times: number[] = [];
        let image: Float32Array | null = null;
        for (let run = 0; run < (quick ? 3 : 7); run++) {
          const result = spawnSync('plastimatch', args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
          const match = /Total time:\s*([0-9.eE+-]+)/.exec(result.stdout + result.stderr);
          if (result.status !== 0 || !match) throw new Error(`plastimatch drr failed: ${result.stderr || result.stdout}`);
          times.push(Number(match[1]) * 1000);
          const file = readdirSync(directory).find((entry) => entry.startsWith('out') && entry.endsWith('.raw'));
          const bytes = readFileSync(path.join(directory, file!));
          image = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        }
        times.sort((a, b) => a - b);
        const theirs = times[Math.floor(times.length / 2)];
        const mine = time(() => drr.render(pose), quick ? 0.5 : 1.5).median;
        const mineSingle = time(() => single.render(pose), quick ? 0.5 : 1.5).median;
        report({
          benchmark: 'plastimatch', volume: name, detector: `${size}x${size}`, plastimatch_threads: threads, plastimatch_ms: round(theirs),
          drrkit_ms: round(mine), drrkit_threads: allThreads, ratio: round(theirs / mine, 2),
          drrkit_single_thread_ms: round(mineSingle), ratio_single_thread: round(theirs / mineSingle, 2),
          ncc: round(correlation(image!, ours), 6), timing: "plastimatch's own 'Total time' (rendering; the volume is read before), median of runs",
        });
      }
      drr.dispose();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Peak memory of loading `source` and rendering with a DRR on all threads, measured in a fresh process. */
function reportMemory(name: string, source: string): void {
  const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-probe.js');
  const result = spawnSync(process.execPath, [probe, source], { encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`bench: the memory probe failed: ${result.stderr}\n`);
    return;
  }
  report({ benchmark: 'memory', volume: name, detector: '100x100', ...JSON.parse(result.stdout), measured: 'peak resident set (VmHWM) of a fresh process: load, build, render forward and with gradients' });
}

async function main(): Promise<void> {
  const volumes: Array<{ name: string; source: string; load: () => Promise<Volume>; rotation: number[] }> = [
    { name: 'example', source: 'example', load: async () => loadExampleCT(), rotation: [Math.PI, 0, Math.PI / 2] },
  ];
  if (existsSync(sharedCT)) volumes.push({ name: 'lidc2', source: sharedCT, load: () => readNifti(sharedCT), rotation: [Math.PI / 2, 0, Math.PI / 2] });
  else process.stderr.write(`bench: ${sharedCT} absent; benchmarking the example CT only\n`);
  for (const { name, source, load, rotation } of volumes) {
    if (volumeFilter && !volumeFilter.includes(name)) continue;
    const volume = await load();
    benchmarkRenders(name, volume, rotation);
    benchmarkRegistration(name, volume, rotation);
    await benchmarkPlastimatch(name, volume, rotation);
    reportMemory(name, source);
  }
  closeRenderPool();
}

await main();
