/**
 * A registration strategy that succeeds from poor starting poses: a global search on a coarse
 * pyramid level, local refinement of the best few candidates, then coarse-to-fine gradient
 * ascent that stops when the pose stops moving (not at a fixed NCC, which a real X-ray never
 * reaches).
 *
 *   level k: the volume downsampled 2ᵏ× and the detector binned 2ᵏ× (pixel size × 2ᵏ), the
 *            target binned the same way, so every level images the same field of view.
 *   1. search: score a grid of rotations (ZYX Euler, `searchStepDegrees` apart, over
 *      `rotationRangeDegrees` around the start) at the coarsest level;
 *   2. candidates: run a short Adam ascent from the `candidates` best grid points (kept at least
 *      one grid step apart), keep the best;
 *   3. refine: Adam on each finer level with a decaying learning rate, until the pose changes
 *      by less than `rotationToleranceDegrees` / `translationToleranceMm` over `patience`
 *      iterations.
 */
import { DRR, type DRROptions } from '../drr.js';
import { DrrkitError } from '../errors.js';
import type { PoseParameters } from '../geometry/pose.js';
import { convertRotation } from '../geometry/rotation.js';
import { createSimilarity, type SimilarityName } from '../metrics/index.js';
import type { Similarity } from '../metrics/similarity.js';
import { downsampleVolume } from '../volume/pyramid.js';
import type { Volume } from '../volume/volume.js';
import { register, type IterationRecord } from './register.js';
import { Registration } from './registration.js';

/** One level of a registration pyramid: a DRR and the target at that resolution. */
export interface PyramidLevel {
  /** Downsampling factor relative to the full resolution (1, 2, 4, …). */
  factor: number;
  /** The DRR generator at this level. */
  drr: DRR;
  /** The target image binned to this level's detector. */
  fixed: Float32Array;
}

/** Bins an image by `factor`×`factor` (averaging), dropping rows/columns that do not fill a bin. */
export function binImage(image: ArrayLike<number>, height: number, width: number, factor: number): { data: Float32Array; height: number; width: number } {
  const binnedHeight = Math.floor(height / factor), binnedWidth = Math.floor(width / factor);
  const data = new Float32Array(binnedHeight * binnedWidth);
  const scale = 1 / (factor * factor);
  for (let row = 0; row < binnedHeight; row++) for (let column = 0; column < binnedWidth; column++) {
    let sum = 0;
    for (let a = 0; a < factor; a++) for (let b = 0; b < factor; b++) sum += image[(row * factor + a) * width + column * factor + b];
    data[row * binnedWidth + column] = sum * scale;
  }
  return { data, height: binnedHeight, width: binnedWidth };
}

/**
 * Builds pyramid levels 2^(levels−1), …, 2, 1 (coarsest first). The detector of level k has
 * ⌊height/2ᵏ⌋ × ⌊width/2ᵏ⌋ pixels of 2ᵏ× the size, centred like the full detector when the full
 * size is divisible by 2ᵏ (otherwise the binned detector is shifted by the dropped half pixel
 * and the principal point is corrected for it).
 */
export function buildPyramid(volume: Volume, options: DRROptions, fixed: ArrayLike<number>, levels = 3): PyramidLevel[] {
  const height = options.height, width = options.width ?? options.height;
  const result: PyramidLevel[] = [];
  let coarseVolume = volume;
  const volumes: Volume[] = [volume];
  for (let level = 1; level < levels; level++) {
    coarseVolume = downsampleVolume(coarseVolume, 2);
    volumes.push(coarseVolume);
  }
  for (let level = levels - 1; level >= 0; level--) {
    const factor = 2 ** level;
    const binned = binImage(fixed, height, width, factor);
    if (binned.height < 8 || binned.width < 8) continue; // too few pixels to be useful
    const delx = options.delx * factor, dely = (options.dely ?? options.delx) * factor;
    // Dropping the last (height mod factor) rows moves the binned detector's centre by half of them.
    const rowShift = ((height % factor) / 2) * options.delx, columnShift = ((width % factor) / 2) * (options.dely ?? options.delx);
    const drr = new DRR(volumes[level], {
      ...options,
      height: binned.height,
      width: binned.width,
      delx,
      dely,
      y0: (options.y0 ?? 0) + rowShift,
      x0: (options.x0 ?? 0) + (options.reverseXAxis ? -columnShift : columnShift),
    });
    result.push({ factor, drr, fixed: binned.data });
  }
  return result;
}

