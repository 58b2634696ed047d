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
 *      `rotationRangeDegrees` around the start) — optionally times a grid of translations — on
 *      the coarsest level coarsened `searchCoarsening`× more;
 *   2. candidates: run a short Adam ascent from the `candidates` best grid points (kept at least
 *      one grid step apart) and rank them by the similarity they reach;
 *   3. refine: from the best candidate, L-BFGS (or Adam) on each finer level, on at most
 *      `refinePixels` pixels per render (a fixed random subset), until the pose changes by less
 *      than `rotationToleranceDegrees` / `translationToleranceMm` over `patience` iterations;
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
import type { RendererName } from '../render/renderer.js';
import type { Volume } from '../volume/volume.js';
import { refineOnLevelSteps } from './level-refinement.js';
import { evaluateBatchRequest, renderRequest, runAsynchronously, runSynchronously, type AsyncPoseAnswerer, type PoseAnswerer, type PoseSteps } from './pose-requests.js';
import { registerSteps, registrationSteps, type IterationRecord, type RegistrationResult } from './register.js';
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

/** How {@link pyramidLevels} builds the coarse levels. */
export interface PyramidOptions {
  /**
   * Renderer of the levels coarser than the finest: 'joseph' (default) or 'same' (the DRR's
   * own). The finest level always keeps the DRR's renderer, so final similarities and the
   * acceptance test are those of the renderer asked for; the coarse levels only steer the
   * search and the first refinements. Joseph's image is a smooth function of the pose (one
   * bilinear sample per slice), so L-BFGS on it settles in fewer renders (measured, 30 starts:
   * coarse-level renders per registration 67 + 34 → 22 + 13 on the LIDC CT), and a Joseph
   * render of a small averaged volume is no slower than Siddon's. See docs/speed.md.
   */
  coarseRenderer?: RendererName | 'same';
}

/**
 * The pyramid of a DRR for a target image: levels 2^(levels−1), …, 2, 1 (coarsest first), each
 * `drr.coarsened(2ᵏ)` (rendered by `options.coarseRenderer`, default Joseph, except the finest)
 * with the target binned 2ᵏ×. Levels whose detector would have fewer than 8 pixels on a side
 * are left out.
 */
export function pyramidLevels(drr: DRR, fixed: ArrayLike<number>, levels = 3, options: PyramidOptions = {}): PyramidLevel[] {
  const { height, width } = drr.camera;
  if (fixed.length !== height * width) throw new DrrkitError(`the target has ${fixed.length} pixels, the detector ${height}×${width}`, 'target');
  const coarseRenderer = options.coarseRenderer ?? 'joseph';
  const result: PyramidLevel[] = [];
  for (let level = levels - 1; level >= 0; level--) {
    const factor = 2 ** level;
    const binned = binImage(fixed, height, width, factor);
    if (binned.height < 8 || binned.width < 8) continue; // too few pixels to be useful
    const renderer = factor === 1 || coarseRenderer === 'same' ? undefined : coarseRenderer;
    result.push({ factor, drr: drr.coarsened(factor, { renderer }), fixed: binned.data });
  }
  return result;
}

/** {@link pyramidLevels} of a new DRR of `volume` with `options` (any camera). */
export function buildPyramid(volume: Volume, options: AnyDRROptions, fixed: ArrayLike<number>, levels = 3, pyramidOptions: PyramidOptions = {}): PyramidLevel[] {
  return pyramidLevels(new DRR(volume, options), fixed, levels, pyramidOptions);
}

/** Search-level DRRs already built, per coarse DRR and coarsening (a pyramid serves many registrations). */
const searchDrrs = new WeakMap<DRR, Map<number, DRR>>();

/**
 * The level the global search renders on: `coarse` coarsened `coarsening`× more (volume and
 * detector; the target binned the same way, from `coarse.fixed` as it is now), its DRR built once
 * per coarse DRR; `coarse` itself when `coarsening` is 1 or the detector would have fewer than 8
 * pixels on a side.
 */
