/**
 * Honest accuracy figures: many registrations from random starts around a known true pose, each
 * scored by rotation and translation error, mTRE and mean projection distance, summarised as
 * success rates, percentiles and a capture range.
 */
import { DRR, type AnyDRROptions } from '../drr.js';
import { DrrkitError } from '../errors.js';
import { parametersFromPose, poseFromParameters, type PoseParameters } from '../geometry/pose.js';
import { createSimilarity } from '../metrics/index.js';
import type { Volume } from '../volume/volume.js';
import { poseError, type PoseError } from './pose-error.js';
import { NumpyRandom } from './random.js';
import { runAsynchronously, runSynchronously, type AsyncPoseAnswerer, type PoseAnswerer, type PoseSteps } from './pose-requests.js';
import { registerSteps } from './register.js';
import { Registration } from './registration.js';
import { pyramidLevels, robustSteps, type RobustOptions } from './strategy.js';
import { renderTargetWithModel, type TargetModel } from './target-model.js';

/** Which registration method `evaluate` measures. */
export type StrategyName = 'robust' | 'tutorial';

/** Settings of an evaluation. */
export interface EvaluationOptions {
  /** The CT. */
  volume: Volume;
  /**
   * Camera and rendering (default: the tutorial's seed C-arm, sdr 300, 100×100, delx 8); any
   * camera works, e.g. a pinhole camera (`sdd`, `orientation`) in the CT's patient frame.
   */
  detector?: AnyDRROptions;
  /**
   * The true pose (default: the tutorial's ZYX π, 0, π/2 at the volume centre for the seed C-arm;
   * the camera's default view through the CT centre — R = I — for a pinhole camera).
   */
  truth?: PoseParameters;
  /** The target image (default: a DRR at the true pose with the same renderer, or `targetModel`'s). */
  target?: Float32Array;
  /** Make the target with another model (renderer, finer detector, Beer–Lambert with noise). */
  targetModel?: TargetModel;
  /** Number of registrations (default 20). */
  runs?: number;
  /** Seed of the NumPy-compatible generator that draws the starts (default 0). */
  seed?: number;
  /** Half-widths of the uniform rotation perturbation, degrees (default the tutorial's 45, 60, 60). */
  rotationRangeDegrees?: [number, number, number];
  /** Translation perturbation range, mm (default the tutorial's −30…+31). */
  translationRangeMm?: [number, number];
  /** 'robust' (default) or 'tutorial' (the tutorial's Adam loop: lr 1e-1/1e1, NCC > 0.999, 250 iterations). */
  strategy?: StrategyName;
  /** Settings of the robust strategy. */
  robust?: RobustOptions;
  /** Target points for mTRE, world mm, flat xyz (default: a 3×3×3 grid over the middle half of the CT). */
  targetPoints?: Float64Array;
  /**
   * Do only runs first … first + count − 1 of the `runs` (every start is still drawn, so these
   * runs are exactly those of the whole evaluation): a block of a distributed evaluation.
   */
  only?: { first: number; count: number };
  /** Called after each run (e.g. a progress bar). */
  onRun?: (run: EvaluationRun, index: number, total: number) => void;
}

/** One registration of an evaluation. */
export interface EvaluationRun {
  /** Run number. */
  index: number;
  /** Start pose (ZYX Euler radians, mm). */
  initialRotation: number[];
  initialTranslation: number[];
  /** Errors of the start. */
  initialError: PoseError;
  /** Final pose. */
  finalRotation: number[];
  finalTranslation: number[];
  /** Errors of the result. */
  error: PoseError;
  /** The method's own verdict (tutorial: NCC > 0.999; robust: the acceptance test). */
  converged: boolean;
  /** Why the method reports no convergence (empty when it converged). */
  reason: string;
  /** Similarity at the final pose. */
  finalScore: number;
  /** Iterations (renders with gradient; the robust search's plain renders not included). */
  iterations: number;
  /** Wall time, seconds. */
  seconds: number;
}

