/**
 * Refinement of a pose on one pyramid level with fewer and cheaper renders than the plain
 * Adam loop: optionally on a fixed random subset of the pixels (sparse rendering, as DiffPose
 * samples patches), and optionally by L-BFGS (second order, with a strong-Wolfe line search) on
 * a rescaled pose vector, stopping as soon as the pose has settled.
 */
import { DrrkitError } from '../errors.js';
import type { PoseParameters } from '../geometry/pose.js';
import { createOptimizer, LBFGS, type Evaluation } from '../optim/index.js';
import type { Similarity } from '../metrics/similarity.js';
import type { DRR } from '../drr.js';
import { evaluateRequest, runSynchronously, type PoseSteps } from './pose-requests.js';
import { seededRandom } from '../volume/shapes.js';

/** How {@link refineOnLevel} runs. */
export interface LevelRefinementOptions {
  /** 'adam' (first order, decaying steps) or 'lbfgs' (second order). */
  optimizer: 'adam' | 'lbfgs';
  /** Render only this many pixels, a fixed random subset (0 or ≥ the pixel count: every pixel). */
  pixels: number;
  /** Largest number of renders (with gradients). */
  maxRenders: number;
  /** Adam learning rates (radians, mm). */
  learningRateRotation: number;
  learningRateTranslation: number;
  /** Settled when the rotation moves less than this (radians)… */
  rotationTolerance: number;
  /** …and the translation less than this (mm)… */
  translationTolerance: number;
  /** …for this many consecutive iterations. */
  patience: number;
  /** Seed of the pixel subset. */
  seed: number;
  /** Called after every render with the pose it was made at and its score; return false to stop. */
  onRender?: (rotation: number[], translation: number[], score: number) => void | boolean;
}

/** What {@link refineOnLevel} reached. */
export interface LevelRefinementResult {
  rotation: Float64Array;
  translation: Float64Array;
  /** Whether it stopped because the pose settled (not at the render limit or by `onRender`). */
  settled: boolean;
  /** Whether `onRender` asked to stop. */
  stopped: boolean;
  /** Renders made. */
  renders: number;
}

/** A fixed pseudo-random subset of `count` of the pixels 0 … total − 1, ascending (mulberry32, seeded). */
export function pixelSubset(total: number, count: number, seed: number): Int32Array {
  if (count <= 0 || count >= total) return Int32Array.from({ length: total }, (_, index) => index);
  const order = Int32Array.from({ length: total }, (_, index) => index);
  const random = seededRandom(seed);
  for (let index = 0; index < count; index++) {
    const other = index + Math.floor(random() * (total - index));
    const swap = order[index]; order[index] = order[other]; order[other] = swap;
  }
  return order.slice(0, count).sort();
}

/** Radians are scaled by this (mm per radian, about a lever arm in a chest CT) for L-BFGS, so both halves of the pose vector move in mm. */
const ROTATION_SCALE = 100;

/**
 * Refines a ZYX pose on a level's DRR against its `fixed` image, maximising `similarity` over a
 * fixed pixel subset (see {@link LevelRefinementOptions}), rendering on the CPU. The similarity
 * must be a global one (NCC, MI) when a subset is used: the pixels are scored as one list.
 */
export function refineOnLevel(
  drr: DRR, fixed: ArrayLike<number>, rotation: ArrayLike<number>, translation: ArrayLike<number>, similarity: Similarity, options: LevelRefinementOptions,
): LevelRefinementResult {
  return runSynchronously(refineOnLevelSteps(drr, fixed, rotation, translation, similarity, options));
}

/**
 * {@link refineOnLevel} as a coroutine of pose requests (src/registration/pose-requests.ts), for
 * any backend: it yields one evaluate request per render.
 */
