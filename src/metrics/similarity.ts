/**
 * The common interface of drrkit's image similarity scores, and the checks every score runs on its
 * inputs.
 *
 * Layout: an image is `height × width` numbers, row-major (`image[row * width + column]`); a batch
 * is several images back to back (`[image][row][column]`). Scores are to be MAXIMISED (NCC of an
 * image with itself ≈ 1), as DiffDRR uses them with `maximize=True`. Each score is computed in
 * float64 together with its analytic gradient d(score)/d(moving).
 */
import { DrrkitError } from '../errors.js';

/** Size of one image: `height` rows of `width` pixels. */
export interface ImageShape {
  readonly height: number;
  readonly width: number;
}

/** Per-image scores and d(score_b)/d(moving_b), laid out like `moving`. */
export interface SimilarityResult {
  score: Float64Array;
  gradient: Float64Array;
}

/**
 * An image similarity S(fixed, moving) to maximise, with its gradient ∂S/∂moving.
 *
 * `fixed` holds either one image (used against every moving image) or `batch` images;
 * `moving` holds `batch` images. Objects keep scratch buffers between calls, so create one per
 * registration and call it every iteration; they are not safe to share between concurrent callers.
 */
export interface Similarity {
  readonly name: string;
  /** S_b for each image b of the batch (higher = more similar). */
  score(fixed: ArrayLike<number>, moving: ArrayLike<number>, shape: ImageShape, batch?: number): Float64Array;
  /**
   * S_b and ∂S_b/∂moving_b. Pass `gradientOut` (length batch·height·width) to reuse an array; it is
   * overwritten and returned as `gradient`.
   */
  scoreWithGradient(
    fixed: ArrayLike<number>,
    moving: ArrayLike<number>,
    shape: ImageShape,
    batch?: number,
    gradientOut?: Float64Array,
  ): SimilarityResult;
}

/** Throws a DrrkitError unless every value of `values` is finite (checks NaN and ±Infinity). */
export function requireFiniteImage(values: ArrayLike<number>, what: string): void {
  // value·0 is 0 for finite values and NaN otherwise, so the sum stays 0 exactly when all are finite.
  let check = 0;
  for (let index = 0; index < values.length; index++) check += values[index] * 0;
  if (check === 0) return;
  for (let index = 0; index < values.length; index++) {
    if (!Number.isFinite(values[index])) {
      throw new DrrkitError(`${what} contains a non-finite value (${values[index]}) at index ${index}`, what);
    }
  }
}

/**
 * Checks a fixed/moving pair against `shape` and `batch` and returns the pixel count of one image.
 * Throws a DrrkitError for a bad shape or batch or a length mismatch. (Non-finite pixels are found
 * by `requireFiniteScores` after scoring, which costs nothing when all is well.)
 */
export function validateImagePair(
  fixed: ArrayLike<number>,
  moving: ArrayLike<number>,
  shape: ImageShape,
  batch: number,
): number {
  const { height, width } = shape;
  if (!Number.isInteger(height) || height < 1 || !Number.isInteger(width) || width < 1) {
    throw new DrrkitError(`image shape must be whole numbers ≥ 1, got ${height}×${width} (height×width)`, 'shape');
  }
  if (!Number.isInteger(batch) || batch < 1) {
    throw new DrrkitError(`batch must be a whole number ≥ 1, got ${batch}`, 'batch');
  }
  const pixels = height * width;
  if (moving.length !== batch * pixels) {
    throw new DrrkitError(
      `moving image has ${moving.length} values but ${batch} image(s) of ${height}×${width} need ${batch * pixels}`,
      'moving',
    );
  }
  if (fixed.length !== pixels && fixed.length !== batch * pixels) {
    throw new DrrkitError(
      `fixed image has ${fixed.length} values but ${height}×${width} needs ${pixels}` +
        (batch > 1 ? ` (one image) or ${batch * pixels} (${batch} images)` : ''),
      'fixed',
    );
  }
  return pixels;
}

/**
 * Every similarity turns a NaN or infinite pixel into a non-finite score; when a score is not
 * finite, this scans the inputs and throws a DrrkitError naming the bad pixel.
 */
export function requireFiniteScores(scores: Float64Array, fixed: ArrayLike<number>, moving: ArrayLike<number>): void {
  for (let image = 0; image < scores.length; image++) {
    if (Number.isFinite(scores[image])) continue;
    requireFiniteImage(fixed, 'fixed image');
    requireFiniteImage(moving, 'moving image');
    throw new Error(`similarity score ${scores[image]} from finite images (a bug)`);
  }
}

/** Returns `buffer` if it holds at least `length` values, else a new Float64Array of `length`. */
export function ensureLength(buffer: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  return buffer.length >= length ? buffer : new Float64Array(length);
}

/**
 * Base class: validates the inputs, loops over the batch and leaves one image pair to
 * `evaluateImage`, which returns S and ADDS ∂S/∂moving into `gradient` (already zeroed) when given.
 * `evaluateImage` must return a non-finite score when an input pixel is NaN or infinite.
 */
export abstract class ImageSimilarity implements Similarity {
  abstract readonly name: string;

  /** S(fixed_b, moving_b) for one pair; adds ∂S/∂moving_b at `movingOffset` of `gradient` if non-null. */
  protected abstract evaluateImage(
    fixed: ArrayLike<number>,
    fixedOffset: number,
    moving: ArrayLike<number>,
    movingOffset: number,
    shape: ImageShape,
    gradient: Float64Array | null,
  ): number;

  /** Checks options that depend on the image size (e.g. a patch larger than the image). */
  protected validateShape(_shape: ImageShape): void {}

  score(fixed: ArrayLike<number>, moving: ArrayLike<number>, shape: ImageShape, batch = 1): Float64Array {
    const pixels = validateImagePair(fixed, moving, shape, batch);
    this.validateShape(shape);
    const fixedStride = fixed.length === pixels ? 0 : pixels;
    const scores = new Float64Array(batch);
    for (let image = 0; image < batch; image++) {
      scores[image] = this.evaluateImage(fixed, image * fixedStride, moving, image * pixels, shape, null);
    }
    requireFiniteScores(scores, fixed, moving);
    return scores;
  }

  scoreWithGradient(
    fixed: ArrayLike<number>,
    moving: ArrayLike<number>,
    shape: ImageShape,
    batch = 1,
    gradientOut?: Float64Array,
  ): SimilarityResult {
    const pixels = validateImagePair(fixed, moving, shape, batch);
    this.validateShape(shape);
    if (gradientOut !== undefined && gradientOut.length !== moving.length) {
      throw new DrrkitError(
        `gradient output has ${gradientOut.length} values but the moving images have ${moving.length}`,
        'gradientOut',
      );
    }
    const gradient = gradientOut ?? new Float64Array(moving.length);
    gradient.fill(0);
    const fixedStride = fixed.length === pixels ? 0 : pixels;
    const scores = new Float64Array(batch);
    for (let image = 0; image < batch; image++) {
      scores[image] = this.evaluateImage(fixed, image * fixedStride, moving, image * pixels, shape, gradient);
    }
    requireFiniteScores(scores, fixed, moving);
    return { score: scores, gradient };
  }
}
