import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDetector, rayGridForPose, type RayGrid } from '../src/geometry/detector.js';
import { densityGridFromArray, type DensityGrid } from '../src/render/density-grid.js';
import { renderSiddon, renderSiddonWithRayGradients } from '../src/render/siddon.js';
import { renderTrilinear, renderTrilinearWithRayGradients } from '../src/render/trilinear.js';
import { eulerZYX, seededRandom } from './helpers.js';

/** A smooth volume: a few Gaussian blobs on a 40×36×30 grid of 2×2×2.5 mm voxels. */
function blobVolume(): DensityGrid {
  const shape = [40, 36, 30] as const, spacing = [2, 2, 2.5] as const;
  const data = new Float32Array(shape[0] * shape[1] * shape[2]);
  const blobs = [[30, 40, 35, 12, 1], [50, 30, 40, 8, 0.7], [45, 45, 30, 15, 0.4]];
  for (let k = 0; k < shape[2]; k++) for (let j = 0; j < shape[1]; j++) for (let i = 0; i < shape[0]; i++) {
    const x = (i + 0.5) * spacing[0], y = (j + 0.5) * spacing[1], z = (k + 0.5) * spacing[2];
    let value = 0;
    for (const [cx, cy, cz, s, a] of blobs) value += a * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) / (2 * s * s));
    data[i + shape[0] * (j + shape[1] * k)] = value;
  }
  return densityGridFromArray(data, shape, spacing);
}

type Forward = (grid: DensityGrid, rays: RayGrid, out: Float64Array) => void;
type WithGradient = (grid: DensityGrid, rays: RayGrid, out: Float64Array, gradients: Float64Array) => void;

/** Central differences of every pixel with respect to a (source and pixels moved together) and b (pixels moved). */
function finiteDifferences(grid: DensityGrid, rays: RayGrid, forward: Forward, step: number): Float64Array {
  const count = rays.height * rays.width;
  const result = new Float64Array(6 * count);
  const plus = new Float64Array(count), minus = new Float64Array(count);
  for (let component = 0; component < 6; component++) {
    const axis = component % 3, movesSource = component < 3;
    const shifted = (sign: number): RayGrid => {
      const source = Float64Array.from(rays.source), firstPixel = Float64Array.from(rays.firstPixel);
      if (movesSource) source[axis] += sign * step;
      firstPixel[axis] += sign * step;
      return { ...rays, source, firstPixel };
    };
    forward(grid, shifted(1), plus);
    forward(grid, shifted(-1), minus);
    for (let p = 0; p < count; p++) result[6 * p + component] = (plus[p] - minus[p]) / (2 * step);
  }
  return result;
}

function compare(grid: DensityGrid, forward: Forward, withGradient: WithGradient, step: number) {
  const detector = createDetector({ sdr: 150, height: 12, width: 10, delx: 5 });
  const random = seededRandom(3);
  const errors: number[] = [];
  for (let trial = 0; trial < 3; trial++) {
    const rotation = eulerZYX(random() * 6, random() * 2 - 1, random() * 6);
    const translation = Float64Array.of(40 + random() * 10, 36 + random() * 10, 37 + random() * 10);
    const rays = rayGridForPose(detector, { rotation, translation });
    const count = rays.height * rays.width;
    const image = new Float64Array(count), reference = new Float64Array(count);
    const gradients = new Float64Array(6 * count);
    withGradient(grid, rays, image, gradients);
    forward(grid, rays, reference);
    for (let p = 0; p < count; p++) assert.ok(Math.abs(image[p] - reference[p]) <= 1e-6 * Math.max(1, reference[p]), 'image differs from the forward pass');
    const numeric = finiteDifferences(grid, rays, forward, step);
    let scale = 0;
    for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]));
    for (let i = 0; i < numeric.length; i++) errors.push(Math.abs(gradients[i] - numeric[i]) / scale);
  }
  return errors.sort((a, b) => a - b);
}

describe('ray gradients', () => {
  test('trilinear: ∂I/∂a and ∂I/∂b match central differences within 1e-3 (relative to the largest)', () => {
    const grid = blobVolume();
    const errors = compare(
      grid,
      (g, r, o) => renderTrilinear(g, r, { stepMm: 0.7 }, o),
      (g, r, o, d) => renderTrilinearWithRayGradients(g, r, { stepMm: 0.7 }, o, d),
      1e-4,
    );
    assert.ok(errors[errors.length - 1] < 1e-3, `worst relative error ${errors[errors.length - 1]}`);
  });

  test('Siddon: the exact piecewise derivative matches central differences for 95% of components within 1e-3, and on average within 1e-3', () => {
    const grid = blobVolume();
    const errors = compare(
      grid,
      (g, r, o) => renderSiddon(g, r, o),
      (g, r, o, d) => renderSiddonWithRayGradients(g, r, o, d),
      1e-6,
    );
    const percentile95 = errors[Math.floor(errors.length * 0.95)];
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    assert.ok(percentile95 < 1e-3, `95th percentile relative error ${percentile95}`);
    assert.ok(mean < 1e-3, `mean relative error ${mean}`);
  });
});
