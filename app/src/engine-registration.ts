/**
 * Registration in the engine worker, with progress and stop, for either strategy:
 *   - robust (the default): the library's pyramid + registerRobust (src/registration/strategy.ts):
 *     a rotation (and optionally translation) search around the start on the coarsest level,
 *     short ascents from the best grid points, coarse-to-fine refinement, and an acceptance test
 *     whose verdict — converged or not, and why — is reported as it is;
 *   - plain: one optimizer (Adam, SGD, L-BFGS) on the full-resolution DRR, resumable.
 * Both run on WebGPU when the engine's WebGPU check passed (registerRobustAsync with a
 * WebGPUPoseAnswerer, registerAsync), else synchronously in the engine on the CPU (the renders
 * spread over the library's render pool); `hooks.stopped()` is polled after every iteration and
 * every few search renders.
 */
import type { DRR } from '../../src/drr.js';
import { DrrkitError } from '../../src/errors.js';
import type { PoseParameters } from '../../src/geometry/pose.js';
import { createSimilarity } from '../../src/metrics/index.js';
import { register, registerAsync, type IterationRecord, type RegisterOptions } from '../../src/registration/register.js';
import { Registration } from '../../src/registration/registration.js';
import type { WebGPUDRR } from '../../src/render/webgpu/webgpu-drr.js';
import { pyramidLevels, registerRobust, registerRobustAsync, type RobustOptions, type RobustResult } from '../../src/registration/strategy.js';
import type { WebGPUPoseAnswerer } from '../../src/render/webgpu/webgpu-answerer.js';
import type { PoseMessage } from './geometry.js';
import type { ProgressRecord, RegisterSettings, RunSummary } from './protocol.js';

/** What a run reports while it goes. */
export interface RunHooks {
  /** A refinement (or plain) iteration; `image` is the DRR at that pose when the run had one at full resolution. */
  iteration(progress: ProgressRecord, image: Float32Array | null): void;
  /** Progress of the stages before refinement. */
  stage(stage: 'search' | 'candidates', done: number, total: number, score: number): void;
  /** True once the person pressed Stop. */
  stopped(): boolean;
}

/** ZYX pose parameters of a pose message. */
export function poseParameters(pose: PoseMessage): PoseParameters {
  return { rotation: Float64Array.from(pose.rotation), translation: Float64Array.from(pose.translation), parameterization: 'euler_angles', convention: 'ZYX' };
}

const message = (rotation: ArrayLike<number>, translation: ArrayLike<number>): PoseMessage =>
  ({ rotation: [rotation[0], rotation[1], rotation[2]], translation: [translation[0], translation[1], translation[2]] });

/**
 * The robust strategy from `start` on a three-level pyramid of `drr`, rendered by `answerer`
 * (WebGPU; destroyed at the end) or, when null, on the CPU.
 */
export async function runRobust(
  drr: DRR, target: Float32Array, start: PoseMessage, settings: RegisterSettings, hooks: RunHooks, answerer: WebGPUPoseAnswerer | null = null,
): Promise<Omit<RunSummary, 'workerChunks' | 'backend'>> {
  const range = settings.searchRangeDegrees, shift = settings.translationSearchMm;
  if (!(range >= 0) || !(settings.searchStepDegrees > 0) || !(shift >= 0)) {
    throw new DrrkitError('the search range and translation search must be ≥ 0 and the search step > 0', 'search');
  }
  const levels = pyramidLevels(drr, target, 3);
  let count = 0;
  const options: RobustOptions = {
    similarity: settings.similarity,
    rotationRangeDegrees: [range, range, range],
    searchStepDegrees: settings.searchStepDegrees,
    translationRangeMm: [shift, shift, shift],
    translationStepMm: Math.max(shift, 1),
    acceptScore: Number.isFinite(settings.acceptScore) ? settings.acceptScore : undefined,
    onProgress: (stage, done, total, score) => {
      hooks.stage(stage, done, total, score);
      return !hooks.stopped();
    },
    onIteration: (stage, factor, record) => {
      hooks.iteration({ stage, factor, record: { ...record, iteration: count++ } }, null);
      return !hooks.stopped();
    },
  };
  let result: RobustResult;
  try {
    result = answerer === null ? registerRobust(levels, poseParameters(start), options) : await registerRobustAsync(levels, poseParameters(start), answerer, options);
  } finally {
    await answerer?.destroy();
  }
  const stopped = hooks.stopped();
  const iterations = result.iterations.candidates + result.iterations.refine;
  return {
    strategy: 'robust',
    converged: result.converged,
    stopReason: result.converged ? 'converged' : stopped ? 'stopped' : 'not-accepted',
    reason: result.reason,
    iterations,
    finalScore: result.finalScore,
    seconds: result.seconds,
    iterationsPerSecond: iterations / result.seconds,
    pose: message(result.pose.rotation, result.pose.translation),
    stages: { ...result.iterations, attempts: result.attempts.length },
  };
}

