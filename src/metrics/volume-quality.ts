/**
 * Quality of a reconstructed volume against the truth: PSNR and 3-D SSIM.
 */
import { DrrkitError } from '../errors.js';

function requireSameShape(truth: ArrayLike<number>, estimate: ArrayLike<number>, shape: readonly [number, number, number], what: string): void {
  const count = shape[0] * shape[1] * shape[2];
  if (truth.length !== count || estimate.length !== count) throw new DrrkitError(`${what}: volumes of ${truth.length} and ${estimate.length} values for ${shape.join('×')} voxels`);
}

/** The data range of the truth, max − min (the L of PSNR and SSIM when none is given). */
export function dataRange(values: ArrayLike<number>): number {
  let minimum = Infinity, maximum = -Infinity;
  for (let i = 0; i < values.length; i++) { if (values[i] < minimum) minimum = values[i]; if (values[i] > maximum) maximum = values[i]; }
  return maximum - minimum;
}

/** Peak signal-to-noise ratio in dB: 10·log₁₀(L² / MSE), L the truth's data range unless given. */
export function peakSignalToNoiseRatio(truth: ArrayLike<number>, estimate: ArrayLike<number>, range = dataRange(truth)): number {
  if (truth.length !== estimate.length) throw new DrrkitError(`PSNR: volumes of ${truth.length} and ${estimate.length} values`);
  let sum = 0;
  for (let i = 0; i < truth.length; i++) { const d = truth[i] - estimate[i]; sum += d * d; }
  const mse = sum / truth.length;
  return mse === 0 ? Infinity : 10 * Math.log10((range * range) / mse);
}

/** Options for {@link structuralSimilarity3d}. */
export interface SsimOptions {
  /** Side of the cubic window (odd, default 7). */
  window?: number;
  /** L (default: the truth's data range). */
  range?: number;
}

/**
 * Mean structural similarity (Wang et al. 2004) of two volumes, computed as
 * `skimage.metrics.structural_similarity` does by default for 3-D arrays: a uniform 7³ window,
 * sample (N−1) covariances, K₁ = 0.01, K₂ = 0.03, L the truth's data range, averaged over the
 * voxels whose window lies inside the volume.
 */
export function structuralSimilarity3d(truth: ArrayLike<number>, estimate: ArrayLike<number>, shape: readonly [number, number, number], options: SsimOptions = {}): number {
  requireSameShape(truth, estimate, shape, 'SSIM');
  const window = options.window ?? 7;
  if (!Number.isInteger(window) || window < 3 || window % 2 === 0) throw new DrrkitError(`SSIM: window must be an odd whole number ≥ 3, got ${window}`);
  const [nx, ny, nz] = shape;
  if (nx < window || ny < window || nz < window) throw new DrrkitError(`SSIM: a ${shape.join('×')} volume is smaller than the ${window}³ window`);
  const range = options.range ?? dataRange(truth);
  const c1 = (0.01 * range) ** 2, c2 = (0.03 * range) ** 2;
  const n = window ** 3, covarianceNorm = n / (n - 1);
  // Box sums of x, y, x², y², xy over every window, one axis at a time (valid windows only).
  const fields = [
    Float64Array.from(truth), Float64Array.from(estimate), new Float64Array(truth.length), new Float64Array(truth.length), new Float64Array(truth.length),
  ];
  for (let v = 0; v < truth.length; v++) {
    fields[2][v] = truth[v] * truth[v]; fields[3][v] = estimate[v] * estimate[v]; fields[4][v] = truth[v] * estimate[v];
  }
  const mx = nx - window + 1, my = ny - window + 1, mz = nz - window + 1;
  const boxed = fields.map((field) => boxSum(field, [nx, ny, nz], window));
  let total = 0;
  const count = mx * my * mz;
  for (let v = 0; v < count; v++) {
    const ux = boxed[0][v] / n, uy = boxed[1][v] / n;
    const vx = covarianceNorm * (boxed[2][v] / n - ux * ux);
    const vy = covarianceNorm * (boxed[3][v] / n - uy * uy);
    const vxy = covarianceNorm * (boxed[4][v] / n - ux * uy);
    total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return total / count;
}

/** Sums of `field` over every window³ box that fits, as an (n−w+1)³ array (i fastest). */
function boxSum(field: Float64Array, shape: [number, number, number], window: number): Float64Array {
  let current = field;
  let dims: [number, number, number] = [...shape];
  for (let axis = 0; axis < 3; axis++) {
    const out: [number, number, number] = [...dims];
    out[axis] = dims[axis] - window + 1;
    const next = new Float64Array(out[0] * out[1] * out[2]);
    const inStride = [1, dims[0], dims[0] * dims[1]][axis];
    for (let k = 0; k < out[2]; k++) {
      for (let j = 0; j < out[1]; j++) {
        for (let i = 0; i < out[0]; i++) {
          const base = i + dims[0] * (j + dims[1] * k);
          let sum = 0;
          for (let w = 0; w < window; w++) sum += current[base + w * inStride];
          next[i + out[0] * (j + out[1] * k)] = sum;
        }
      }
    }
    current = next;
    dims = out;
  }
  return current;
}