function searchLevelOf(coarse: PyramidLevel, coarsening: number): PyramidLevel {
  if (!Number.isInteger(coarsening) || coarsening < 1) throw new DrrkitError(`search coarsening must be a whole number ≥ 1, got ${coarsening}`, 'search coarsening');
  if (coarsening === 1) return coarse;
  const binned = binImage(coarse.fixed, coarse.drr.camera.height, coarse.drr.camera.width, coarsening);
  if (binned.height < 8 || binned.width < 8) return coarse;
  let built = searchDrrs.get(coarse.drr);
  if (built === undefined) searchDrrs.set(coarse.drr, built = new Map());
  let drr = built.get(coarsening);
  if (drr === undefined) built.set(coarsening, drr = coarse.drr.coarsened(coarsening));
  return { factor: coarse.factor * coarsening, drr, fixed: binned.data };
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
  /**
   * The search renders on the coarsest level coarsened this many times more (default 2: for the
   * tutorial's 100² detector and three levels, 12² pixels of an 8×-averaged volume; 1: on the
   * coarsest level itself). Measured over 30 starts on the example and LIDC CTs: the search
   * took 5× less time and every start still succeeded (docs/speed.md).
   */
  searchCoarsening?: number;
  /**
   * Renderer of the coarse pyramid levels, for the callers that build the pyramid from these
   * options (`evaluateRegistration`, `drrkit register` and `drrkit evaluate`); `registerRobust`
   * itself renders with the pyramid it is given. See {@link PyramidOptions.coarseRenderer}
   * (default 'joseph').
   */
  coarseRenderer?: RendererName | 'same';
  /** Grid points refined locally (default 6: with 3, 2 of 100 LIDC starts failed; see docs/joseph.md). */
  candidates?: number;
  /**
   * When none of the first `refineCandidates` is accepted: this many further grid points (not
   * neighbours of those tried) are refined locally and the best `refineCandidates` of them
   * refined to the finest level (default 6; 0: none). Costs time only in runs that would fail
   * (the head phantom, run 8 of seed 2026: 83° off at NCC 0.958 with the first six; with the
   * extra six and every attempt polished it ended at 0.07 mm).
   */
  extraCandidates?: number;
  /**
   * Iterations of each candidate's refinement on the coarsest level (default 10; 20 before the
   * speed round of docs/speed.md, where 10 kept every one of 100 starts on the example and LIDC
   * CTs successful and halved this stage's time).
   */
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
  /**
   * Polish: while an attempt's final similarity stays below this level (and at least
   * `polishFrom`), refine it again on the two finest levels with the learning rate restarted (up
   * to `polishPasses` times, keeping the better pose). Adam's decayed step can settle on a slope a
   * few degrees from the optimum (measured: NCC 0.99699 at 3.7° off on the head phantom, run 11
   * of seed 2026; one fresh pass reached 0.999997 at 0.05 mm mTRE). Default 0.999 for 'ncc' and
   * 'multiscale_ncc' (all 100 world-geometry runs on the example and LIDC CTs and all 20-run
   * evaluations of the LIDC variants ended above it: polishing leaves such runs as they were),
   * none for the other similarities.
   */
  polishScore?: number;
  /** Largest number of polish passes per attempt (default 2; 0 turns polishing off). */
  polishPasses?: number;
  /**
   * Attempts ending below this similarity are not polished: they sit in a wrong basin, which a
   * restart does not leave (default 0.99 for 'ncc' and 'multiscale_ncc'; measured wrong basins on
   * the head phantom ended at 0.954–0.958).
   */
  polishFrom?: number;
  /** Largest number of search renders (rotation × translation grid points) accepted (default 20 000). */
  maxSearchRenders?: number;
  /**
   * Optimizer of the coarse-to-fine refinement: 'lbfgs' (default: second order, strong-Wolfe
   * line search, src/registration/level-refinement.ts) or 'adam' (with a decaying learning rate;
   * with `refinePixels: 0` this is the earlier loop, `register` with a plateau schedule).
   */
  refineOptimizer?: 'adam' | 'lbfgs';
  /**
   * Pixels rendered per refinement render on levels that have more: a fixed random subset
   * (sparse rendering; default 1250, an eighth of a 100² image, half of a 50² one; 0 = every
   * pixel; 2500 before the speed round of docs/speed.md). Only for global
   * similarities (ncc, mi); the others use every pixel.
   */
  refinePixels?: number;
  /** Called after every refinement iteration (stage, level factor, record); return false to stop. */
  onIteration?: (stage: string, factor: number, record: IterationRecord) => void | boolean;
  /**
   * Called during the stages before refinement — every few search renders (`score`: the best so
   * far) and every candidate iteration (`score`: that iteration's similarity) — with the work done
   * and the total; return false to stop (the run then ends unaccepted, with the best pose so far).
   */
  onProgress?: (stage: 'search' | 'candidates', done: number, total: number, score: number) => void | boolean;
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
  return runSynchronously(robustSteps(pyramid, start, options));
}

