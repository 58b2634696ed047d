/**
 * A registration strategy that succeeds from poor starting poses, and says so honestly when it
 * does not: a global search on a coarse pyramid level, local refinement of the best few
 * candidates, then coarse-to-fine gradient ascent that stops when the pose stops moving (not at a
 * fixed NCC, which a real X-ray never reaches), with an acceptance test at the end.
 *
 *   level k: the volume's densities averaged 2ᵏ× and the detector binned 2ᵏ× (DRR.coarsened),
 *            the target binned the same way, so every level images the same field of view with
 *            the same poses — for every camera (seed C-arm or pinhole).
 *   1. search: score a grid of rotations (ZYX Euler, `searchStepDegrees` apart, over
 *      `rotationRangeDegrees` around the start) — optionally times a grid of translations — at
 *      the coarsest level;
 *   2. candidates: run a short Adam ascent from the `candidates` best grid points (kept at least
 *      one grid step apart) and rank them by the similarity they reach;
 *   3. refine: from the best candidate, Adam on each finer level with a decaying learning rate,
 *      until the pose changes by less than `rotationToleranceDegrees` / `translationToleranceMm`
 *      over `patience` iterations;
 *   4. accept: the result passes when its final similarity reaches `acceptScore` and the pose is
 *      plausible (the volume centre projects onto the detector, in front of the source). A result
 *      that fails is refined again from the next candidate (up to `refineCandidates` in all); the
 *      best final similarity wins, and if none passes the run is reported with
 *      `converged: false` and the reason.
 */
import { DRR, type AnyDRROptions } from '../drr.js';
import { DrrkitError } from '../errors.js';
import type { PoseParameters } from '../geometry/pose.js';
import { convertRotation } from '../geometry/rotation.js';
import { createSimilarity, type SimilarityName } from '../metrics/index.js';
import type { Similarity } from '../metrics/similarity.js';
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
 * The pyramid of a DRR for a target image: levels 2^(levels−1), …, 2, 1 (coarsest first), each
 * `drr.coarsened(2ᵏ)` with the target binned 2ᵏ×. Levels whose detector would have fewer than
 * 8 pixels on a side are left out.
 */
export function pyramidLevels(drr: DRR, fixed: ArrayLike<number>, levels = 3): PyramidLevel[] {
  const { height, width } = drr.camera;
  if (fixed.length !== height * width) throw new DrrkitError(`the target has ${fixed.length} pixels, the detector ${height}×${width}`, 'target');
  const result: PyramidLevel[] = [];
  for (let level = levels - 1; level >= 0; level--) {
    const factor = 2 ** level;
    const binned = binImage(fixed, height, width, factor);
    if (binned.height < 8 || binned.width < 8) continue; // too few pixels to be useful
    result.push({ factor, drr: drr.coarsened(factor), fixed: binned.data });
  }
  return result;
}

/** {@link pyramidLevels} of a new DRR of `volume` with `options` (any camera). */
export function buildPyramid(volume: Volume, options: AnyDRROptions, fixed: ArrayLike<number>, levels = 3): PyramidLevel[] {
  return pyramidLevels(new DRR(volume, options), fixed, levels);
}

/** Settings of {@link registerRobust}; every field has a default. */
export interface RobustOptions {
  /** Half-widths of the rotation search box around the start, ZYX Euler degrees (default the tutorial's 45, 60, 60). */
  rotationRangeDegrees?: [number, number, number];
  /** Spacing of the rotation grid, degrees (default 15). A range of 0, 0, 0 skips the rotation search. */
  searchStepDegrees?: number;
  /** Half-widths of a translation search around the start, in the pose's translation parameters, mm (default 0, 0, 0: none). */
  translationRangeMm?: [number, number, number];
  /** Spacing of the translation grid, mm (default 10). */
  translationStepMm?: number;
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
  /**
   * The final similarity a result needs to be accepted (default 0.995 for 'ncc' and
   * 'multiscale_ncc'; none for the other similarities, whose scale depends on the images). A
   * real X-ray's best NCC is lower than a DRR's: set it from registrations you trust.
   */
  acceptScore?: number;
  /** Candidates refined to the finest level before giving up (default 3). */
  refineCandidates?: number;
  /** Largest number of search renders (rotation × translation grid points) accepted (default 20 000). */
  maxSearchRenders?: number;
  /** Called after every refinement iteration (stage, level factor, record); return false to stop. */
  onIteration?: (stage: string, factor: number, record: IterationRecord) => void | boolean;
}