export function* refineOnLevelSteps(
  drr: DRR, fixed: ArrayLike<number>, rotation: ArrayLike<number>, translation: ArrayLike<number>, similarity: Similarity, options: LevelRefinementOptions,
): PoseSteps<LevelRefinementResult> {
  const total = drr.pixelCount;
  if (fixed.length !== total) throw new DrrkitError(`the target has ${fixed.length} pixels, the detector ${total}`, 'target');
  const sparse = options.pixels > 0 && options.pixels < total;
  const pixels = sparse ? pixelSubset(total, options.pixels, options.seed) : null;
  const fixedSubset = pixels === null ? fixed : Float32Array.from(pixels, (pixel) => fixed[pixel]);
  const pose: PoseParameters = { rotation: Float64Array.from(rotation), translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' };
  let renders = 0, stopped = false;

  /** Score and gradient at `pose` (one render with ray gradients). */
  function* evaluate(): PoseSteps<{ score: number; rotationGradient: Float64Array; translationGradient: Float64Array }> {
    if (!pose.rotation.every(Number.isFinite) || !pose.translation.every(Number.isFinite)) {
      throw new DrrkitError('the pose became non-finite during refinement', 'pose');
    }
    const evaluation = yield* evaluateRequest(drr, pose, fixedSubset, similarity, pixels);
    renders++;
    if (options.onRender?.(Array.from(pose.rotation), Array.from(pose.translation), evaluation.score) === false) stopped = true;
    return evaluation;
  }

  let settled = false;
  if (options.optimizer === 'lbfgs') {
    const x = Float64Array.of(
      pose.rotation[0] * ROTATION_SCALE, pose.rotation[1] * ROTATION_SCALE, pose.rotation[2] * ROTATION_SCALE,
      pose.translation[0], pose.translation[1], pose.translation[2],
    );
    // One L-BFGS iteration (a direction and its strong-Wolfe line search) per step; the
    // optimizer keeps its curvature pairs between steps. Settled when the pose moves less than
    // the tolerances over `patience` iterations (L-BFGS steps are large, so 1–2 suffice).
    const optimizer = new LBFGS([{ params: [x] }], {
      learningRate: 1, maxIterations: 1, maxEvaluations: 8, lineSearch: 'strong_wolfe', maximize: true,
      toleranceGradient: 0, toleranceChange: 0, historySize: 10,
    });
    // Each step starts by evaluating where the last one ended: answer that from the last render.
    let lastX: Float64Array | null = null, last: { loss: number; gradient: Float64Array } | null = null;
    function* closure(): PoseSteps<Evaluation> {
      if (lastX !== null && last !== null && lastX.every((value, index) => value === x[index])) return { loss: last.loss, gradients: [[Float64Array.from(last.gradient)]] };
      for (let axis = 0; axis < 3; axis++) { pose.rotation[axis] = x[axis] / ROTATION_SCALE; pose.translation[axis] = x[3 + axis]; }
      const result = yield* evaluate();
      const gradient = new Float64Array(6);
      for (let axis = 0; axis < 3; axis++) { gradient[axis] = result.rotationGradient[axis] / ROTATION_SCALE; gradient[3 + axis] = result.translationGradient[axis]; }
      lastX = Float64Array.from(x); last = { loss: result.score, gradient };
      return { loss: result.score, gradients: [[Float64Array.from(gradient)]] };
    }
    let still = 0;
    while (renders < options.maxRenders && !stopped) {
      const before = Float64Array.from(x);
      const step = optimizer.stepSteps();
      for (let next = step.next(); !next.done;) next = step.next(yield* closure());
      let rotationMove = 0, translationMove = 0;
      for (let axis = 0; axis < 3; axis++) {
        rotationMove = Math.max(rotationMove, Math.abs(x[axis] - before[axis]) / ROTATION_SCALE);
        translationMove = Math.max(translationMove, Math.abs(x[3 + axis] - before[3 + axis]));
      }
      still = rotationMove < options.rotationTolerance && translationMove < options.translationTolerance ? still + 1 : 0;
      if (still >= options.patience) { settled = true; break; }
    }
    for (let axis = 0; axis < 3; axis++) { pose.rotation[axis] = x[axis] / ROTATION_SCALE; pose.translation[axis] = x[3 + axis]; }
  } else {
    const optimizer = createOptimizer('adam', [
      { params: [pose.rotation], options: { learningRate: options.learningRateRotation } },
      { params: [pose.translation], options: { learningRate: options.learningRateTranslation } },
    ], { maximize: true });
    let still = 0, best = -Infinity, sinceBest = 0;
    const startRates = optimizer.groups.map((group) => group.options.learningRate);
    while (renders < options.maxRenders && !stopped) {
      const before = [...pose.rotation, ...pose.translation];
      const result = yield* evaluate();
      optimizer.step([[result.rotationGradient], [result.translationGradient]]);
      const rotationMove = Math.max(...[0, 1, 2].map((axis) => Math.abs(pose.rotation[axis] - before[axis])));
      const translationMove = Math.max(...[0, 1, 2].map((axis) => Math.abs(pose.translation[axis] - before[3 + axis])));
      still = rotationMove < options.rotationTolerance && translationMove < options.translationTolerance ? still + 1 : 0;
      if (still >= options.patience) { settled = true; break; }
      // Halve the steps when the score stops improving (ReduceLROnPlateau, patience 3); settled below 1/20.
      if (result.score > best + 1e-6) { best = result.score; sinceBest = 0; } else if (++sinceBest > 3) {
        sinceBest = 0;
        optimizer.groups.forEach((group) => { group.options.learningRate *= 0.5; });
        if (optimizer.groups.every((group, index) => group.options.learningRate < startRates[index] / 20)) { settled = true; break; }
      }
    }
  }
  return { rotation: pose.rotation, translation: pose.translation, settled, stopped, renders };
}