/**
 * {@link registerRobust} with its renders made by `answerer` — the WebGPU backend's
 * (`WebGPUPoseAnswerer`), or any asynchronous one: the same search, candidates, coarse-to-fine
 * refinement, polish and acceptance test, awaiting each render. The search renders its grid in
 * batches of 16 poses (one submission each on a GPU).
 */
export function registerRobustAsync(pyramid: readonly PyramidLevel[], start: PoseParameters, answerer: AsyncPoseAnswerer | PoseAnswerer, options: RobustOptions = {}): Promise<RobustResult> {
  return runAsynchronously(robustSteps(pyramid, start, options), answerer);
}

/** Search poses rendered per request (and between progress reports). */
const SEARCH_BATCH = 16;

/**
 * The robust strategy as a coroutine of pose requests (src/registration/pose-requests.ts):
 * {@link registerRobust} answers them on the CPU, {@link registerRobustAsync} with any answerer.
 */
export function* robustSteps(pyramid: readonly PyramidLevel[], start: PoseParameters, options: RobustOptions = {}): PoseSteps<RobustResult> {
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
  const searchLevel = searchLevelOf(coarse, options.searchCoarsening ?? 2);
  const searchShape = shapeOf(searchLevel);
  const coarseShape = shapeOf(coarse);
  let stopped = false, bestSearchScore = -Infinity;
  const gridPoses: Array<{ rotation: Float64Array; translation: Float64Array; cell: number[] }> = [];
  for (const da of alphas) for (const db of betas) for (const dg of gammas) {
    const rotation = Float64Array.of(euler[0] + da * DEGREE, euler[1] + db * DEGREE, euler[2] + dg * DEGREE);
    for (const sx of shifts[0]) for (const sy of shifts[1]) for (const sz of shifts[2]) {
      const translation = Float64Array.of(start.translation[0] + sx, start.translation[1] + sy, start.translation[2] + sz);
      // Cells in units of grid steps, so that "neighbour" means one step in any of the six axes.
      gridPoses.push({ rotation, translation, cell: [da / step, db / step, dg / step, sx / translationStep, sy / translationStep, sz / translationStep] });
    }
  }
  const searchPixels = searchShape.height * searchShape.width;
  for (let first = 0; first < gridPoses.length && !stopped; first += SEARCH_BATCH) {
    const batch = gridPoses.slice(first, first + SEARCH_BATCH);
    const images = yield* renderRequest(searchLevel.drr, batch.map((point) => zyx(point.rotation, point.translation)));
    batch.forEach((point, index) => {
      const image = images.subarray(index * searchPixels, (index + 1) * searchPixels);
      const score = similarity.score(searchLevel.fixed, image, searchShape)[0];
      grid.push({ ...point, score });
      bestSearchScore = Math.max(bestSearchScore, score);
    });
    if (options.onProgress && options.onProgress('search', grid.length, renders, bestSearchScore) === false) stopped = true;
  }
  grid.sort((a, b) => b.score - a.score);
  // Keep the best points that are not grid neighbours of a better one.
  const chosen: typeof grid = [];
  /** Adds the next best grid points that are not neighbours of a chosen one, up to `limit` chosen in all; returns the new ones. */
  const choose = (limit: number): typeof grid => {
    const added: typeof grid = [];
    for (const point of grid) {
      if (chosen.length >= limit) break;
      if (chosen.every((other) => other.cell.some((value, axis) => Math.abs(value - point.cell[axis]) > 1 + 1e-9))) { chosen.push(point); added.push(point); }
    }
    return added;
  };
  choose(options.candidates ?? 6);

  // 2. Short local ascent from each candidate on the coarsest level; rank them by what they reach.
  const trajectory: RobustResult['trajectory'] = [];
  let candidateIterations = 0, candidateProgress = 0;
  const candidateTotal = chosen.length * (options.candidateIterations ?? 10);
  /**
   * The candidates' ascents, in lockstep: one evaluate-batch request per iteration for all of
   * them (one submission on a GPU), then one render request for their final poses. Each
   * candidate's Adam sees only its own evaluations, so every trajectory is the one it would have
   * run alone.
   */
  function* ascend(points: typeof grid): PoseSteps<Array<{ rotation: Float64Array; translation: Float64Array; score: number }>> {
    if (stopped || points.length === 0) return [];
    const runs = points.map((candidate) => {
      const registration = new Registration(coarse.drr, candidate.rotation, candidate.translation);
      const loop = registrationSteps(registration, coarse.fixed, {
        optimizer: 'adam', learningRateRotation: 3e-2, learningRateTranslation: 3,
        maxIterations: options.candidateIterations ?? 10, stopScore: Infinity, similarity,
        // A stop ends every candidate at the round in progress (its renders were made in one batch).
        onIteration: options.onProgress && ((record) => {
          if (!stopped && options.onProgress!('candidates', ++candidateProgress, candidateTotal, record.loss) === false) stopped = true;
          return !stopped;
        }),
      });
      return { registration, loop, next: loop.next() };
    });
    for (;;) {
      const active = runs.filter((run) => !run.next.done);
      if (active.length === 0) break;
      const evaluations = yield* evaluateBatchRequest(coarse.drr, active.map((run) => run.registration.pose), coarse.fixed, similarity);
      active.forEach((run, index) => { run.next = run.loop.next(evaluations[index]); });
    }
    const results = runs.map((run) => run.next.value as RegistrationResult);
    for (const result of results) candidateIterations += result.trajectory.length;
    const images = yield* renderRequest(coarse.drr, runs.map((run) => run.registration.snapshot()));
    const pixels = coarseShape.height * coarseShape.width;
    const reached = results.map((result, index) => ({
      rotation: result.rotation, translation: result.translation,
      score: similarity.score(coarse.fixed, images.subarray(index * pixels, (index + 1) * pixels), coarseShape)[0],
    }));
    return reached.sort((a, b) => b.score - a.score);
  }
  const ranked = yield* ascend(chosen);

  // 3. Coarse-to-fine refinement from the best candidates, until one is accepted.
  const rotationTolerance = (options.rotationToleranceDegrees ?? 0.005) * DEGREE;
  const translationTolerance = options.translationToleranceMm ?? 0.01;
  const patience = options.patience ?? 5;
  const attempts: RobustAttempt[] = [];
  let refineIterations = 0;
  let best: { rotation: Float64Array; translation: Float64Array; score: number; settled: boolean; attempt: RobustAttempt } | null = null;
  const refineCandidates = Math.max(1, options.refineCandidates ?? 3);
  let tries = Math.min(ranked.length, refineCandidates), widened = false;
  const polishScore = options.polishScore ?? (similarityName === 'ncc' || similarityName === 'multiscale_ncc' ? 0.999 : null);
  const polishPasses = options.polishPasses ?? 2;
  const polishFrom = options.polishFrom ?? (polishScore === null ? -Infinity : 0.99);
  for (let rank = 0; rank < tries && !stopped; rank++) {
    let rotation: Float64Array = ranked[rank].rotation, translation: Float64Array = ranked[rank].translation;
    let finalScore = ranked[rank].score, settled = false;
    let levels: readonly PyramidLevel[] = pyramid, pass = 0;
    let kept: { rotation: Float64Array; translation: Float64Array; finalScore: number; settled: boolean } | null = null;
    for (;;) {
    for (const level of levels) {
      if (stopped) break;
      const refineOptimizer = options.refineOptimizer ?? 'lbfgs', refinePixels = options.refinePixels ?? 1250;
      if (refineOptimizer === 'lbfgs' || refinePixels > 0) {
        const pixels = similarityName === 'ncc' || similarityName === 'mi' ? refinePixels : 0;
        const stage = rank === 0 ? 'refine' : `refine ${rank + 1}`;
        let iteration = 0;
        const started = performance.now();
        const result = yield* refineOnLevelSteps(level.drr, level.fixed, rotation, translation, similarity, {
          optimizer: refineOptimizer, pixels, maxRenders: options.maxIterationsPerLevel ?? 150,
          learningRateRotation: 1e-2 * Math.min(level.factor, 2), learningRateTranslation: 1 * Math.min(level.factor, 2),
          rotationTolerance, translationTolerance, patience: refineOptimizer === 'lbfgs' ? Math.min(patience, 2) : patience, seed: 2026 + level.factor,
          onRender: (rotationNow, translationNow, score) => {
            const record: IterationRecord = { iteration: iteration++, rotation: rotationNow, translation: translationNow, loss: score, seconds: (performance.now() - started) / 1000 };
            trajectory.push({ ...record, stage, factor: level.factor });
            if (options.onIteration?.('refine', level.factor, record) === false) { stopped = true; return false; }
          },
        });
        refineIterations += result.renders;
        settled = result.settled;
        rotation = result.rotation;
        translation = result.translation;
        // Only the last level's similarity is used (polish, acceptance): skip the others' renders.
        if (level === levels[levels.length - 1]) finalScore = similarity.score(level.fixed, yield* renderRequest(level.drr, [zyx(rotation, translation)]), shapeOf(level))[0];
        continue;
      }
      const registration = new Registration(level.drr, rotation, translation);
      let still = 0, previous: IterationRecord | undefined;
      const base = level.factor;
      const result = yield* registerSteps(registration, level.fixed, similarity, {
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
      finalScore = similarity.score(level.fixed, yield* renderRequest(level.drr, [registration.snapshot()]), shapeOf(level))[0];
    }
    // Polish (see RobustOptions.polishScore): a fresh pass over the two finest levels; the better pose is kept.
    if (kept !== null && kept.finalScore >= finalScore) {
      ({ rotation, translation, finalScore, settled } = kept);
      break; // no gain: another pass from the same pose would repeat this one
    }
    if (stopped || polishScore === null || finalScore >= polishScore || finalScore < polishFrom || pass >= polishPasses) break;
    kept = { rotation, translation, finalScore, settled };
    levels = pyramid.slice(-2);
    pass++;
    }
    const plausible = plausiblePose(finest.drr, zyx(rotation, translation));
    const accepted = plausible && (acceptScore === null || finalScore >= acceptScore);
    const attempt: RobustAttempt = { candidate: rank, finalScore, settled, plausible, accepted };
    attempts.push(attempt);
    if (best === null || (accepted && !best.attempt.accepted) || (accepted === best.attempt.accepted && finalScore > best.score)) {
      best = { rotation, translation, score: finalScore, settled, attempt };
    }
    if (accepted) break;
    if (rank === tries - 1 && !widened && (options.extraCandidates ?? 6) > 0 && !stopped) {
      // None accepted: widen to the next grid points (see RobustOptions.extraCandidates).
      widened = true;
      const more = yield* ascend(choose(chosen.length + (options.extraCandidates ?? 6)));
      ranked.push(...more);
      tries += Math.min(more.length, refineCandidates);
    }
  }
  if (best === null) {
    // Stopped before any refinement: the best pose found so far, scored on the coarsest level.
    const fallback = ranked[0] ?? grid[0] ?? { rotation: Float64Array.from(euler), translation: Float64Array.from(start.translation), score: NaN };
    const attempt: RobustAttempt = { candidate: 0, finalScore: fallback.score, settled: false, plausible: false, accepted: false };
    best = { rotation: fallback.rotation, translation: fallback.translation, score: fallback.score, settled: false, attempt };
  }
  const chosenResult = best;
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