/** One refinement from a candidate to the finest level. */
export interface RobustAttempt {
  /** Rank of the candidate (0: the best after the coarse refinement). */
  candidate: number;
  /** Similarity at the attempt's final pose on the finest level. */
  finalScore: number;
  /** Whether the finest level ended because the pose settled. */
  settled: boolean;
  /** Whether the volume centre projects onto the detector in front of the source. */
  plausible: boolean;
  /** Whether it passed the acceptance test. */
  accepted: boolean;
}

/** What {@link registerRobust} found. */
export interface RobustResult {
  /** Final pose (the accepted attempt's, else the one with the best final similarity), in the parameterization of the start. */
  pose: PoseParameters;
  /** Similarity at the final pose on the finest level. */
  finalScore: number;
  /** Whether the result passed the acceptance test (similarity ≥ acceptScore and a plausible pose). */
  converged: boolean;
  /** Why it did not converge (empty when it did). */
  reason: string;
  /** The acceptance level used (null: none). */
  acceptScore: number | null;
  /** Iterations run per stage (search: renders). */
  iterations: { search: number; candidates: number; refine: number };
  /** Every refinement attempt, in order. */
  attempts: RobustAttempt[];
  /** Every refinement iteration, in order, with its stage and level. */
  trajectory: Array<IterationRecord & { stage: string; factor: number }>;
  /** Whether the finest level of the chosen attempt ended because the pose settled (not at its iteration limit). */
  settled: boolean;
  /** Wall time, seconds. */
  seconds: number;
}

const DEGREE = Math.PI / 180;

/** Evenly spaced offsets −range…+range, `step` apart, symmetric about 0. */
function offsets(range: number, step: number): number[] {
  if (!(range >= 0) || !Number.isFinite(range)) throw new DrrkitError(`search range must be a finite number ≥ 0, got ${range}`, 'search range');
  if (range === 0) return [0];
  if (!(step > 0) || !Number.isFinite(step)) throw new DrrkitError(`search step must be a finite number > 0, got ${step}`, 'search step');
  const count = Math.floor(range / step + 1e-9);
  return Array.from({ length: 2 * count + 1 }, (_, index) => (index - count) * step);
}

/** The default acceptance level of a similarity (null: none). */
export function defaultAcceptScore(similarity: SimilarityName): number | null {
  return similarity === 'ncc' || similarity === 'multiscale_ncc' ? 0.995 : null;
}

/**
 * Whether a pose is plausible for a DRR: the volume centre projects within the detector (grown by
 * half its size on each side) and lies between the source and the detector.
 */
export function plausiblePose(drr: DRR, pose: PoseParameters): boolean {
  try {
    const centre = drr.center;
    const rays = drr.worldRays(pose);
    const [row, column] = drr.project(pose, centre);
    const a = rays.source, f = rays.firstPixel;
    // The fraction of the way from the source to the detector plane, by distances along the principal direction.
    const toCentre = Math.hypot(centre[0] - a[0], centre[1] - a[1], centre[2] - a[2]);
    const toDetector = Math.hypot(f[0] - a[0], f[1] - a[1], f[2] - a[2]);
    const { height, width } = drr.camera;
    return Number.isFinite(row) && Number.isFinite(column)
      && row > -height / 2 && row < 1.5 * height && column > -width / 2 && column < 1.5 * width
      && toCentre < toDetector && inFront(rays, centre);
  } catch {
    return false;
  }
}