/** Summary statistics of an evaluation. */
export interface EvaluationSummary {
  strategy: StrategyName;
  runs: number;
  /** Fraction of runs with mTRE below 1, 2 and 10 mm. */
  successRate: { below1mm: number; below2mm: number; below10mm: number };
  /** Medians and 95th percentiles. */
  median: { rotationDegrees: number; translationMm: number; mTRE: number; mPD: number; seconds: number; iterations: number };
  percentile95: { rotationDegrees: number; translationMm: number; mTRE: number; mPD: number; seconds: number };
  /** Success (mTRE < 2 mm) per 1 mm bin of initial mTRE. */
  captureRange: Array<{ initialMTREmm: number; runs: number; successes: number }>;
  /**
   * How honest the method's own verdicts were: runs it reported converged, and of those the ones
   * that were wrong (mTRE ≥ 2 mm); runs it reported failed that were in fact right.
   */
  verdicts: { reportedConverged: number; convergedButWrong: number; failedButRight: number };
}

/** The q-quantile (0…1) by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q, lower = Math.floor(position), upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** Summarises evaluation runs. */
export function summarizeEvaluation(strategy: StrategyName, runs: readonly EvaluationRun[]): EvaluationSummary {
  const column = (pick: (run: EvaluationRun) => number) => runs.map(pick);
  const errorQuantiles = (q: number) => ({
    rotationDegrees: quantile(column((run) => run.error.rotationDegrees), q),
    translationMm: quantile(column((run) => run.error.translationMm), q),
    mTRE: quantile(column((run) => run.error.mTRE), q),
    mPD: quantile(column((run) => run.error.mPD), q),
    seconds: quantile(column((run) => run.seconds), q),
  });
  const rate = (threshold: number) => runs.filter((run) => run.error.mTRE < threshold).length / runs.length;
  const bins = new Map<number, { runs: number; successes: number }>();
  for (const run of runs) {
    const bin = Math.floor(run.initialError.mTRE);
    const entry = bins.get(bin) ?? { runs: 0, successes: 0 };
    entry.runs++;
    if (run.error.mTRE < 2) entry.successes++;
    bins.set(bin, entry);
  }
  return {
    strategy,
    runs: runs.length,
    successRate: { below1mm: rate(1), below2mm: rate(2), below10mm: rate(10) },
    median: { ...errorQuantiles(0.5), iterations: quantile(column((run) => run.iterations), 0.5) },
    percentile95: errorQuantiles(0.95),
    captureRange: [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([bin, entry]) => ({ initialMTREmm: bin, ...entry })),
    verdicts: {
      reportedConverged: runs.filter((run) => run.converged).length,
      convergedButWrong: runs.filter((run) => run.converged && !(run.error.mTRE < 2)).length,
      failedButRight: runs.filter((run) => !run.converged && run.error.mTRE < 2).length,
    },
  };
}

/** The default true pose of an evaluation: the tutorial's for the seed C-arm, the default view for other cameras (ZYX Euler). */
export function defaultTruePose(drr: DRR): PoseParameters {
  if (drr.camera.kind === 'seed') {
    return { rotation: Float64Array.of(Math.PI, 0, Math.PI / 2), translation: Float64Array.from(drr.center), parameterization: 'euler_angles', convention: 'ZYX' };
  }
  const pose = drr.defaultPose();
  return parametersFromPose(pose, 'euler_angles', 'ZYX');
}

/** Runs an evaluation: `runs` registrations from random starts around the true pose, rendering on the CPU. */
export function evaluateRegistration(options: EvaluationOptions): { runs: EvaluationRun[]; summary: EvaluationSummary } {
  return runSynchronously(evaluationSteps(options));
}

/**
 * {@link evaluateRegistration} with every render made by `answerer` (e.g. a
 * `WebGPUPoseAnswerer`): the same starts, registrations and summary.
 */
export function evaluateRegistrationAsync(options: EvaluationOptions, answerer: AsyncPoseAnswerer | PoseAnswerer): Promise<{ runs: EvaluationRun[]; summary: EvaluationSummary }> {
  return runAsynchronously(evaluationSteps(options), answerer);
}