/** A plain optimizer run, continuing `previous` when resuming. */
export class PlainRun {
  readonly registration: Registration<DRR> | Registration<WebGPUDRR>;
  /** Whether the run renders on WebGPU. */
  readonly onGpu: boolean;
  /** Iterations run so far (over resumes). */
  iterations = 0;

  constructor(drr: DRR, start: PoseMessage);
  constructor(drr: WebGPUDRR, start: PoseMessage, onGpu: true);
  constructor(drr: DRR | WebGPUDRR, start: PoseMessage, onGpu = false) {
    const format = { parameterization: 'euler_angles', convention: 'ZYX' } as const;
    this.registration = onGpu
      ? new Registration(drr as WebGPUDRR, start.rotation, start.translation, format)
      : new Registration(drr as DRR, start.rotation, start.translation, format);
    this.onGpu = onGpu;
  }

  /** Runs until convergence, the iteration limit or Stop. */
  async run(target: Float32Array, settings: RegisterSettings, hooks: RunHooks): Promise<Omit<RunSummary, 'workerChunks' | 'backend'>> {
    const remaining = settings.maxIterations - this.iterations;
    if (remaining < 1) throw new DrrkitError(`all ${settings.maxIterations} iterations have run; raise the iteration limit to resume`, 'iterations');
    const offset = this.iterations;
    let last: IterationRecord | null = null;
    const options: RegisterOptions = {
      optimizer: settings.optimizer,
      learningRateRotation: settings.learningRateRotation,
      learningRateTranslation: settings.learningRateTranslation,
      ...(settings.optimizer === 'sgd' ? { momentum: settings.momentum } : {}),
      similarity: createSimilarity(settings.similarity),
      maxIterations: remaining,
      stopScore: settings.stopScore,
      onIteration: (record, evaluation) => {
        last = { ...record, iteration: record.iteration + offset };
        this.iterations = last.iteration + 1;
        hooks.iteration({ stage: 'plain', factor: 1, record: last }, evaluation.image.slice());
        return !hooks.stopped();
      },
    };
    const result = this.onGpu
      ? await registerAsync(this.registration as Registration<WebGPUDRR>, target, options)
      : register(this.registration as Registration<DRR>, target, options);
    const converged = result.converged;
    return {
      strategy: 'plain',
      converged,
      stopReason: result.stopReason,
      reason: converged ? '' : result.stopReason === 'stopped' ? 'stopped' : result.stopReason === 'settled'
        ? `the pose settled at ${settings.similarity.toUpperCase()} ${result.finalLoss.toFixed(4)}, below the stop score ${settings.stopScore}`
        : `no convergence in ${this.iterations} iterations (stop score ${settings.stopScore})`,
      iterations: this.iterations,
      finalScore: result.finalLoss,
      seconds: result.seconds,
      iterationsPerSecond: result.iterationsPerSecond,
      pose: message(result.rotation, result.translation),
    };
  }
}