/** Whether a point lies on the detector's side of the source. */
function inFront(rays: ReturnType<DRR['worldRays']>, point: readonly number[]): boolean {
  const a = rays.source;
  const centreRow = (rays.height - 1) / 2, centreColumn = (rays.width - 1) / 2;
  const axis = [0, 1, 2].map((k) => rays.firstPixel[k] + centreRow * rays.rowStep[k] + centreColumn * rays.columnStep[k] - a[k]);
  return axis[0] * (point[0] - a[0]) + axis[1] * (point[1] - a[1]) + axis[2] * (point[2] - a[2]) > 0;
}

/**
 * Registers `pyramid` (coarsest level first) from `start` with the search → candidates →
 * coarse-to-fine → acceptance strategy described at the top of this file. The start may be in any
 * parameterization; the search and refinement run in ZYX Euler angles and the result is
 * converted back.
 */
export function registerRobust(pyramid: readonly PyramidLevel[], start: PoseParameters, options: RobustOptions = {}): RobustResult {
  if (pyramid.length === 0) throw new DrrkitError('registerRobust needs at least one pyramid level', 'pyramid');
  const started = performance.now();
  const isZyx = start.parameterization === 'euler_angles' && (start.convention ?? 'ZYX') === 'ZYX';
  const euler = isZyx ? Float64Array.from(start.rotation) : convertRotation(start.rotation, start.parameterization, 'euler_angles', start.convention ?? 'ZYX', 'ZYX');
  const similarityName = options.similarity ?? 'ncc';
  const similarity: Similarity = createSimilarity(similarityName);
  const acceptScore = options.acceptScore ?? defaultAcceptScore(similarityName);
  const coarse = pyramid[0];
  const finest = pyramid[pyramid.length - 1];
  const shapeOf = (level: PyramidLevel) => ({ height: level.drr.camera.height, width: level.drr.camera.width });
  const range = options.rotationRangeDegrees ?? [45, 60, 60];
  const step = options.searchStepDegrees ?? 15;
  const translationRange = options.translationRangeMm ?? [0, 0, 0];
  const translationStep = options.translationStepMm ?? 10;
  const zyx = (rotation: Float64Array, translation: ArrayLike<number>): PoseParameters =>
    ({ rotation, translation: Float64Array.from(translation), parameterization: 'euler_angles', convention: 'ZYX' });

  // 1. Global search over rotations (and translations, when asked) on the coarsest level.
  const alphas = offsets(range[0], step), betas = offsets(range[1], step), gammas = offsets(range[2], step);
  const shifts = [0, 1, 2].map((axis) => offsets(translationRange[axis], translationStep));
  const renders = alphas.length * betas.length * gammas.length * shifts[0].length * shifts[1].length * shifts[2].length;
  const maxRenders = options.maxSearchRenders ?? 20_000;
  if (renders > maxRenders) {
    throw new DrrkitError(`the search grid has ${renders} poses, more than the ${maxRenders} allowed: narrow the search ranges or widen the steps`, 'search range');
  }
  const grid: Array<{ rotation: Float64Array; translation: Float64Array; score: number; cell: number[] }> = [];
  const coarseShape = shapeOf(coarse);
  for (const da of alphas) for (const db of betas) for (const dg of gammas) {
    const rotation = Float64Array.of(euler[0] + da * DEGREE, euler[1] + db * DEGREE, euler[2] + dg * DEGREE);
    for (const sx of shifts[0]) for (const sy of shifts[1]) for (const sz of shifts[2]) {
      const translation = Float64Array.of(start.translation[0] + sx, start.translation[1] + sy, start.translation[2] + sz);
      const image = coarse.drr.render(zyx(rotation, translation));
      // Cells in units of grid steps, so that "neighbour" means one step in any of the six axes.
      grid.push({ rotation, translation, score: similarity.score(coarse.fixed, image, coarseShape)[0], cell: [da / step, db / step, dg / step, sx / translationStep, sy / translationStep, sz / translationStep] });
    }
  }
  grid.sort((a, b) => b.score - a.score);
  // Keep the best points that are not grid neighbours of a better one.
  const chosen: typeof grid = [];
  for (const point of grid) {
    if (chosen.length >= (options.candidates ?? 6)) break;
    if (chosen.every((other) => other.cell.some((value, axis) => Math.abs(value - point.cell[axis]) > 1 + 1e-9))) chosen.push(point);
  }

  // 2. Short local ascent from each candidate on the coarsest level; rank them by what they reach.
  const trajectory: RobustResult['trajectory'] = [];
  let candidateIterations = 0;
  const ranked: Array<{ rotation: Float64Array; translation: Float64Array; score: number }> = [];
  for (const candidate of chosen) {
    const registration = new Registration(coarse.drr, candidate.rotation, candidate.translation);
    const result = register(registration, coarse.fixed, {
      optimizer: 'adam', learningRateRotation: 3e-2, learningRateTranslation: 3,
      maxIterations: options.candidateIterations ?? 40, stopScore: Infinity, similarity,
    });
    candidateIterations += result.trajectory.length;
    const finalScore = similarity.score(coarse.fixed, registration.render(), coarseShape)[0];
    ranked.push({ rotation: result.rotation, translation: result.translation, score: finalScore });
  }
  ranked.sort((a, b) => b.score - a.score);

  // 3. Coarse-to-fine refinement from the best candidates, until one is accepted.
  const rotationTolerance = (options.rotationToleranceDegrees ?? 0.005) * DEGREE;
  const translationTolerance = options.translationToleranceMm ?? 0.01;
  const patience = options.patience ?? 5;
  const attempts: RobustAttempt[] = [];
  let refineIterations = 0, stopped = false;
  let best: { rotation: Float64Array; translation: Float64Array; score: number; settled: boolean; attempt: RobustAttempt } | null = null;
  const tries = Math.min(ranked.length, Math.max(1, options.refineCandidates ?? 3));
  for (let rank = 0; rank < tries && !stopped; rank++) {
    let rotation: Float64Array = ranked[rank].rotation, translation: Float64Array = ranked[rank].translation;
    let finalScore = ranked[rank].score, settled = false;
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
          trajectory.push({ ...record, stage: rank === 0 ? 'refine' : `refine ${rank + 1}`, factor: level.factor });
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
      finalScore = similarity.score(level.fixed, registration.render(), shapeOf(level))[0];
    }
    const plausible = plausiblePose(finest.drr, zyx(rotation, translation));
    const accepted = plausible && (acceptScore === null || finalScore >= acceptScore);
    const attempt: RobustAttempt = { candidate: rank, finalScore, settled, plausible, accepted };
    attempts.push(attempt);
    if (best === null || (accepted && !best.attempt.accepted) || (accepted === best.attempt.accepted && finalScore > best.score)) {
      best = { rotation, translation, score: finalScore, settled, attempt };
    }
    if (accepted) break;
  }
  const chosenResult = best!;
  let reason = '';
  if (!chosenResult.attempt.accepted) {
    if (stopped) reason = 'stopped before the result was accepted';
    else if (!chosenResult.attempt.plausible) reason = 'implausible pose: the volume centre does not project onto the detector in front of the source';
    else reason = `final similarity ${chosenResult.score.toFixed(5)} is below the acceptance level ${acceptScore} after ${attempts.length} candidate(s)`;
  }
  const outRotation = isZyx ? chosenResult.rotation : convertRotation(chosenResult.rotation, 'euler_angles', start.parameterization, 'ZYX', start.convention ?? 'ZYX');
  return {
    pose: { ...start, rotation: Float64Array.from(outRotation), translation: Float64Array.from(chosenResult.translation) },
    finalScore: chosenResult.score,
    converged: chosenResult.attempt.accepted,
    reason,
    acceptScore,
    iterations: { search: grid.length, candidates: candidateIterations, refine: refineIterations },
    attempts,
    trajectory,
    settled: chosenResult.settled,
    seconds: (performance.now() - started) / 1000,
  };
}