/** Settings of {@link registerRobust}; every field has a default. */
export interface RobustOptions {
  /** Half-widths of the rotation search box around the start, ZYX Euler degrees (default the tutorial's 45, 60, 60). */
  rotationRangeDegrees?: [number, number, number];
  /** Spacing of the rotation grid, degrees (default 15). A range of 0, 0, 0 skips the search. */
  searchStepDegrees?: number;
  /** Grid points refined locally (default 6). */
  candidates?: number;
  /** Iterations of each candidate's refinement on the coarsest level (default 40). */
  candidateIterations?: number;
  /** Similarity to maximise (default 'ncc'). */
  similarity?: SimilarityName;
  /** Largest number of iterations per refinement level (default 150). */
  maxIterationsPerLevel?: number;
  /** Stop a level once the rotation moves less than this many degrees… (default 0.005) */
  rotationToleranceDegrees?: number;
  /** …and the translation less than this many mm (default 0.01)… */
  translationToleranceMm?: number;
  /** …for this many consecutive iterations (default 5). */
  patience?: number;
  /** Called after every refinement iteration (stage, level factor, record); return false to stop. */
  onIteration?: (stage: string, factor: number, record: IterationRecord) => void | boolean;
}

/** What {@link registerRobust} found. */
export interface RobustResult {
  /** Final pose, in the parameterization of the start. */
  pose: PoseParameters;
  /** Similarity at the final pose on the finest level. */
  finalScore: number;
  /** Iterations run per stage. */
  iterations: { search: number; candidates: number; refine: number };
  /** Every refinement iteration, in order, with its stage and level. */
  trajectory: Array<IterationRecord & { stage: string; factor: number }>;
  /** Whether the finest level ended because the pose settled (not at its iteration limit). */
  settled: boolean;
  /** Wall time, seconds. */
  seconds: number;
}

const DEGREE = Math.PI / 180;

/** Evenly spaced offsets −range…+range, `step` apart, symmetric about 0. */
function offsets(range: number, step: number): number[] {
  const count = Math.floor(range / step + 1e-9);
  return Array.from({ length: 2 * count + 1 }, (_, index) => (index - count) * step);
}

/**
 * Registers `pyramid` (coarsest level first) from `start` with the search → candidates →
 * coarse-to-fine strategy described at the top of this file. The start may be in any
 * parameterization; the search and refinement run in ZYX Euler angles and the result is
 * converted back.
 */