/** An evaluation as a coroutine of pose requests (src/registration/pose-requests.ts). */
export function* evaluationSteps(options: EvaluationOptions): PoseSteps<{ runs: EvaluationRun[]; summary: EvaluationSummary }> {
  const detector = options.detector ?? { sdr: 300, height: 100, delx: 8 };
  const drr = new DRR(options.volume, detector);
  const truth: PoseParameters = options.truth ?? defaultTruePose(drr);
  if (truth.parameterization !== 'euler_angles' || (truth.convention ?? 'ZYX') !== 'ZYX') {
    throw new DrrkitError('evaluate draws starts in ZYX Euler angles: give the true pose as euler_angles ZYX', 'truth');
  }
  const trueTransform = poseFromParameters(truth);
  const target = options.target ?? (options.targetModel ? renderTargetWithModel(options.volume, detector, truth, options.targetModel) : drr.render(truth));
  if (target.length !== drr.pixelCount) throw new DrrkitError(`the target has ${target.length} pixels, the detector ${drr.pixelCount}`, 'target');
  const count = options.runs ?? 20;
  if (!Number.isInteger(count) || count < 1) throw new DrrkitError(`runs must be a whole number ≥ 1, got ${count}`, 'runs');
  const random = new NumpyRandom(options.seed ?? 0);
  const rotationRange = (options.rotationRangeDegrees ?? [45, 60, 60]).map((value) => (value * Math.PI) / 180);
  const [translationLow, translationHigh] = options.translationRangeMm ?? [-30, 31];
  const points = options.targetPoints ?? drr.targetPoints();
  const strategy = options.strategy ?? 'robust';
  const pyramid = strategy === 'robust' ? pyramidLevels(drr, target, 3, { coarseRenderer: options.robust?.coarseRenderer }) : [];
  const runs: EvaluationRun[] = [];

  for (let index = 0; index < count; index++) {
    const rotation = Float64Array.from(truth.rotation, (value, axis) => value + random.uniform(-rotationRange[axis], rotationRange[axis]));
    const translation = Float64Array.from(truth.translation, (value) => value + random.uniform(translationLow, translationHigh));
    if (options.only && (index < options.only.first || index >= options.only.first + options.only.count)) continue;
    const start: PoseParameters = { rotation, translation, parameterization: 'euler_angles', convention: 'ZYX' };
    const initialError = poseError(trueTransform, poseFromParameters(start), drr.camera, points);
    const started = performance.now();
    let final: PoseParameters, converged: boolean, finalScore: number, iterations: number, reason: string;
    if (strategy === 'robust') {
      const result = yield* robustSteps(pyramid, start, options.robust);
      final = result.pose;
      finalScore = result.finalScore;
      converged = result.converged;
      reason = result.reason;
      iterations = result.iterations.candidates + result.iterations.refine;
    } else {
      const registration = new Registration(drr, rotation, translation);
      const result = yield* registerSteps(registration, target, createSimilarity('ncc'), {
        optimizer: 'adam', learningRateRotation: 1e-1, learningRateTranslation: 1e1, maxIterations: 250, stopScore: 0.999,
      });
      final = registration.snapshot();
      finalScore = result.finalLoss;
      converged = result.converged;
      reason = converged ? '' : `NCC ${result.finalLoss.toFixed(5)} did not pass 0.999 in ${result.trajectory.length} iterations`;
      iterations = result.trajectory.length;
    }
    const seconds = (performance.now() - started) / 1000;
    const run: EvaluationRun = {
      index,
      initialRotation: Array.from(rotation),
      initialTranslation: Array.from(translation),
      initialError,
      finalRotation: Array.from(final.rotation),
      finalTranslation: Array.from(final.translation),
      error: poseError(trueTransform, poseFromParameters(final), drr.camera, points),
      converged,
      reason,
      finalScore,
      iterations,
      seconds,
    };
    runs.push(run);
    options.onRun?.(run, index, count);
  }
  return { runs, summary: summarizeEvaluation(strategy, runs) };
}

/** The runs as CSV, one row per registration. */
export function evaluationCsv(runs: readonly EvaluationRun[]): string {
  const header = [
    'run', 'initial_alpha', 'initial_beta', 'initial_gamma', 'initial_bx', 'initial_by', 'initial_bz', 'initial_mtre_mm',
    'final_alpha', 'final_beta', 'final_gamma', 'final_bx', 'final_by', 'final_bz',
    'rotation_error_deg', 'translation_error_mm', 'mtre_mm', 'mpd_mm', 'converged', 'final_score', 'iterations', 'seconds', 'reason',
  ];
  const rows = runs.map((run) => [
    run.index, ...run.initialRotation, ...run.initialTranslation, run.initialError.mTRE,
    ...run.finalRotation, ...run.finalTranslation,
    run.error.rotationDegrees, run.error.translationMm, run.error.mTRE, run.error.mPD, run.converged, run.finalScore, run.iterations, run.seconds,
    `"${run.reason.replace(/"/g, '""')}"`,
  ].join(','));
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