export function registerRobust(pyramid: readonly PyramidLevel[], start: PoseParameters, options: RobustOptions = {}): RobustResult {
  if (pyramid.length === 0) throw new DrrkitError('registerRobust needs at least one pyramid level', 'pyramid');
  const started = performance.now();
  const euler = start.parameterization === 'euler_angles' && (start.convention ?? 'ZYX') === 'ZYX'
    ? Float64Array.from(start.rotation)
    : convertRotation(start.rotation, start.parameterization, 'euler_angles', start.convention ?? 'ZYX', 'ZYX');
  const similarity: Similarity = createSimilarity(options.similarity ?? 'ncc');
  const coarse = pyramid[0];
  const shape = { height: coarse.drr.detector.height, width: coarse.drr.detector.width };
  const range = options.rotationRangeDegrees ?? [45, 60, 60];
  const step = options.searchStepDegrees ?? 15;

  // 1. Global search over rotations on the coarsest level.
  const grid: Array<{ rotation: Float64Array; score: number; cell: number[] }> = [];
  const alphas = offsets(range[0], step), betas = offsets(range[1], step), gammas = offsets(range[2], step);
  for (const da of alphas) for (const db of betas) for (const dg of gammas) {
    const rotation = Float64Array.of(euler[0] + da * DEGREE, euler[1] + db * DEGREE, euler[2] + dg * DEGREE);
    const image = coarse.drr.render({ rotation, translation: start.translation, parameterization: 'euler_angles', convention: 'ZYX' });
    grid.push({ rotation, score: similarity.score(coarse.fixed, image, shape)[0], cell: [da, db, dg] });
  }
  grid.sort((a, b) => b.score - a.score);
  // Keep the best points that are not grid neighbours of a better one.
  const chosen: typeof grid = [];
  for (const point of grid) {
    if (chosen.length >= (options.candidates ?? 6)) break;
    if (chosen.every((other) => other.cell.some((value, axis) => Math.abs(value - point.cell[axis]) > step + 1e-9))) chosen.push(point);
  }

  // 2. Short local ascent from each candidate on the coarsest level; keep the best.
  const trajectory: RobustResult['trajectory'] = [];
  let candidateIterations = 0;
  let best: { rotation: Float64Array; translation: Float64Array; score: number } = { rotation: chosen[0].rotation, translation: Float64Array.from(start.translation), score: -Infinity };
  for (const candidate of chosen) {
    const registration = new Registration(coarse.drr, candidate.rotation, start.translation);
    const result = register(registration, coarse.fixed, {
      optimizer: 'adam', learningRateRotation: 3e-2, learningRateTranslation: 3,
      maxIterations: options.candidateIterations ?? 40, stopScore: Infinity, similarity,
    });
    candidateIterations += result.trajectory.length;
    const finalScore = similarity.score(coarse.fixed, registration.render(), shape)[0];
    if (finalScore > best.score) best = { rotation: result.rotation, translation: result.translation, score: finalScore };
  }

  // 3. Coarse-to-fine refinement with a decaying learning rate, stopping when the pose settles.
  let rotation: Float64Array = best.rotation, translation: Float64Array = best.translation, finalScore = best.score, refineIterations = 0;
  const rotationTolerance = (options.rotationToleranceDegrees ?? 0.005) * DEGREE;
  const translationTolerance = options.translationToleranceMm ?? 0.01;
  const patience = options.patience ?? 5;
  let stopped = false, settled = false;
  for (const level of pyramid) {
    if (stopped) break;
    const registration = new Registration(level.drr, rotation, translation);
    let still = 0, previous: IterationRecord | undefined;
    const base = level.factor;
    const result = register(registration, level.fixed, {
      optimizer: 'adam', learningRateRotation: 1e-2 * Math.min(base, 2), learningRateTranslation: 1 * Math.min(base, 2),
      maxIterations: options.maxIterationsPerLevel ?? 150, stopScore: Infinity, similarity,
      plateau: { factor: 0.5, patience: 3, threshold: 1e-6, thresholdMode: 'abs', stopBelowFactor: 1 / 20 },
      onIteration: (record) => {
        trajectory.push({ ...record, stage: 'refine', factor: level.factor });
        if (options.onIteration?.('refine', level.factor, record) === false) { stopped = true; return false; }
        if (previous) {
          const rotationMove = Math.max(...record.rotation.map((value, axis) => Math.abs(value - previous!.rotation[axis])));
          const translationMove = Math.max(...record.translation.map((value, axis) => Math.abs(value - previous!.translation[axis])));
          still = rotationMove < rotationTolerance && translationMove < translationTolerance ? still + 1 : 0;
        }
        previous = record;
        return still < patience;
      },
    });
    refineIterations += result.trajectory.length;
    settled = result.stopReason === 'settled' || still >= patience;
    rotation = result.rotation;
    translation = result.translation;
    finalScore = similarity.score(level.fixed, registration.render(), { height: level.drr.detector.height, width: level.drr.detector.width })[0];
  }
  const outRotation = start.parameterization === 'euler_angles' && (start.convention ?? 'ZYX') === 'ZYX'
    ? rotation
    : convertRotation(rotation, 'euler_angles', start.parameterization, 'ZYX', start.convention ?? 'ZYX');
  return {
    pose: { ...start, rotation: Float64Array.from(outRotation), translation: Float64Array.from(translation) },
    finalScore,
    iterations: { search: grid.length, candidates: candidateIterations, refine: refineIterations },
    trajectory,
    settled,
    seconds: (performance.now() - started) / 1000,
  };
}
